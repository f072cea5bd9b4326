"""Progress and events of a command: readable lines for people, JSON lines for cron.

Everything goes to stderr, so that stdout carries only a command's result.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, Literal

from radiant_registry.printable import may_hold_password, redacted, redacted_values

LogFormat = Literal["text", "json"]


PROGRESS_AFTER_S = 1.0  # quick commands never flash a progress display


class EventLog:
    """Events of one command, and its progress display.

    The display is shown only for people: on a terminal, without --quiet or JSON logs,
    and only once the work has lasted a second.
    """

    def __init__(self, fmt: LogFormat = "text", quiet: bool = False) -> None:
        self.fmt = fmt
        self.quiet = quiet
        self.started = time.monotonic()
        self._working_since = self.started  # the display waits for a second of work
        self._steps: dict[str, tuple[int, int]] = {}  # step -> (done, total)
        self._display: Any = None  # a rich Progress, once shown
        self._tasks: dict[str, Any] = {}
        self.live = fmt == "text" and not quiet and sys.stderr.isatty()

    def progress(self, step: str, done: int, total: int) -> None:
        """Report how far a step is, e.g. ("files read", 120, 500)."""
        if not self.live:
            return
        self._steps[step] = (done, total)
        if self._display is None:
            if time.monotonic() - self._working_since < PROGRESS_AFTER_S:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            from radiant_registry.render import stderr

            self._display = Progress(
                TextColumn("{task.description:>14}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=stderr(),
                transient=True,
            )
            self._display.start()
        for name, (count, whole) in self._steps.items():
            if name not in self._tasks:
                self._tasks[name] = self._display.add_task(name, total=whole)
            self._display.update(self._tasks[name], completed=count, total=whole)

    def stop_progress(self) -> None:
        """Remove the display, before printing anything else or asking a question.

        A later `progress` call shows it again.
        """
        if self._display is not None:
            self._display.stop()
            self._display = None
            self._tasks.clear()

    def paused(self) -> None:
        """The command waited for an answer: that was no work, and what was shown before
        the question is done. The display waits for a second of work again."""
        self.stop_progress()
        self._steps.clear()
        self._working_since = time.monotonic()

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
        self.stop_progress()
        if self.machine:
            record = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "level": level,
                "event": name,
                "message": message,
                **fields,
            }
            # One write, line break included: a signal handled between print()'s two writes
            # would glue the next record (the interruption's) onto this line.
            # Every value redacted: one typed on the command line (a --provider that
            # swallowed `--database-url=postgresql://u:pw@…`) may hold a password. Read one
            # by one only where the whole record may hold one: a sync's 100,000 change
            # events, in a tenth of the time.
            text = json.dumps(record, default=str)
            # Read as the patterns read it: ASCII JSON escapes U+017F, which folds to an `s`.
            probe = json.dumps(record, default=str, ensure_ascii=False) if "\\u" in text else text
            if may_hold_password(probe):
                text = json.dumps(redacted_values(record), default=lambda o: redacted(str(o)))
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        else:
            from radiant_registry import render

            render.error(message) if level == "error" else render.info(message)
