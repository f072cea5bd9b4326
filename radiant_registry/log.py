"""Progress and events of a command: readable lines for people, JSON lines for cron.

Everything goes to stderr, so that stdout carries only a command's result.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]


class EventLog:
    def __init__(self, fmt: LogFormat = "text", quiet: bool = False) -> None:
        self.fmt = fmt
        self.quiet = quiet
        self.started = time.monotonic()

    @property
    def machine(self) -> bool:
        return self.fmt == "json"

    def event(self, name: str, message: str, **fields: Any) -> None:
        """An informational event: shown unless --quiet."""
        if not self.quiet:
            self._emit("info", name, message, fields)

    @property
    def details(self) -> bool:
        """Whether per-item events are wanted: in JSON logs only, people read the plan instead.

        Callers check it first, since building a hundred thousand events costs seconds.
        """
        return self.machine and not self.quiet

    def detail(self, name: str, message: str, **fields: Any) -> None:
        """A per-item event (one per change)."""
        if self.details:
            self._emit("info", name, message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._emit("error", "error", message, fields)

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def _emit(self, level: str, name: str, message: str, fields: dict[str, Any]) -> None:
        if self.machine:
            record = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "level": level,
                "event": name,
                "message": message,
                **fields,
            }
            print(json.dumps(record, default=str), file=sys.stderr, flush=True)
        else:
            from radiant_registry import render

            render.error(message) if level == "error" else render.info(message)
