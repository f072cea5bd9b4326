"""A strict YAML reader: plain data only, every problem with its line and column.

PyYAML's loaders construct whatever a file asks for and forgive a lot: duplicate keys
(the last one wins), anchors and aliases (a "billion laughs" file expands without
bound), tags, and YAML 1.1's implicit typing (`no` is False, `0755` is 493, `1:20`
is 80). This reader consumes the parser's event stream directly, so none of that is
ever constructed: it builds dicts, lists and scalars itself, refuses what a registry
file has no use for, and types plain scalars by a small, explicit grammar
(`yamlscalars`). Text in the plain subset of YAML that registry files are written in is
read several times faster by `yamlfast`, with the same result; anything else, and every
problem, comes here.

Reading is one pass with no recursion. Positions of values are collected only when
asked for (`positions=`): the loader asks for them only to place a schema problem, so
valid files pay nothing for them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml
from yaml.parser import Parser as _PyParser
from yaml.reader import Reader as _Reader
from yaml.scanner import Scanner as _Scanner

from radiant_registry import yamlfast
from radiant_registry.errors import quoted
from radiant_registry.yamlscalars import resolve_plain, yaml11_key


class PurePythonParser(_Reader, _Scanner, _PyParser):
    """PyYAML's own parser, for a PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        _Reader.__init__(self, stream)
        _Scanner.__init__(self)
        _PyParser.__init__(self)


_Parser: Any
try:  # libyaml's parser is several times faster; the pure-Python one gives the same events
    # for nearly all text (it ends a plain scalar in a flow collection at '?'; libyaml does not)
    # `yaml.CParser` does not exist (yaml/__init__ re-exports only cyaml's loaders).
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = PurePythonParser


MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 16  # a provider file needs 6 levels; libyaml has crashed on deep nesting

Loc = tuple[str | int, ...]  # keys and list indexes from the root to a value
Positions = dict[Loc, tuple[int, int]]


