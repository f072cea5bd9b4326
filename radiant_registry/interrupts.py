"""Ctrl-C and SIGTERM as exceptions, and the moments when they must wait.

Python raises KeyboardInterrupt wherever the main thread is when Ctrl-C arrives; the CLI
makes SIGTERM (systemd's stop, timeout(1)) do the same with `Stopped`, so that both
unwind alike: the transaction rolled back, the run recorded, the workers ended. Two
moments must not be cut: a commit (raised inside SQLAlchemy's `finally` blocks, the
interruption turned a committed transaction into a traceback) and the forking of worker
processes (a worker forked with Python's own handler died of it, breaking the pool).
`held` defers them to the end of such a moment.
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


def install() -> None:
    """Handle Ctrl-C and SIGTERM in this process (the console script's, not a library's)."""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    interruption = Stopped() if signum == signal.SIGTERM else KeyboardInterrupt()
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
        signal.signal(signal.SIGINT, _exit_now)
        signal.signal(signal.SIGTERM, _exit_now)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    for stream in (sys.stdout, sys.stderr):  # what was said so far, not lost
        with suppress(Exception):
            stream.flush()
    os._exit(128 + signum)


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait for the end of the block, then are raised, also over an
    error of the block's (SQLite's commit, which waited for a reader, giving up): the
    stop asked for is what ended the run.

    SIGINT is handled here even where `install` was not called (a library's caller), so
    that forked workers inherit this handler; SIGTERM only where it has a Python handler
    (by default it ends the process on the spot, and is left so)."""
    global _holding
    previous = {}
    if threading.current_thread() is threading.main_thread():  # only it may set handlers
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signum == signal.SIGINT or callable(signal.getsignal(signum)):
                previous[signum] = signal.signal(signum, _on_signal)
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        for signum, handler in previous.items():  # None: set outside Python, not restorable
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        # SIGTERM first: the scheduler's stop outranks a Ctrl-C.
        waiting = [] if _holding else sorted(_pending, key=lambda i: not isinstance(i, Stopped))
        if not _holding:
            _pending.clear()
        if waiting:
            raise waiting[0]  # the block's error, if any, is its context
