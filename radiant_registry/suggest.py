"""'Did you mean' hints for names a user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A suffix for an error message: ``; did you mean 'x'?`` or nothing.

    Case counts for nothing in the likeness (`ID` suggests `id`), but the suggestion is
    the choice as it is written."""
    by_folded = {choice.casefold(): choice for choice in choices}
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f"; did you mean {by_folded[matches[0]]!r}?" if matches else ""