class YamlProblem(Exception):
    """A problem that stops reading a file, at a 1-based line and column."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


class _NoDocument(YamlProblem):
    """No YAML document in the file: it is empty, or holds only comments."""


_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)
# The depth check before parsing scans for flow collections. Outside them, a bracket
# opens one, and a quote a quoted string, only where a node starts: first in the
# document, or after ": " or "---", or after a "- " or "? " preceded on its line only by
# indentation and other indicators ("- ", "? ", an explicit value's ": "; later in a line,
# " - " is text), on its line or at the end of an earlier one (blank and comment lines
# between; a tab separates as a space does); a quoted key may also start a line.
# Elsewhere they are text in a plain scalar. Inside them, every bracket counts, and a
# quoted string follows a bracket, "," or ":". Quoted strings may span lines; one left
# open runs to the end of the file, so that no text is scanned twice.
_NODE_START = (
    r"(?:\A(?:[ ]*(?:\#[^\n]*)?\n)*+[ ]*"
    r"|(?:^[ ]*(?:[-?:][ \t]+)*[-?]|:|^---)"
    r"(?:[ \t]+|[ \t]*(?:(?<!\S)\#[^\n]*)?(?:\n[ ]*(?:\#[^\n]*)?)++))"
)
_QUOTED = r"""(?:"(?:[^"\\]|\\[\s\S])*+(?:"|\Z)|'(?:[^']|'')*+(?:'|\Z))"""
_COMMENT = r"(?<!\S)\#[^\n]*"
_BLOCK_TOKEN = re.compile(
    rf"{_NODE_START}(?:(?P<open>[\[{{])\s*{_QUOTED}?|{_QUOTED})|^[ ]*{_QUOTED}"
    rf"|{_COMMENT}(?:\n[ ]*\#[^\n]*)*",
    re.MULTILINE,
)
_FLOW_TOKEN = re.compile(
    rf"(?P<open>[\[{{])\s*{_QUOTED}?|(?P<close>[\]}}])|[,:]\s*{_QUOTED}?"
    rf"|{_COMMENT}(?:\n[ ]*\#[^\n]*)*"
)


def _decode(data: bytes) -> str:
    """The text of a file: bounded in size, UTF-8 without a byte order mark."""
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(1, 1, f"file is {len(data)} bytes, over the {MAX_FILE_BYTES} byte limit")
    if data.startswith(b"\xef\xbb\xbf"):
        raise YamlProblem(
            1, 1, "file starts with a byte order mark (BOM); save it as UTF-8 without one"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Columns count characters, as the parser's do; the text before the byte decodes.
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8")) + 1
        raise YamlProblem(line, column, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    return text


def _check_text(text: str) -> None:
    """Refuse what the parser would mis-report or not survive, before it sees the text."""
    tab = _TAB_INDENT.search(text)
    if tab:
        line = text.count("\n", 0, tab.start()) + 1
        column = tab.end() - tab.start()
        raise YamlProblem(line, column, "tab character in indentation; indent with spaces")
    odd = _ODD_LINE_BREAK.search(text)
    if odd:
        # libyaml ends a line at each of these, editors and this report do not: every line
        # number after it would be off by one.
        name = _ODD_LINE_BREAKS[odd.group()]
        message = f"{name} is a line break in YAML; end lines with LF or CRLF only"
        raise YamlProblem(*_position(text, odd.start()), message)
    _check_flow_depth(text)


_ODD_LINE_BREAKS = {
    "\r": "a carriage return (CR) not followed by LF",
    "\x85": "next line (NEL, U+0085)",
    "\u2028": "line separator (U+2028)",
    "\u2029": "paragraph separator (U+2029)",
}
_ODD_LINE_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _check_flow_depth(text: str) -> None:
    # Cheap bounds first: a file with few brackets cannot nest deeply, nor one whose
    # flow collections each open and close on one line. Only other files get the scan.
    if text.count("[") + text.count("{") <= MAX_DEPTH or _shallow_lines(text):
        return
    # The scan's patterns end lines with LF; without the CR of each CRLF, every line and
    # column before a line's end is where it was (`_check_text` refused a lone CR).
    _scan_flow_depth(text.replace("\r\n", "\n"))


def _scan_flow_depth(text: str) -> None:
    """The exact check: follow every flow collection, raise at the first one too deep."""
    depth = position = 0
    while token := (_FLOW_TOKEN if depth else _BLOCK_TOKEN).search(text, position):
        position = token.end()
        if token.lastgroup == "close":
            depth -= 1
        elif token.lastgroup == "open":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _position(text, token.start("open"))
                raise YamlProblem(line, column, f"nested deeper than {MAX_DEPTH} levels")


_BRACKET_LINE = re.compile(r"^[^\n\[\]{}]*[\[\]{}][^\n]*", re.MULTILINE)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _shallow_lines(text: str) -> bool:
    """True if every flow collection provably nests at most MAX_DEPTH deep.

    Sound when each line holding a bracket has no quote and no '#' (which could hide
    brackets) and its brackets form a balanced sequence: then no flow collection outlives
    its line, and none nests deeper than the line's bracket sequence does. Brackets that
    are only text in a plain scalar can only make the bound larger, never smaller.
    """
    for line in _BRACKET_LINE.findall(text):
        if '"' in line or "'" in line or "#" in line:
            return False
        if _sequence_depth(_NOT_BRACKET.sub("", line)) > MAX_DEPTH:
            return False
    return True


@lru_cache(maxsize=256)
def _sequence_depth(brackets: str) -> int:
    """The deepest nesting of a bracket sequence; a sequence that does not balance counts as
    too deep, which sends the file to the full scan."""
    depth = deepest = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        if depth < 0:
            return MAX_DEPTH + 1
        deepest = max(deepest, depth)
    return deepest if depth == 0 else MAX_DEPTH + 1


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of `text[index]`."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


_COMMENT_LINE = re.compile(r"^[ ]*#[^\n]*", re.MULTILINE)


def _at_end(text: str, mark: yaml.Mark | None) -> bool:
    """Whether `mark` is past the last character of `text` but for line breaks, spaces and
    comment lines."""
    if mark is None:
        return False
    lines = text.split("\n")
    rest = "\n".join(lines[mark.line :])[mark.column :] if mark.line < len(lines) else ""
    return not _COMMENT_LINE.sub("", rest).strip()


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError) -> YamlProblem:
    """The parser's complaint, placed where an editor should look."""
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or exc.context or "invalid YAML"
    opened = exc.context_mark
    if exc.context and opened:
        if exc.context == "while scanning a simple key" or _at_end(text, exc.problem_mark):
            # A key without its ':' is wrong on its own line, not on the next, where the
            # parser gave up; for a quote or bracket never closed, the end of the file says
            # nothing of where: the place it was opened does.
            mark, message = opened, f"{message} {exc.context} that starts here"
        elif mark is not None and opened.line != mark.line:
            where = f"line {opened.line + 1}, column {opened.column + 1}"
            message = f"{message} ({exc.context} that starts at {where})"
    line, column = _within_text(text, mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.split("\n")
    # A pasted no-break space looks like a space, so `key:\u00a0value` reads as one plain
    # scalar: the parser stumbles on that line or the next.
    for suspect in (line, line - 1):
        if suspect >= 1 and "\u00a0" in lines[suspect - 1]:
            message += (
                f"; line {suspect} holds a no-break space (U+00A0), which YAML takes for "
                "text, not for a space"
            )
            break
    return YamlProblem(line, column, f"invalid YAML: {message}")


def _within_text(text: str, line: int, column: int) -> tuple[int, int]:
    """A position on a line after the file's last character (where the parser marks the end
    of the stream) moved back to that character: an editor shows no such line."""
    last = len(text.rstrip()) - 1
    if last < 0:
        return 1, 1
    end = _position(text, last)
    return end if line > end[0] else (line, column)


def _mark(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    assert mark is not None  # both parsers mark every event; the stubs allow None
    return mark.line + 1, mark.column + 1


def read(data: bytes, positions: Positions | None = None, *, fast: bool = True) -> Any:
    """Read one YAML document of plain data from `data`.

    Raises `YamlProblem` for the first problem that makes the file unreadable. Duplicate
    keys and similar problems that leave the structure intact are collected and raised
    together as `YamlProblems`, with the problem that stopped the reading, if one did.
    Text in the plain subset that `yamlfast` reads is read by it, with the same result
    (unless `fast` is false, or positions are wanted).
    """
    text = _decode(data)
    if fast and positions is None:
        value = yamlfast.read(text)
        if value is not None:
            return value
    _check_text(text)
    problems: list[YamlProblem] = []
    parser = None
    try:
        # Inside the `try`: the pure-Python parser checks for control characters here.
        parser = _Parser(text)
        value = _build(parser, positions, problems)
        if positions is not None and () in positions:  # the null of a bare `---`, say
            positions[()] = _within_text(text, *positions[()])
        return value
    except yaml.reader.ReaderError as exc:
        # Its position counts bytes in libyaml and characters in PyYAML; the character
        # itself is unambiguous, and it is the first unacceptable one in the text.
        index = max(text.find(chr(exc.character)), 0)
        stop = YamlProblem(
            *_position(text, index),
            f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}",
        )
    except yaml.MarkedYAMLError as exc:
        stop = _syntax_problem(text, exc)
    except _NoDocument as exc:
        stop = exc if not text.strip() else YamlProblem(1, 1, "file holds only comments")
    except YamlProblem as exc:  # an anchor, a tag, too deep
        stop = exc
    finally:
        if parser is not None:
            parser.dispose()
    if problems:  # found before the reading stopped: every problem is reported
        raise YamlProblems([*problems, stop])
    raise stop


class YamlProblems(Exception):
    def __init__(self, problems: list[YamlProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _build(parser: Any, positions: Positions | None, problems: list[YamlProblem]) -> Any:
    scalar_event = yaml.ScalarEvent
    mapping_start = yaml.MappingStartEvent
    sequence_start = yaml.SequenceStartEvent
    collection_end = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    # Frames: [container, path, pending key or None, {("value" or "text", key): its mark},
    #          mark of the pending key]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    get_event = parser.get_event
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar_event or kind is mapping_start or kind is sequence_start:
            if event.anchor is not None:
                raise YamlProblem(*_mark(event), "anchors and aliases are not allowed")
            if event.tag is not None:
                raise YamlProblem(
                    *_mark(event), f"tags are not allowed (found {quoted(event.tag, limit=80)})"
                )
            if kind is scalar_event:
                # A plain scalar's style is None in PyYAML and "" in libyaml.
                value = event.value if event.style else resolve_plain(event.value)
            elif len(stack) >= MAX_DEPTH:
                raise YamlProblem(*_mark(event), f"nested deeper than {MAX_DEPTH} levels")
            else:
                value = {} if kind is mapping_start else []
            path: Loc = ()
            if not stack:
                root = value
                if positions is not None:
                    positions[path] = _mark(event)
            else:
                frame = stack[-1]
                container = frame[0]
                if type(container) is list:
                    if positions is not None:
                        path = (*frame[1], len(container))
                        positions[path] = _mark(event)
                    container.append(value)
                elif frame[2] is None:  # this event is a key
                    if kind is not scalar_event:
                        raise YamlProblem(*_mark(event), "keys must be plain strings")
                    _take_key(frame, event, problems)
                    continue
                else:
                    key = frame[2]
                    frame[2] = None
                    if type(key) is not _Discard:
                        container[key] = value
                    if positions is not None:
                        # A mapping entry is placed at its key, where a reader looks first.
                        path = (*frame[1], key)
                        positions[path] = (frame[4].line + 1, frame[4].column + 1)
            if kind is not scalar_event:
                stack.append([value, path, None, {}, None])
        elif kind in collection_end:
            stack.pop()
        elif kind is yaml.AliasEvent:
            raise YamlProblem(*_mark(event), "anchors and aliases are not allowed")
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise YamlProblem(*_mark(event), "only one YAML document is allowed per file")
        elif kind is yaml.StreamEndEvent:
            break
    if documents == 0:
        raise _NoDocument(1, 1, "file is empty")
    if problems:
        raise YamlProblems(problems)
    return root


def _take_key(frame: list[Any], event: yaml.ScalarEvent, problems: list[YamlProblem]) -> None:
    text = event.value
    mark = event.start_mark  # kept as is: a line and column are built only when needed
    plain = not event.style  # None in PyYAML, "" in libyaml
    if plain and text == "<<":
        problems.append(YamlProblem(*_mark(event), "merge keys (<<) are not allowed"))
    # Two keys collide if YAML 1.1 reads them as equal values (`1` and `true`), or if
    # they have the same text, since keys are stored as text (`"1"` and `1`).
    by_value = ("value", yaml11_key(text) if plain else text)
    by_text = ("text", text)
    seen = frame[3]
    first = seen.get(by_value) or seen.get(by_text)
    if first is not None:
        problems.append(
            YamlProblem(
                *_mark(event),
                f"duplicate key {quoted(text)} (first defined on line {first.line + 1})",
            )
        )
        # Keep the first value: the duplicate's value is read into a throwaway slot.
        frame[2] = _Discard(text)
        return
    seen[by_value] = seen[by_text] = mark
    frame[2] = text
    frame[4] = mark


class _Discard(str):
    """The key of a duplicate entry; its value is dropped, the problem is reported."""
