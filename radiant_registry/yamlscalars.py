"""How a scalar written without quotes is typed, the same for every reader of a file.

YAML 1.1 (PyYAML, and many tools an admin might use on these files) reads `no` as False,
`0755` as 493 and `1:20` as 80. Registry files are typed by a small, explicit grammar
instead: null, booleans, decimal integers and numbers, ISO dates, and text. Where that
grammar and YAML 1.1 disagree, the value becomes an `Ambiguous` and the schema rejects it
with a hint to quote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A plain scalar that YAML 1.1 parsers read as something other than its text."""

    text: str
    reading: str  # what a YAML 1.1 parser makes of it, e.g. "a boolean"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A plain scalar shaped like a number that this tool will not read exactly."""

    text: str
    reason: str  # e.g. "a number of 5000 characters (at most 40)"

    def __str__(self) -> str:
        return self.text


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
# The YAML 1.1 spellings exactly: "yEs" is a string there, as it is here.
_YAML11_BOOLS = frozenset(
    word
    for lower in ("y", "yes", "n", "no", "on", "off")
    for word in (lower, lower.capitalize(), lower.upper())
)
# Its length is bounded before it is tried (MAX_NUMBER_CHARS).
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOATS = {  # the YAML 1.1 and 1.2 spellings: ".iNf" is a string
    f"{sign}.{word}": Decimal(f"{sign or '+'}Infinity")
    for sign in ("", "+", "-")
    for word in ("inf", "Inf", "INF")
} | {f".{word}": Decimal("NaN") for word in ("nan", "NaN", "NAN")}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# YAML 1.2's core schema numbers (its spec's regular expressions), `+1e6`, `1.e3`, `.5e3`
# and `0o17` included, which YAML 1.1 parsers read as text.
_YAML12_NUMBER = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z|0o[0-7]+\Z|0x[0-9a-fA-F]+\Z"
)
MAX_NUMBER_CHARS = 40  # far beyond any real price or token count; bounds Decimal work
# Longer plain text is not typed as YAML 1.1 would: every field refuses text this long (at
# most 2000 characters), and PyYAML's base-60 patterns take memory in proportion to the
# text (1 GB for a 16 MB `1:1:1:…`).
MAX_TYPED_TEXT = 4096
_YAML11_TAG_NAMES = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a timestamp",
    "tag:yaml.org,2002:merge": "a merge key",
    "tag:yaml.org,2002:value": "a value key",
}
_yaml11 = yaml.resolver.Resolver()
# First characters for which YAML 1.1 has an implicit type (a None key would be a
# wildcard resolver, matching anything: then every string is checked).
_RESOLVER_FIRST = frozenset(
    _yaml11.yaml_implicit_resolvers
    if None not in _yaml11.yaml_implicit_resolvers
    else map(chr, range(0x110000))
)


def resolve_plain(text: str) -> Any:
    """Type a plain (unquoted) scalar: null, bool, int, Decimal, date, str, Ambiguous or
    Unreadable."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if first.isdigit() or first in "-+.":
        if len(text) > MAX_NUMBER_CHARS and _DECIMAL.match(text):
            return Unreadable(
                text, f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})"
            )
        if _INT.match(text):
            return int(text)
        if _DECIMAL.match(text):
            if ("e" in text or "E" in text) and _yaml11_tag(text) != _YAML11_FLOAT:
                # 1e3, 1.5e3: YAML 1.1's floats need a dot and a signed exponent (1.5e+3).
                return Ambiguous(text, "a string")
            try:
                return Decimal(text)
            except InvalidOperation:  # an exponent beyond the decimal module's range
                return Unreadable(text, "a number with an exponent out of range")
        if text in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[text]
        if _DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                return Ambiguous(text, "a date that does not exist")
    elif text in _YAML11_BOOLS:
        return Ambiguous(text, "a boolean")
    elif first not in _RESOLVER_FIRST:
        return text  # no YAML 1.1 implicit type starts with this character
    if len(text) > MAX_TYPED_TEXT:
        return text
    tag = _yaml11_tag(text)
    if tag != "tag:yaml.org,2002:str":
        return Ambiguous(text, _YAML11_TAG_NAMES.get(tag, "a non-string value"))
    if _YAML12_NUMBER.match(text):  # +1e6, 0o17: a number to YAML 1.2, text to YAML 1.1
        return Ambiguous(text, "a string")
    return text


_YAML11_FLOAT = "tag:yaml.org,2002:float"


def yaml12_number(text: str) -> int | Decimal | None:
    """The number YAML 1.2 reads in `text` (`Ambiguous(text, "a string")`), or None where
    the decimal module cannot hold it."""
    if text[:2] in ("0o", "0x"):
        return int(text[2:], 8 if text[1] == "o" else 16)
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@lru_cache(maxsize=4096)
def _yaml11_tag(text: str) -> str:
    # Cached: the same words (capabilities, modalities, categories) recur in every model.
    return str(_yaml11.resolve(yaml.ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


MAX_TYPED_KEY = 1024


@lru_cache(maxsize=1024)
def yaml11_key(text: str) -> object:
    """The value YAML 1.1 reads a plain key as: two keys with equal values collide.

    A key longer than libyaml allows a simple key (1024 characters) can only be an explicit
    `? key`, and no key of the format: it compares by its text. Reading it as YAML 1.1
    would cost time in the square of its length (1:1:1:... is a base-60 number)."""
    if len(text) > MAX_TYPED_KEY:
        return text
    tag = _yaml11_tag(text)
    if tag == "tag:yaml.org,2002:str":
        return text
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(yaml.ScalarNode(tag, text))
    except (yaml.YAMLError, ValueError, OverflowError):
        return text
    finally:
        loader.dispose()
    # Unhashable or unorderable constructs (NaN) compare by text.
    return value if value == value else text
