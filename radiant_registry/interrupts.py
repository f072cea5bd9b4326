"""Ctrl-C, SIGTERM and SIGHUP as exceptions, and the moments when they must wait.

Python raises KeyboardInterrupt wherever the main thread is when Ctrl-C arrives; the CLI
makes SIGTERM (systemd's stop, timeout(1)) and SIGHUP (a terminal closed, an SSH session
dropped) do the same with `Stopped`, so that all unwind alike: the transaction rolled
back, the run recorded, the workers ended. Two moments must not be cut: a commit (raised
inside SQLAlchemy's `finally` blocks, the interruption turned a committed transaction
into a traceback) and the forking of worker processes (a worker forked with Python's own
handler died of it, breaking the pool). `held` defers them to the end of such a moment.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

from radiant_registry.errors import Stopped

# How long a wait in C (a terminal's read, SQLite's busy wait) may last before Python gets
# to act on a Ctrl-C or SIGTERM that arrived meanwhile.
POLL_S = 0.1

_holding = 0
_pending: list[KeyboardInterrupt] = []


_STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def install() -> None:
    """Handle Ctrl-C, SIGTERM and SIGHUP in this process (the console script's, not a
    library's), but one ignored when it started: `nohup` ignores SIGHUP, a shell ignores
    SIGINT for a job it starts in the background, so that neither ends it."""
    for signum in _STOPS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    interruption = (
        KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum == signal.SIGHUP)
    )
    if _holding:
        _pending.append(interruption)
        return
    raise interruption


def exiting() -> None:
    """From here on the process only ends: a Ctrl-C or SIGTERM ends it at once, with its
    status (130, 143). Raised, it would land in the interpreter's own clean-up, the join of
    the worker pool, and leave the process hanging there: the second Ctrl-C of an
    impatient user, or a scheduler's second SIGTERM."""
    if threading.current_thread() is threading.main_thread():
        for signum in _STOPS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, _exit_now)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    for stream in (sys.stdout, sys.stderr):  # what was said so far, not lost
        with suppress(Exception):
            stream.flush()
    os._exit(128 + signum)


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait for the end of the block, then are raised, also
    over an error of the block's (SQLite's commit, which waited for a reader, giving up):
    the stop asked for is what ended the run.

    Each is handled here where it has a Python handler, Python's own for SIGINT included
    where `install` was not called (a library's caller), so that forked workers inherit
    this handler; SIGTERM and SIGHUP end the process on the spot by default, and one
    ignored stays ignored: such are left so."""
    global _holding
    previous = {}
    if threading.current_thread() is threading.main_thread():  # only it may set handlers
        for signum in _STOPS:
            if callable(signal.getsignal(signum)):
                previous[signum] = signal.signal(signum, _on_signal)
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        for signum, handler in previous.items():  # None: set outside Python, not restorable
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        # SIGTERM or SIGHUP first: the scheduler's stop outranks a Ctrl-C.
        waiting = [] if _holding else sorted(_pending, key=lambda i: not isinstance(i, Stopped))
        if not _holding:
            _pending.clear()
        if waiting:
            raise waiting[0]  # the block's error, if any, is its context
