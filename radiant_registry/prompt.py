"""A yes/no question on the terminal that Ctrl-C or SIGTERM interrupts at once (POSIX).

click's prompt waits in `input()`, whose C code starts after the question is shown: a
signal that arrives in between is noted by Python but acted on only once the read
returns, at the next Enter (a scheduler's SIGTERM would wait for a keypress). Waiting in
`select()` with a short timeout returns to Python often enough to act on it.
"""

from __future__ import annotations

import os
import select
import sys

import typer

from radiant_registry.errors import Stopped, UsageError
from radiant_registry.interrupts import POLL_S


def require_terminal(to: str) -> None:
    """Refuse (64) where no one can answer: cron, a pipe, a CI job."""
    if not (sys.stdin and sys.stdin.isatty()):
        raise UsageError(f"no terminal to confirm on: pass --yes to {to}")


def confirm(question: str) -> bool:
    """Ask `question` on the terminal (stdin must be one), "no" unless answered y or yes.

    Ctrl-C and Ctrl-D raise `typer.Abort`, as click's prompt does ("Aborted.", exit 1);
    SIGTERM raises `Stopped`, as anywhere else."""
    fd = sys.stdin.fileno()
    try:
        while True:
            typer.echo(f"{question} [y/N]: ", nl=False)
            line = _read_line(fd)
            if line is None:  # Ctrl-D
                raise typer.Abort()
            answer = line.strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("", "n", "no"):
                return False
            typer.echo("Error: invalid input")
    except (KeyboardInterrupt, typer.Abort) as exc:
        typer.echo()  # what follows starts on a line of its own, not after the question
        if isinstance(exc, Stopped):
            raise
        raise typer.Abort() from None


def _read_line(fd: int) -> str | None:
    """The line typed (a terminal's read returns one line at a time), None at Ctrl-D."""
    while not select.select([fd], [], [], POLL_S)[0]:
        pass  # back in Python: a signal's handler runs here
    data = os.read(fd, 4096)
    return data.decode(sys.stdin.encoding or "utf-8", "replace") if data else None
