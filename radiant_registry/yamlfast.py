"""A fast reader for the plain, one-entry-per-line YAML that registry files are written in.

The strict reader turns libyaml's events into data: exact for any YAML, but each event
costs a Python object, and a provider file has about ten per line. Registry files use a
small part of YAML: block mappings and sequences with one entry per line, scalars on
one line (plain, or quoted without escapes), flow collections on one line, comments.
`read` reads exactly that part with one regular-expression match per line, and returns
None for any other text, so that the caller reads it with the strict reader instead.

It never reports a problem itself. Any text it is unsure of, valid or not, is outside
its part of YAML, so every error message, line and column comes from the strict reader.
Where it returns a value, that value is the strict reader's, type for type: plain
scalars are typed by the same `yamlscalars.resolve_plain`. `tests/test_yamlfast.py`
checks that on generated registries, the corpus and random text.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from radiant_registry.yamlscalars import resolve_plain, yaml11_key

# Every character but these is one libyaml accepts as printable: controls, DEL and C1
# controls (tab, CR and U+0085 too), the line breaks YAML 1.1 adds to "\n" (U+2028,
# U+2029), the byte order mark, surrogates and non-characters. Any of them in a line sends
# the file to the strict reader, which reports it or knows what it means.
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff"
# Plain scalars in a block: no "#" or ":" (they may end it); in a flow collection, also no
# flow indicator (, [ ] { }), no quote and no "?" (PyYAML's own parser ends a scalar there).
_BLOCK_CHAR = rf"[^{_CONTROL}\ \#:]"
_FLOW_CHAR = rf"[^{_CONTROL}\ \#:,\[\]{{}}\"'?]"
# A plain scalar may not start with an indicator; "-" may, before a letter, digit or ".".
_NOT_FIRST = r"(?![-?:,\[\]{}#&*!|>'\"%@`])"
_DASH_FIRST = r"-(?=[A-Za-z0-9.])"
# Inside a block plain scalar ":" is text when a non-space follows it, "#" when a non-space
# precedes it (" #" starts a comment), and a run of spaces when more of the scalar follows.
# (Possessive runs: the regular expression engine takes a run of text in one step.)
_BLOCK_BODY = rf"(?:{_BLOCK_CHAR}++|:(?={_BLOCK_CHAR})|(?<!\ )\#)"
_BLOCK_PLAIN = (
    rf"(?:{_NOT_FIRST}{_BLOCK_CHAR}|{_DASH_FIRST})(?:{_BLOCK_BODY}|\ ++(?={_BLOCK_BODY}))*+"
)
_FLOW_PLAIN = (
    rf"(?:{_NOT_FIRST}{_FLOW_CHAR}|{_DASH_FIRST})(?:{_FLOW_CHAR}++|\ ++(?={_FLOW_CHAR}))*+"
)
# Quoted scalars without escapes: no backslash in double quotes, quotes only as ''.
_DOUBLE_QUOTED = rf'"[^{_CONTROL}"\\]*"'
_SINGLE_QUOTED = rf"'(?:[^{_CONTROL}']|'')*'"
# Keys are identifiers; libyaml refuses a key longer than 1024 characters.
_KEY = r"[A-Za-z_][A-Za-z0-9_]{0,127}"
_COMMENT = rf"(?:(?<![^ \n])\#[^{_CONTROL}]*)?"

# One match per line, found for the whole text at once: nothing in a match crosses a line
# break, so the text is in the subset when every line has its match. Runs of spaces are
# possessive, and nothing they border starts with a space: a line that does not match fails
# in linear time, however many spaces it holds.
_LINES = re.compile(
    rf"""^(\ *+)  # indent
    (-\ (?!\ ))?  # dash
    (?:({_KEY}):(?=\ |$))?  # key
    \ *+
    (?:({_BLOCK_PLAIN})|({_DOUBLE_QUOTED})|({_SINGLE_QUOTED})|([\[{{][^\#\n]*+))?
    \ *+{_COMMENT}$""",
    re.VERBOSE | re.MULTILINE,
)
# The usual flow collections are read without the tokenizer: a list of plain scalars, and
# a mapping whose values are plain scalars or such lists. Splitting at "," is exact there,
# since no plain scalar in a flow collection holds one.
_ITEMS = rf"\ *+(?:{_FLOW_PLAIN}(?:\ *+,\ *+{_FLOW_PLAIN})*+)?\ *+"
_FLAT_LIST = re.compile(rf"\[({_ITEMS})\]\Z")
_ENTRY = rf"{_KEY}:\ ++(?:{_FLOW_PLAIN}|\[{_ITEMS}\])"
_FLAT_MAPPING = re.compile(rf"\{{\ *+(?:{_ENTRY}(?:\ *+,\ *+{_ENTRY})*+)?\ *+\}}\Z")
_FLAT_ENTRY = re.compile(rf"({_KEY}):\ ++(?:({_FLOW_PLAIN})|\[({_ITEMS})\])")
_FLOW_TOKEN = re.compile(
    rf"""\ *(?:(?P<mark>[\[\]{{}},])|(?P<key>{_KEY}):(?=\ )|(?P<plain>{_FLOW_PLAIN})
    |(?P<double>{_DOUBLE_QUOTED})|(?P<single>{_SINGLE_QUOTED})|(?P<other>.))""",
    re.VERBOSE,
)
# Provider files nest 6 deep; the strict reader's limit (16) is never reached here.
_MAX_NESTING = 10


class _Outside(Exception):
    """The text is not in the subset this reader handles."""


# Before 3.11.5, CPython's possessive repeat of a group that can backtrack matched wrongly
# (python/cpython#106052): "max_output_tokens: 4096  # note" read as "4096  ". There
# every file goes to the strict reader: slower, never wrong.
ENABLED = sys.version_info >= (3, 11, 5)


def read(text: str) -> Any | None:
    """The document in `text`, as the strict reader reads it; None if not in the subset."""
    if not ENABLED:
        return None
    try:
        return _read(text)
    except _Outside:
        return None


_NO_VALUE = object()  # a line that ends after its key or dash


def _read(text: str) -> Any:
    root: dict[str, Any] = {}
    # The innermost open block collection, with the column of its keys or dashes, and
    # the ones that enclose it.
    top_column = 0
    top: Any = root  # a mapping or a list
    enclosing: list[tuple[int, Any]] = []
    # A key whose value is not on its line: (its mapping, the key, its column).
    pending: tuple[dict[str, Any], str, int] | None = None
    lines = _LINES.findall(text)
    if len(lines) != text.count("\n") + 1:
        raise _Outside  # a line without its match
    # The same few values recur in every model of a file (types, categories, lists of
    # modalities and capabilities): each text is read once. Scalars are immutable and
    # shared; a collection is rebuilt for each use, so that no two places share one.
    scalars: dict[str, Any] = {}
    flows: dict[str, Any] = {}
    # Groups that took no part are "": no group that matched can be empty but the indent.
    for indent, dash, key, plain, double, single, flow in lines:
        if plain:
            value = scalars.get(plain, _NO_VALUE)
            if value is _NO_VALUE:
                value = scalars[plain] = resolve_plain(plain)
        elif flow:
            value = flows.get(flow, _NO_VALUE)
            if value is _NO_VALUE:
                value = flows[flow] = _value(None, None, None, flow)
            value = _fresh(value)
        elif double or single:
            value = _value(None, double or None, single or None, None)
        else:
            value = _NO_VALUE
        if not dash and not key:
            if value is _NO_VALUE:
                continue  # blank, or a comment
            raise _Outside  # a bare scalar: a continued scalar or a document that is one
        column = len(indent)
        if pending is not None:
            mapping, parent_key, parent_column = pending
            pending = None
            if column > parent_column:  # the value is the block that starts here
                nested: list[Any] | dict[str, Any] = [] if dash else {}
                mapping[parent_key] = nested
                enclosing.append((top_column, top))
                top_column, top = column, nested
            elif dash and column == parent_column:
                raise _Outside  # a sequence at its key's own column: valid, but rare
        while column < top_column:
            top_column, top = enclosing.pop()
        if column != top_column:
            raise _Outside
        if dash:
            if type(top) is not list:
                raise _Outside
            if not key:
                if value is _NO_VALUE:
                    raise _Outside
                top.append(value)
                continue
            item: dict[str, Any] = {}
            top.append(item)
            enclosing.append((top_column, top))
            top_column, top = column + 2, item
        elif type(top) is not dict:
            raise _Outside
        if len(enclosing) >= _MAX_NESTING:
            raise _Outside
        if key in top or yaml11_key(key) != key:
            raise _Outside  # a duplicate, or a key YAML 1.1 reads as another value
        if value is _NO_VALUE:
            top[key] = None  # unless a nested block follows
            pending = (top, key, top_column)
        else:
            top[key] = value
    if not root:
        raise _Outside  # empty, or comments only
    return root


def _fresh(value: Any) -> Any:
    """A copy of a flow collection's value: new lists and mappings, the same scalars."""
    if type(value) is list:
        return [_fresh(item) if type(item) in _COLLECTIONS else item for item in value]
    return {k: _fresh(item) if type(item) in _COLLECTIONS else item for k, item in value.items()}


_COLLECTIONS = (list, dict)


def _value(plain: str | None, double: str | None, single: str | None, flow: str | None) -> Any:
    if plain is not None:
        return resolve_plain(plain)
    if double is not None:
        return double[1:-1]
    if single is not None:
        return single[1:-1].replace("''", "'")
    assert flow is not None
    flow = flow.rstrip(" ")  # the spaces before a comment ("#" ends the flow text)
    flat = _FLAT_LIST.match(flow)
    if flat:
        return _plain_items(flat[1])
    if _FLAT_MAPPING.match(flow):
        mapping: dict[str, Any] = {}
        for key, plain_value, items in _FLAT_ENTRY.findall(flow):
            if key in mapping or yaml11_key(key) != key:
                raise _Outside
            mapping[key] = resolve_plain(plain_value) if plain_value else _plain_items(items)
        return mapping
    tokens = _FLOW_TOKEN.findall(flow)
    value, end = _flow(tokens, 0, 1)
    if end != len(tokens):
        raise _Outside
    return value


def _plain_items(items: str) -> list[Any]:
    return [resolve_plain(item.strip(" ")) for item in items.split(",")] if items.strip(" ") else []


_Token = tuple[str, str, str, str, str, str]


_CLOSING = {"[": "]", "{": "}"}


def _flow(tokens: list[_Token], index: int, depth: int) -> tuple[Any, int]:
    """One flow collection that starts at `tokens[index]`; its value and the next index."""
    opening = tokens[index][0]
    closing = _CLOSING.get(opening)
    if closing is None or depth > 3:
        raise _Outside
    collection: Any = [] if opening == "[" else {}
    index += 1
    if _at(tokens, index)[0] == closing:
        return collection, index + 1
    while True:  # entries, separated by "," (none after the last one)
        if opening == "[":
            value, index = _flow_node(tokens, index, depth)
            collection.append(value)
        else:
            key = _at(tokens, index)[1]
            if not key or key in collection or yaml11_key(key) != key:
                raise _Outside
            collection[key], index = _flow_node(tokens, index + 1, depth)
        mark = _at(tokens, index)[0]
        index += 1
        if mark == closing:
            return collection, index
        if mark != ",":
            raise _Outside


def _flow_node(tokens: list[_Token], index: int, depth: int) -> tuple[Any, int]:
    mark, _key, plain, double, single, _other = _at(tokens, index)
    if mark in ("[", "{"):
        return _flow(tokens, index, depth + 1)
    if plain or double or single:
        return _value(plain or None, double or None, single or None, None), index + 1
    raise _Outside


def _at(tokens: list[_Token], index: int) -> _Token:
    if index >= len(tokens):
        raise _Outside
    return tokens[index]
