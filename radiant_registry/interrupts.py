"""Ctrl-C and SIGTERM as exceptions, held back while a transaction commits.

Python raises KeyboardInterrupt wherever the main thread is when Ctrl-C arrives; the CLI
makes SIGTERM (systemd's stop, timeout(1)) do the same with `Stopped`, so that both
unwind alike: the transaction rolled back, the run recorded, the workers ended. Raised
inside a commit (in SQLAlchemy's `finally` blocks), either would turn a committed
transaction into a traceback: between `hold` and `release` they wait for the commit.
"""

from __future__ import annotations

import signal
from types import FrameType

from radiant_registry.errors import Stopped

_holding = 0
_pending: list[KeyboardInterrupt] = []
_received: set[int] = set()


def install() -> None:
    """Handle Ctrl-C and SIGTERM in this process (the console script's, not a library's)."""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def stopped() -> bool:
    """Whether SIGTERM has been received: click's prompts turn it into an Abort."""
    return signal.SIGTERM in _received


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.add(signum)
    interruption = Stopped() if signum == signal.SIGTERM else KeyboardInterrupt()
    if _holding:
        _pending.append(interruption)
        return
    raise interruption


def hold() -> None:
    """From now until `release`, an interruption waits (for a commit to finish)."""
    global _holding
    _holding += 1


def release() -> None:
    """End a `hold`; raise the interruption that came meanwhile, if any."""
    global _holding
    _holding -= 1
    if not _holding and _pending:
        interruption = _pending[0]
        _pending.clear()
        raise interruption
