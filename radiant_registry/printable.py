"""Text that is safe to print: what the files and admins may not write, and how text from
elsewhere (a row edited by hand) is shown when it holds it anyway."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 and C1 controls, DEL: line breaks (NEL too) and terminal escapes (ESC, CSI); the line
# and paragraph separators, which split lines as well; and the bidirectional embeddings,
# overrides and isolates, which make text display in another order than it is written.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, 15.1): characters a
# font shows as nothing. Most are format characters or unassigned, which the category
# tests below catch too; listed whole, so that one assigned in a later Unicode is known.
# Plus the braille blank, which shows as a space.
# fmt: off
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x2800, 0x2800),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
# fmt: on
_IGNORABLE = frozenset(
    chr(code) for low, high in _IGNORABLE_RANGES for code in range(low, high + 1)
)


def _shows_nothing(char: str) -> bool:
    """Whether `char` shows as nothing, or as a space other than the plain one."""
    category = unicodedata.category(char)
    return (
        category in ("Cf", "Cs")  # format characters, surrogates
        or (category.startswith("Z") and char != " ")  # any space but a plain one
        or char in _IGNORABLE
    )


def invisible(char: str) -> bool:
    """Whether `char` shows as nothing, or may: the audit trail's test (`--by`), where a
    doubt refuses. Unassigned (to this Python's Unicode) and private-use characters are
    drawn by some fonts and not by others."""
    return _shows_nothing(char) or unicodedata.category(char) in ("Cn", "Co")


def blank(text: str) -> bool:
    """Whether `text` shows as nothing but spaces: empty, spaces, characters that show as
    nothing. A newer emoji (unassigned to this Python) or a private-use one is text."""
    return all(char.isspace() or _shows_nothing(char) for char in text)


def escaped(text: str) -> str:
    """`text` with each control character written as its escape (ESC as \\x1b): a value
    read from the database reaches the terminal as text, never as a command to it."""
    return CONTROL_CHARACTERS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable_name(name: str) -> str:
    """A file name on one line with no terminal escapes: every character that is not
    printable as a Python escape. Stricter than `escaped`: a POSIX name is bytes, and one
    that is not UTF-8 holds surrogates (`\\udce9`) that no terminal can print."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


# A password in a URL (`scheme://user:password@host`, or `scheme:/` as a file path makes
# of a URL given for a folder), as `urls.parse_url` reads one: from
# the user part's first `:` (a user may hold spaces and `@`, as Azure's `user@server`; not
# `/` nor `[`, so that neither `https://host/path: reason` nor an IPv6 host is taken for a
# user) to its `@`, and on over further `@`s (a password may hold `@`, spaces, `/`, `?`),
# but not over a `: `: a message follows a URL with `: ` and its reason, which may name
# `user@server` again. Not a `: ` itself, nor a port (`host:5432/db`, with no `@` after
# it before a space). Only a line's text up to its last `@` is searched, so that a search
# from each URL on a long line ends at that `@`: time linear in the line's length.
# In a query (`?password=`): up to the next parameter, the end of the line (or a `)`
# closing it, as click quotes an argument), a `: ` or a ` (` (as `Database: URL
# (--database-url)` says where the URL came from).
# Or libpq's `password=` / `sslpassword=` (quoted, it may hold spaces too).
_URL_PASSWORD = re.compile(
    r"((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:/{1,2}[^:/\[\n]{0,512}:)"
    r"(?! )(?!\d{1,5}(?:[/?#\"')][^\s@]*)?(?:\s|$))"
    r"[^@\n]*@(?:(?:(?!: )[^@\n])*@)*",
    re.IGNORECASE,
)
_QUERY_PASSWORD = re.compile(
    r"((?<=[?&])(?:ssl)?password=)[^&#\n]*?(?=[&#]|: | \(|\)?$)", re.IGNORECASE | re.MULTILINE
)
_PASSWORD_PARAMETER = re.compile(
    r"((?:ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|[^&\s)]*)", re.IGNORECASE
)


def may_hold_password(text: str) -> bool:
    """Whether `redacted` could find anything in `text` (a cheap test, most text passes).

    What each pattern above needs: an `@` or "password" in any case. `casefold` folds at
    least what the patterns' IGNORECASE does (U+017F to "s"), and is 20 times quicker than
    a search: a sync logs 100,000 change events.
    """
    return "@" in text or "password" in text.casefold()


def redacted(text: str) -> str:
    """`text` with every password it may quote replaced by `***`: for messages that echo
    what was typed (a usage error naming a stray argument) or an unexpected error's."""
    if not may_hold_password(text):
        return text
    text = "\n".join(map(_without_url_passwords, text.split("\n")))
    # The query's rule last: the keyword's stops at a space, so it masks what that left.
    return _QUERY_PASSWORD.sub(r"\1***", _PASSWORD_PARAMETER.sub(r"\1***", text))


def _without_url_passwords(line: str) -> str:
    end = line.rfind("@") + 1
    return _URL_PASSWORD.sub(r"\1***@", line[:end]) + line[end:] if end else line


def redacted_values(value: Any) -> Any:
    """`value` (a log record) with every string in it `redacted`, keys too: redacting the
    JSON text instead could take its quotes and commas along with a password."""
    if isinstance(value, str):
        return redacted(value)
    if isinstance(value, dict):
        return {redacted(str(k)): redacted_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted_values(item) for item in value]
    return value
