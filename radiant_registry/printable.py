"""Text that is safe to print: what the files and admins may not write, and how text from
elsewhere (a row edited by hand) is shown when it holds it anyway."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL: line breaks (NEL too) and terminal escapes (ESC, CSI); the line
# and paragraph separators, which split lines as well; and the bidirectional embeddings,
# overrides and isolates, which make text display in another order than it is written.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escaped(text: str) -> str:
    """`text` with each control character written as its escape (ESC as \\x1b): a value
    read from the database reaches the terminal as text, never as a command to it."""
    return CONTROL_CHARACTERS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
