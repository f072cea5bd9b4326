"""The progress display: for people at a terminal only, and only for work over a second."""

from __future__ import annotations

import pytest

from radiant_registry import log as log_module
from radiant_registry.log import EventLog


@pytest.mark.parametrize(
    ("fmt", "quiet"), [("text", True), ("json", False), ("json", True)]
)
def test_no_display_with_quiet_or_json_logs(monkeypatch, fmt, quiet):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert EventLog(fmt, quiet).live is False


def test_no_display_without_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert EventLog().live is False


def test_display_appears_only_after_the_delay(monkeypatch, capsys):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    clock = [100.0]
    monkeypatch.setattr(log_module.time, "monotonic", lambda: clock[0])
    events = EventLog()
    assert events.live is True
    clock[0] += 0.9
    events.progress("files read", 1, 500)  # within the first second: nothing shown
    events.stop_progress()
    assert "files read" not in capsys.readouterr().err

    clock[0] += 0.2
    events.progress("files read", 250, 500)
    events.progress("rows written", 10, 20)
    events.stop_progress()
    shown = capsys.readouterr().err
    assert "files read" in shown
    assert "rows written" in shown


def test_after_a_question_the_display_waits_for_a_second_of_work_again(monkeypatch, capsys):
    """Minutes at a prompt are no work: the display must not flash up at once after it,
    nor bring back the steps done before the question."""
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    clock = [100.0]
    monkeypatch.setattr(log_module.time, "monotonic", lambda: clock[0])
    events = EventLog()
    clock[0] += 5
    events.progress("files read", 16, 16)
    events.stop_progress()  # the plan is shown, the question asked
    assert "files read" in capsys.readouterr().err
    clock[0] += 300  # answered five minutes later
    events.paused()
    clock[0] += 0.5
    events.progress("rows written", 1, 10)
    events.stop_progress()
    assert capsys.readouterr().err == ""
    clock[0] += 1
    events.progress("rows written", 5, 10)
    events.stop_progress()
    shown = capsys.readouterr().err
    assert "rows written" in shown
    assert "files read" not in shown


def test_sync_without_a_terminal_shows_no_progress(cli, monkeypatch):
    monkeypatch.setattr(log_module, "PROGRESS_AFTER_S", 0.0)  # it would show at once,
    monkeypatch.setenv("FORCE_COLOR", "1")  # and rich would draw it on a pipe: only we refuse
    result = cli.sync()
    assert result.exit_code == 0
    for step in ("files read", "models planned", "rows written"):
        assert step not in result.stderr


class RecordedProgress(EventLog):
    """Keeps the last report of each step instead of showing it."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.steps: dict[str, tuple[int, int]] = {}

    def progress(self, step: str, done: int, total: int) -> None:
        self.steps[step] = (done, total)


def test_rows_written_reaches_its_total_with_retires(cli):
    from conftest import model_block, provider_path

    from radiant_registry import apply, db, loader, urls

    assert cli.sync().exit_code == 0
    path = provider_path(cli.data_dir, "xai")
    content = path.read_text()
    path.write_text(content.replace(model_block(content, "grok-2"), ""))
    log = RecordedProgress()
    engine = db.make_engine(urls.resolve_url(cli.database_url))
    try:
        with engine.connect() as conn:
            registry = loader.load_registry(cli.data_dir)
            result = apply.sync(conn, registry, apply.SyncOptions(prune=True), log)
    finally:
        engine.dispose()
    assert result.plan.summary["retire"] == 1
    changes = len(result.plan.changes)
    assert log.steps["rows written"] == (changes, changes)


def test_each_json_log_record_is_one_write_with_its_line_break(monkeypatch):
    """A signal is handled between two writes, never within one: a record written in two
    (print() writes its line break apart) could have the interruption's record glued on."""
    writes: list[str] = []

    class Recorder:
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr("sys.stderr", Recorder())
    events = EventLog("json")
    events.event("sync.start", "Starting sync", providers=None)
    events.error("stopped (SIGTERM)")
    assert len(writes) == 2 and all(w.endswith("}\n") and w.count("\n") == 1 for w in writes)
