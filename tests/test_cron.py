"""Unattended runs: the README's crontab entry, the write lock between real processes, --quiet."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    SHIPPED_DATA,
    SHIPPED_MODELS,
    SHIPPED_ROWS,
    XAI_MODELS,
    dump_tables,
    on_a_terminal,
    provider_path,
    replace_once,
)
from sqlalchemy import text

from radiant_registry.db import LOCK_KEY, make_engine
from radiant_registry.urls import resolve_url

REPO = Path(__file__).resolve().parent.parent
REGISTRY = Path(sys.executable).parent / "registry"  # the installed console script


def lock_message(database_url: str, seconds: int = 1) -> str:
    # On PostgreSQL only syncs and migrations take the registry lock; on SQLite every
    # writer does.
    postgres = database_url.startswith("postgresql")
    holder = "another sync or migration" if postgres else "another sync or admin command"
    return f"{holder} holds the registry lock; gave up after {seconds}s (--lock-timeout)"


def crontab_command() -> str:
    """The command of the README's crontab entry, without its five schedule fields."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```crontab\n(.*?)^```", readme, re.S | re.M)
    assert block, "README.md has no crontab code block"
    [line] = [x for x in block.group(1).splitlines() if x.startswith("*/15")]
    fields = line.split(None, 5)
    assert fields[:5] == ["*/15", "*", "*", "*", "*"]
    return fields[5]


def run_registry(*argv: str, env: dict[str, str] | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`registry` in a process of its own, without a terminal and without the test's settings."""
    return subprocess.run(
        [str(REGISTRY), *argv], env=env or {"PATH": os.environ["PATH"]},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = make_engine(resolve_url(database_url))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def model_count(database_url: str) -> int:
    return query(database_url, "SELECT count(*) FROM models")[0][0]


def successful_runs(database_url: str) -> list[tuple[int, int, int, int]]:
    return query(database_url, "SELECT created, updated, retired, unchanged FROM sync_runs "
                               "WHERE outcome = 'success' ORDER BY id")


# --- the README's crontab entry -----------------------------------------------------------------


@pytest.fixture
def cron_job(tmp_path: Path, database_url: str) -> tuple[str, dict[str, str], Path, Path]:
    """The crontab command pointed at a temporary install: (command, env, log, lock file)."""
    home = tmp_path / "srv" / "radiant-registry"
    shutil.copytree(SHIPPED_DATA, home / "registry_data")
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".venv" / "bin" / "registry").symlink_to(REGISTRY)
    lock = tmp_path / "radiant-registry.lock"
    log = tmp_path / "log" / "radiant-registry.log"
    log.parent.mkdir()
    command = crontab_command()
    for old, new in [("/srv/radiant-registry", home), ("/tmp/radiant-registry.lock", lock),
                     ("/var/log/radiant-registry.log", log)]:
        assert old in command
        command = command.replace(old, shlex.quote(str(new)))
    # What cron gives a job: a minimal PATH, no terminal, and the crontab's variables.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh",
           "DATABASE_URL": database_url}
    return command, env, log, lock


def run_cron(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, cwd="/")


def log_events(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines, "the log is empty"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_readme_crontab_entry_syncs_and_logs_json_lines(cron_job, database_url):
    command, env, log, lock = cron_job
    first = run_cron(command, env)
    assert first.returncode == 0, first.stderr + log.read_text()
    assert (first.stdout, first.stderr) == ("", "")  # cron would mail anything printed
    events = log_events(log)
    assert events[0]["event"] == "sync.start"
    assert events[-1]["event"] == "sync.summary"
    assert {e["level"] for e in events} == {"info"}
    assert all(isinstance(e["ts"], str) and e["message"] for e in events)
    summary = events[-1]
    assert {k: summary[k] for k in ("created", "updated", "retired", "unchanged")} == {
        "created": SHIPPED_ROWS, "updated": 0, "retired": 0, "unchanged": 0}
    assert isinstance(summary["duration_s"], int | float)
    assert sum(1 for e in events if e["event"] == "change") == SHIPPED_ROWS
    assert model_count(database_url) == SHIPPED_MODELS

    second = run_cron(command, env)
    assert second.returncode == 0, log.read_text()
    events = log_events(log)
    assert [e["event"] for e in events].count("sync.start") == 2
    assert events[-1]["event"] == "sync.summary"
    assert (events[-1]["created"], events[-1]["unchanged"]) == (0, SHIPPED_ROWS)

    # flock -n -E 75 skips the run while a previous one still holds the file lock.
    lines_before = len(log.read_text().splitlines())
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        skipped = run_cron(command, env)
    assert skipped.returncode == 75  # a temporary failure, like a sync that finds the lock
    assert len(log.read_text().splitlines()) == lines_before
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0), (0, 0, 0, SHIPPED_ROWS)]


# --- the write lock -----------------------------------------------------------------------------


@contextmanager
def registry_lock_held(database_url: str) -> Iterator[None]:
    """Hold the lock a sync takes, from another connection, as a concurrent sync would."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import psycopg

    with psycopg.connect(database_url) as conn:  # a transaction begins with the first statement
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        try:
            yield
        finally:
            conn.rollback()


def test_sync_gives_up_with_75_while_another_holds_the_lock(cli, database_url, data_dir):
    assert cli.sync().exit_code == 0
    xai = data_dir / "providers" / "xai.yaml"
    source = xai.read_text(encoding="utf-8")
    assert source.count("input_per_1m: 3.00\n") == 1  # grok-3
    xai.write_text(source.replace("input_per_1m: 3.00\n", "input_per_1m: 3.10\n"))
    before = dump_tables(database_url)
    argv = ("sync", "--yes", "--lock-timeout", "1", "--data-dir", str(data_dir),
            "--database-url", database_url)

    with registry_lock_held(database_url):
        started = time.monotonic()
        blocked = run_registry(*argv)
        waited = time.monotonic() - started
    assert blocked.returncode == 75, blocked.stderr
    assert f"error: {lock_message(database_url)}" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert blocked.stdout == ""
    assert waited >= 1
    after = dump_tables(database_url)
    assert {k: v for k, v in after.items() if k != "sync_runs"} == {
        k: v for k, v in before.items() if k != "sync_runs"}
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0)]
    failed = query(database_url, "SELECT error FROM sync_runs WHERE outcome = 'failed'")
    if database_url.startswith("postgresql"):
        assert failed == [(lock_message(database_url),)]  # every run is recorded, failed ones too
    else:
        assert failed == []  # SQLite: the lock holder blocks writing the record as well

    released = run_registry(*argv)
    assert released.returncode == 0, released.stderr
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0), (0, 1, 0, SHIPPED_ROWS - 1)]
    [(price,)] = query(database_url, "SELECT input_per_1m FROM models "
                                     "WHERE provider_id = 'xai' AND model_id = 'grok-3'")
    assert str(price).rstrip("0") == "3.1"


def waiting_for_the_lock(
    database_url: str, proc: subprocess.Popen[str] | None = None
) -> None:
    """Return once a sync waits for the registry lock: PostgreSQL shows the waiter; on
    SQLite, process `proc` sleeps between tries of the lock (nothing else it does sleeps so:
    waiting for its workers is a futex). Where /proc does not say (no file, or only 0),
    give it a second."""
    deadline = time.monotonic() + 30
    if not database_url.startswith("postgresql"):
        wchan = Path(f"/proc/{proc.pid}/wchan") if proc is not None else None
        said: set[str] = set()
        while proc is not None and wchan is not None and wchan.exists():
            if proc.poll() is not None:
                return  # ended: the caller's next check says how
            said.add(wchan.read_text())
            if any("nanosleep" in text for text in said):
                return
            if said == {"0"} and time.monotonic() > deadline - 28:
                break  # a kernel that names no wait
            assert time.monotonic() < deadline, "the sync never came to wait for the lock"
            time.sleep(0.01)
        time.sleep(1)
        return
    while time.monotonic() < deadline:
        [(waiting,)] = query(database_url, "SELECT count(*) FROM pg_locks l JOIN pg_database d "
                             "ON d.oid = l.database WHERE d.datname = current_database() "
                             "AND l.locktype = 'advisory' AND NOT l.granted")
        if waiting >= 1:
            return
        time.sleep(0.05)
    raise AssertionError("no sync came to wait for the lock")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("argv", [
    ("upgrade",), ("downgrade", "base", "--yes"),
    ("downgrade", "base"),  # of an empty database: it checks the revision, asking nothing
])
def test_a_migration_waits_for_the_registry_lock(cli, database_url, argv):
    """A `db upgrade` racing a brand-new database's first sync would create the tables the
    sync creates ("relation already exists"); a downgrade would drop them under it."""
    if argv[-1] == "--yes":
        assert cli.sync().exit_code == 0
    tables = ("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
              "current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'")
    [(before,)] = query(database_url, tables)
    with registry_lock_held(database_url):
        migration = subprocess.Popen(
            [str(REGISTRY), "db", *argv, "--database-url", database_url],
            env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        waiting_for_the_lock(database_url)
        assert query(database_url, tables) == [(before,)]  # nothing done while it waits
    _, stderr = migration.communicate(timeout=60)
    assert migration.returncode == 0, stderr
    [(after,)] = query(database_url, tables)
    expected = {"upgrade": (0, 4), "--yes": (4, 0), "base": (0, 0)}[argv[-1]]
    assert (before, after) == expected, stderr


def test_a_downgrade_no_one_can_confirm_is_refused_before_waiting_for_the_lock(
    cli, database_url
):
    """Exit 64 at once, as the README says, not 75 after the lock's wait."""
    assert cli.sync().exit_code == 0
    with registry_lock_held(database_url):
        refused = run_registry("db", "downgrade", "base", "--database-url", database_url)
    assert refused.returncode == 64, refused.stderr
    assert "no terminal to confirm on: pass --yes to downgrade" in refused.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_row_locked_by_another_transaction_is_not_blamed_on_a_sync(cli, database_url, data_dir):
    """Past the registry lock, a write may wait for a row an admin (or a psql session)
    holds: the message says so, not that another sync runs."""
    import psycopg

    assert cli.sync().exit_code == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    with psycopg.connect(database_url) as other:
        other.execute("UPDATE models SET enabled = enabled WHERE provider_id = 'xai'")
        blocked = run_registry("sync", "--yes", "--lock-timeout", "1", "--data-dir",
                               str(data_dir), "--database-url", database_url)
        other.rollback()
    assert blocked.returncode == 75, blocked.stderr
    assert blocked.stderr.splitlines()[-1] == (
        "error: a row or table this sync writes is locked by another transaction; gave up "
        "after 1s (--lock-timeout)"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_disable_notes_a_retire_committed_while_it_waited_for_the_row(cli, database_url):
    """`disable` reads the model's state under its row lock: a prune that retired the model
    while the command waited is what it reports on."""
    import psycopg

    assert cli.sync().exit_code == 0
    with psycopg.connect(database_url) as other:
        other.execute("UPDATE models SET retired_at = now() "
                      "WHERE provider_id = 'xai' AND model_id = 'grok-2'")
        switch = subprocess.Popen(
            [str(REGISTRY), "disable", "xai/grok-2", "--reason", "old", "--database-url",
             database_url], env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not query(database_url, "SELECT 1 FROM pg_stat_activity WHERE datname = "
                        "current_database() AND wait_event_type = 'Lock'"):
            assert time.monotonic() < deadline, "disable never came to wait for the row"
            time.sleep(0.05)
        other.commit()
    _, stderr = switch.communicate(timeout=60)
    assert switch.returncode == 0, stderr
    assert stderr.splitlines()[-2:] == [
        "note: xai/grok-2 is retired (in no file now); the change holds should it come back",
        "Disabled xai/grok-2",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_holding_a_sqlite_commit_back_is_not_blamed_on_a_sync(
    cli, database_url, data_dir
):
    """SQLite's commit waits for readers of the file to finish: a long read (a report, a
    backup) is what the message names, not another sync."""
    assert cli.sync().exit_code == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    reader = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM models").fetchall()  # holds a shared lock
        blocked = run_registry("sync", "--yes", "--lock-timeout", "1", "--data-dir",
                               str(data_dir), "--database-url", database_url)
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert blocked.returncode == 75, blocked.stderr
    assert blocked.stderr.splitlines()[-1] == (
        "error: another connection is reading the database file; gave up after 1s "
        "(--lock-timeout)"
    )
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0)]


def test_a_large_sqlite_sync_waits_for_a_reader_no_longer_than_its_lock_timeout(tmp_path):
    """A write larger than SQLite's page cache used to spill to the file before the commit,
    each spill waiting out the reader (however long it read) and keeping new readers out."""
    data_dir = generated(tmp_path / "registry", models=20_000, files=10)
    path = tmp_path / "registry.db"
    argv = ("sync", "--yes", "--lock-timeout", "1", "--data-dir", str(data_dir),
            "--database-url", f"sqlite:///{path}")
    assert run_registry(*argv).returncode == 0
    for file in (data_dir / "providers").glob("*.yaml"):  # every model's price: ~2,000 pages
        file.write_text(re.sub(r"input_per_1m: (\d+)",
                               lambda m: f"input_per_1m: {int(m[1]) + 1}", file.read_text()))
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM models").fetchall()  # holds a shared lock
    run = subprocess.Popen([str(REGISTRY), *argv], env={"PATH": os.environ["PATH"]},
                           stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        err = "still waiting for the reader after 30 s"
    finally:
        reader.execute("ROLLBACK")
        reader.close()
        run.wait(timeout=60)
    assert run.returncode == 75, err
    assert err.splitlines()[-1] == (
        "error: another connection is reading the database file; gave up after 1s "
        "(--lock-timeout)"
    )


STOPPED_BY = {143: "stopped (SIGTERM)", 130: "interrupted (Ctrl-C)",
              129: "stopped (SIGHUP: the terminal closed)"}


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                              (signal.SIGHUP, 129)])
def test_a_sync_waiting_for_the_lock_stops_at_once(cli, database_url, data_dir, signum, code):
    """SQLite waits for a lock in C, where Python cannot act on a signal: one long wait
    held a scheduler's stop back for all of --lock-timeout."""
    assert cli.sync().exit_code == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    argv = [str(REGISTRY), "sync", "--yes", "--lock-timeout", "60", "--data-dir", str(data_dir),
            "--database-url", database_url]
    with registry_lock_held(database_url):
        proc = subprocess.Popen(argv, env={"PATH": os.environ["PATH"]},
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        with proc, proc.stderr:
            said = [proc.stderr.readline() for _ in range(3)]  # start, database, files
            assert "Registry files: " in said[-1], said
            waiting_for_the_lock(database_url, proc)
            assert proc.poll() is None
            proc.send_signal(signum)
            try:
                assert proc.wait(timeout=10) == code
            finally:
                proc.kill()
            said += proc.stderr.readlines()
    assert said[-1].startswith(f"error: {STOPPED_BY[code]}"), said
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0)]
    if database_url.startswith("postgresql"):  # SQLite's lock holder keeps the record out
        failed = query(database_url, "SELECT error FROM sync_runs WHERE outcome = 'failed'")
        assert failed == [(f"{STOPPED_BY[code]}: nothing written",)]


def test_a_sync_started_with_nohup_goes_on_when_the_terminal_closes(cli, database_url,
                                                                     data_dir):
    """`nohup` (or a shell's `&`) ignores SIGHUP (SIGINT) for it: it stays ignored."""
    assert cli.sync().exit_code == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    argv = [str(REGISTRY), "sync", "--yes", "--lock-timeout", "60", "--data-dir", str(data_dir),
            "--database-url", database_url]

    def like_nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(argv, env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=like_nohup)
    try:
        with registry_lock_held(database_url):
            waiting_for_the_lock(database_url, proc)
            proc.send_signal(signal.SIGHUP)
            proc.send_signal(signal.SIGINT)
            time.sleep(1)
            assert proc.poll() is None  # ignored, it waits on
        assert proc.wait(timeout=60) == 0  # and syncs, once the lock is free
    finally:
        proc.kill()
        proc.wait()
    assert successful_runs(database_url)[-1] == (0, 1, 0, SHIPPED_ROWS - 1)


@contextmanager
def sqlite_file_held(database_url: str, lock: str) -> Iterator[None]:
    """Another connection holding the file: "EXCLUSIVE", a writer committing (no one may
    read), or "SHARED", a reader (a writer's commit waits for it)."""
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE" if lock == "EXCLUSIVE" else "BEGIN")
        other.execute("SELECT count(*) FROM models").fetchall()
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("argv", [
    ("sync", "--yes", "--lock-timeout", "60"),  # it reads which files it may skip, unlocked
    ("diff", "--full"), ("list",), ("db", "current"),
])
def test_a_command_waiting_to_read_a_sqlite_file_stops_at_once(cli, database_url, data_dir,
                                                               argv):
    """A read waits for a writer's commit: in C, a signal waited with it, for as long as
    the lock timeout (--lock-timeout, or 5 s)."""
    assert cli.sync().exit_code == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    files = ("--data-dir", str(data_dir)) if argv[0] in ("sync", "diff") else ()
    with sqlite_file_held(database_url, "EXCLUSIVE"):
        proc = subprocess.Popen([str(REGISTRY), *argv, *files, "--database-url", database_url],
                                env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with proc:
            waiting_for_the_lock(database_url, proc)
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(timeout=3) == 143, proc.stderr
            finally:
                proc.kill()
            assert proc.stderr is not None
            assert proc.stderr.read().splitlines()[-1] == "error: stopped (SIGTERM)"
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sync_stopped_while_its_commit_waits_for_a_reader_ends_when_that_wait_does(
    cli, database_url, data_dir
):
    """As the README says: at most --lock-timeout, not that again to record the run (which
    the reader keeps out as well)."""
    assert cli.sync().exit_code == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    argv = [str(REGISTRY), "sync", "--yes", "--lock-timeout", "6", "--data-dir", str(data_dir),
            "--database-url", database_url]
    with sqlite_file_held(database_url, "SHARED"):
        proc = subprocess.Popen(argv, env={"PATH": os.environ["PATH"]},
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        with proc:
            assert proc.stderr is not None
            said = [proc.stderr.readline() for _ in range(3)]  # start, database, files
            waiting_for_the_lock(database_url, proc)
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(timeout=6 + 3) == 143
            finally:
                proc.kill()
            said += proc.stderr.readlines()
    assert said[-1] == "error: stopped (SIGTERM)\n", said
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0)]


def test_two_syncs_racing_on_a_fresh_database(database_url, data_dir):
    """The second waits for the first (a minute at most, here) and then finds nothing to do."""
    argv = [str(REGISTRY), "sync", "--yes", "--log-format", "json", "--lock-timeout", "60",
            "--data-dir", str(data_dir), "--database-url", database_url]
    env = {"PATH": os.environ["PATH"]}
    procs = [subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(proc.wait(timeout=60), proc.stderr.read()) for proc in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    for _, stderr in outcomes:
        assert json.loads(stderr.splitlines()[-1])["event"] == "sync.summary"
    assert model_count(database_url) == SHIPPED_MODELS
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0), (0, 0, 0, SHIPPED_ROWS)]


# --- --quiet ------------------------------------------------------------------------------------


def test_quiet_sync_prints_nothing_on_success(database_url, data_dir):
    argv = ("sync", "--yes", "--quiet", "--data-dir", str(data_dir), "--database-url", database_url)
    first = run_registry(*argv)  # initialises the schema too
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    (data_dir / "providers" / "perplexity.yaml").unlink()
    second = run_registry(*argv, "--prune", "--force")
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0), (0, 0, 2, SHIPPED_ROWS - 2)]
    # --quiet still prints errors.
    failed = run_registry("sync", "--yes", "--quiet", "--data-dir", str(data_dir / "nowhere"),
                          "--database-url", database_url)
    assert failed.returncode == 78
    assert failed.stdout == ""
    assert "no registry data: " in failed.stderr and "nowhere (--data-dir) does not exist" in (
        failed.stderr)


def test_quiet_sync_on_a_terminal_needs_yes_rather_than_asking_blind(database_url, data_dir):
    """--quiet shows no plan, so on a terminal it must not ask to apply one (it did)."""
    argv = [str(REGISTRY), "sync", "--quiet", "--data-dir", str(data_dir),
            "--database-url", database_url]
    # If it asked, "n" would decline; the message never comes, and the assertion says so.
    code, shown = on_a_terminal(argv, when=b"pass --yes", keys=b"n\r")
    assert code == 64
    assert b"--quiet shows no plan to confirm: pass --yes to apply it" in shown
    assert b"Apply these changes?" not in shown


@pytest.mark.parametrize(("keys", "applied"), [
    (b"maybe\ryes\r", True), (b"Y\r", True), (b"\r", False), (b"no\r", False),
    (b"\x04", False),  # Ctrl-D: "Aborted.", exit 1
])
def test_the_confirmation_takes_yes_or_no_and_asks_again_otherwise(
    database_url, data_dir, keys, applied
):
    argv = [str(REGISTRY), "sync", "--data-dir", str(data_dir), "--database-url", database_url]
    exit_code, shown = on_a_terminal(argv, when=b"[y/N]", keys=keys)
    shown = re.sub(rb"\x1b\[[0-9;]*m", b"", shown)  # colours
    assert exit_code == (1 if keys == b"\x04" else 0), shown[-500:]
    said = b"sync done" if applied else b"Aborted." if keys == b"\x04" else b"Nothing written"
    assert said in shown.splitlines()[-1], shown[-500:]
    asked = shown.count(b"Apply these changes? [y/N]: ")
    assert (asked, shown.count(b"Error: invalid input")) == ((2, 1) if b"maybe" in keys else (1, 0))
    listed = run_registry("list", "--database-url", database_url)
    if applied:
        assert listed.returncode == 0
        assert listed.stdout.splitlines()[-1].startswith(f"{SHIPPED_MODELS} models")
    else:
        assert listed.returncode == 78 and "no registry schema yet" in listed.stderr


@pytest.mark.parametrize(("signum", "code", "said"), [
    (signal.SIGTERM, 143, b"stopped (SIGTERM)"),
    (signal.SIGINT, 1, b"Aborted."),  # Ctrl-C at the prompt: the user's no
])
def test_a_stop_at_the_confirmation_prompt_is_not_taken_for_a_no(
    database_url, data_dir, signum, code, said
):
    """A prompt turns any KeyboardInterrupt into "Aborted." (1): the scheduler stopping the
    run is told apart. Either way nothing is written. (The signal is sent as the question
    appears: a prompt waiting in input() could miss it until Enter.)"""
    argv = [str(REGISTRY), "sync", "--data-dir", str(data_dir), "--database-url", database_url]
    exit_code, shown = on_a_terminal(argv, when=b"[y/N]", signum=signum)
    shown = re.sub(rb"\x1b\[[0-9;]*m", b"", shown)  # colours
    assert exit_code == code, shown[-500:]
    assert shown.rstrip().endswith(said), shown[-500:]
    assert b"Traceback" not in shown
    listed = run_registry("list", "--database-url", database_url)
    assert listed.returncode == 78 and "no registry schema yet" in listed.stderr


def test_a_no_by_ctrl_d_on_a_later_sync_is_no_failed_run(database_url, data_dir):
    """Ctrl-D (or Ctrl-C) at the question is the user's no, as "n" is: not a failure."""
    assert run_registry("sync", "--yes", "--quiet", "--data-dir", str(data_dir),
                        "--database-url", database_url).returncode == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    argv = [str(REGISTRY), "sync", "--data-dir", str(data_dir), "--database-url", database_url]
    exit_code, shown = on_a_terminal(argv, when=b"[y/N]", keys=b"\x04")
    assert exit_code == 1 and b"Aborted." in shown.splitlines()[-1], shown[-500:]
    assert query(database_url, "SELECT outcome FROM sync_runs") == [("success",)]


def test_a_sync_whose_plan_reader_is_gone_is_recorded_as_failed(database_url, data_dir):
    """Its stdout's reader gone (`| head -1`), rich exits (1) as it writes the plan: under
    the lock, before anything is written. That run is in history too."""
    assert run_registry("sync", "--yes", "--quiet", "--data-dir", str(data_dir),
                        "--database-url", database_url).returncode == 0
    replace_once(provider_path(data_dir, "xai"), "input_per_1m: 3.00\n", "input_per_1m: 3.10\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the plan is written
    try:
        proc = subprocess.run(
            [str(REGISTRY), "sync", "--yes", "--data-dir", str(data_dir),
             "--database-url", database_url],
            env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL, stdout=write_end,
            stderr=subprocess.PIPE, text=True, timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1, proc.stderr
    assert query(database_url, "SELECT outcome, error FROM sync_runs ORDER BY id") == [
        ("success", None), ("failed", "exited with status 1: nothing written"),
    ]
    assert successful_runs(database_url) == [(SHIPPED_ROWS, 0, 0, 0)]


# --- a killed run ---------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, so read after its ")"
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def validating_with_workers(data_dir: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """`registry validate` in a session of its own, once its worker processes are seen (or
    it has ended, or 30 s have passed): the process and its workers' pids."""
    argv = [str(REGISTRY), "validate", "--data-dir", str(data_dir)]
    run = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    workers: set[int] = set()
    while len(workers) < 2 and run.poll() is None and time.monotonic() < deadline:
        workers = _children(run.pid)
        time.sleep(0.01)
    return run, workers


def generated(folder: Path, models: int, files: int) -> Path:
    """A registry folder from the benchmark's generator."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    return generate.generate(folder, models=models, files=files).data_dir


@pytest.fixture(scope="module")
def big_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough to be read by worker processes (over PARALLEL_MIN_BYTES)."""
    return generated(tmp_path_factory.mktemp("big"), models=15_000, files=30)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: files are read in-process")
@pytest.mark.parametrize("stop", ["kill -9", "Ctrl-C", "timeout", "systemctl stop"])
def test_a_stopped_run_leaves_no_worker_processes_behind(big_registry, stop):
    """kill -9 runs no handler of ours; Ctrl-C reaches the whole process group, workers
    included; timeout(1) sends SIGTERM to `registry` alone, systemd's stop to the whole
    group. Whichever, the run ends and its workers with it."""
    run, workers = validating_with_workers(big_registry)
    if stop == "kill -9":
        run.kill()
    elif stop == "timeout":
        run.terminate()
    else:
        os.killpg(run.pid, signal.SIGINT if stop == "Ctrl-C" else signal.SIGTERM)
    try:
        _, err = run.communicate(timeout=20)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # a hung run must not outlive the test
    assert len(workers) >= 2, "the run ended before its workers could be seen"
    said = {"kill -9": b"", "Ctrl-C": b"interrupted (Ctrl-C)"}.get(stop, b"stopped (SIGTERM)")
    assert (run.returncode, err.rstrip()[-len(said):] if said else b"") == (
        {"kill -9": -signal.SIGKILL, "Ctrl-C": 130}.get(stop, 143), said
    ), err[-2000:]
    assert b"Traceback" not in err
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: files are read in-process")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_while_the_run_ends_does_not_hang_it(tmp_path, signum):
    """After the first, the run takes a moment to end (each worker finishes its file: here
    5,000 models); a second Ctrl-C or SIGTERM then must end it, not hang it in the
    interpreter's clean-up (the join of the worker pool)."""
    run, _ = validating_with_workers(generated(tmp_path, models=40_000, files=8))
    time.sleep(0.2)  # the workers are into their files
    run.send_signal(signum)
    time.sleep(0.1)
    with suppress(ProcessLookupError):
        run.send_signal(signum)
    try:
        _, err = run.communicate(timeout=30)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # a hung run must not outlive the test
    assert run.returncode == 128 + signum, err[-2000:]
    assert b"Traceback" not in err and b"Exception ignored" not in err, err[-2000:]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: files are read in-process")
def test_ctrl_c_while_the_workers_start_is_an_interrupt_not_a_broken_pool(big_registry):
    """A worker has its parent's Ctrl-C handler until it sets its own: here that moment is
    made long, and Ctrl-C reaches the whole process group within it."""
    script = (
        "import sys, time; from radiant_registry import cli, loader; "
        "start = loader._start_worker; "
        "loader._start_worker = lambda parent: (time.sleep(0.5), start(parent)); "
        "sys.argv[0] = 'registry'; cli.main()"
    )
    argv = [sys.executable, "-c", script, "validate", "--data-dir", str(big_registry)]
    run = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while len(_children(run.pid)) < 2 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGINT)
    try:
        _, err = run.communicate(timeout=30)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130, err[-2000:]
    assert b"Traceback" not in err and err.rstrip().endswith(b"interrupted (Ctrl-C)"), err[-2000:]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_ctrl_c_during_the_progress_display_says_so_and_gives_the_cursor_back(big_registry):
    # The real command on a real terminal, with the display shown at once rather than after
    # a second: this registry is read in less.
    script = (
        "import sys; from radiant_registry import cli, log; log.PROGRESS_AFTER_S = 0; "
        "sys.argv[0] = 'registry'; cli.main()"
    )
    argv = [sys.executable, "-c", script, "validate", "--data-dir", str(big_registry)]
    code, shown = on_a_terminal(argv, when=b"files read", keys=b"\x03")  # Ctrl-C
    assert code == 130
    # The display hides the cursor while it is shown; it must be back at the end.
    assert shown.rfind(b"\x1b[?25h") > shown.rfind(b"\x1b[?25l") >= 0
    assert shown.rstrip().endswith(b"interrupted (Ctrl-C)"), shown[-300:]
    assert b"Traceback" not in shown


@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "--yes", "--log-format", "json", "--bogus"],
        ["sync", "--bogus", "--log-format=json"],  # found before the option it follows
        ["sync", "--yes", "--log-format", "json", "--lock-timeout", "soon"],
    ],
)
def test_a_usage_error_under_json_logs_is_a_json_line(argv: list[str]) -> None:
    """A cron job's log stays parseable even when its command line is wrong."""
    from typer.testing import CliRunner

    from radiant_registry.cli import app

    result = CliRunner().invoke(app, argv, prog_name="registry")
    assert result.exit_code == 64
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    record = json.loads(line)
    assert (record["level"], record["event"]) == ("error", "error")
    assert record["message"].endswith("; see `registry sync --help`")


def test_a_usage_error_under_json_output_is_json() -> None:
    from typer.testing import CliRunner

    from radiant_registry.cli import app

    argv = ["list", "--format", "json", "--limit", "3"]
    result = CliRunner().invoke(app, argv, prog_name="registry")
    assert result.exit_code == 64
    [message] = json.loads(result.stderr).values()  # {"error": ...}
    assert "--limit" in message and message.endswith("; see `registry list --help`")
    plain = CliRunner().invoke(app, ["list", "--limit", "3"], prog_name="registry")
    assert plain.exit_code == 64
    assert "Usage: registry list [OPTIONS]" in plain.stderr  # people get click's usage line


@pytest.mark.parametrize("output", ["table", "json", "csv"])
def test_a_reader_that_went_away_ends_the_command_quietly(cli, database_url, output):
    """`registry list | head -1`: standard output closed before all was written is exit 1
    and no error (as click does), not an unforeseen error."""
    assert cli.sync().exit_code == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        done = subprocess.run(
            [str(REGISTRY), "list", "--format", output, "--database-url", database_url],
            env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL, stdout=write_end,
            stderr=subprocess.PIPE, text=True, timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1, done.stderr
    assert "error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: files are read in-process")
def test_a_worker_killed_mid_read_ends_the_run_instead_of_hanging_it(big_registry):
    """The OOM killer takes a worker: the pool stops the others with SIGTERM, which they
    ignore; the run must end anyway, saying what happened."""
    run, workers = validating_with_workers(big_registry)
    assert len(workers) >= 2, "the run ended before its workers could be seen"
    os.kill(min(workers), signal.SIGKILL)
    try:
        _, err = run.communicate(timeout=30)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # a hung run must not outlive the test
    assert run.returncode == 70, err[-2000:]
    assert err.decode().splitlines()[-1] == (
        "error: a worker process reading the files ended abruptly (killed, or out of "
        "memory?); nothing was written")


def test_a_password_typed_where_it_does_not_belong_is_hidden_everywhere(tmp_path):
    """`--provider $P` with an empty $P swallows `--database-url=URL` as a provider id:
    echoed in the JSON log's start event and in the error naming the unknown provider."""
    url = "postgresql://u:s3cret@127.0.0.1:1/db"
    for argv in (("sync", "--yes"), ("sync", "--yes", "--log-format", "json"),
                 ("diff", "--format", "json")):
        done = run_registry(*argv, "--provider", f"--database-url={url}",
                            "--database-url", f"sqlite:///{tmp_path}/r.db")
        assert done.returncode == 64, (argv, done.stderr)
        assert "s3cret" not in done.stderr and "u:***@127.0.0.1:1/db" in done.stderr, argv


def test_output_that_cannot_be_written_is_an_io_error(cli, database_url):
    assert cli.sync().exit_code == 0
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(REGISTRY), "list", "--database-url", database_url],
                              env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 74, done.stderr
    assert done.stderr.splitlines()[-1] == "error: input/output error: No space left on device"


def run_without(fd: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """`registry ARGV` started with standard output (1) or error (2) closed: `>&-`."""
    return subprocess.run(
        [str(REGISTRY), *argv], env={"PATH": os.environ["PATH"]}, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.close(fd),
    )


def test_output_to_a_standard_output_closed_at_start_is_an_io_error(cli, database_url):
    """Python leaves sys.stdout None: print() would drop the output and exit 0."""
    assert cli.sync().exit_code == 0
    db = ("--database-url", database_url)
    for argv in (("list", *db), ("list", "--format", "json", *db),
                 ("list", "--format", "csv", *db), ("db", "current", *db),
                 ("validate", "--data-dir", str(cli.data_dir), "--format", "json")):
        done = run_without(1, *argv)
        assert done.returncode == 74, (argv, done.stderr)
        # (the JSON forms say it as {"error": ...})
        assert "input/output error: standard output is closed" in done.stderr.splitlines()[-1]
    # A command that writes nothing there is not refused; a sync with changes shows its
    # plan there first: refused before it writes, and recorded as failed.
    sync = ("sync", "--yes", "--data-dir", str(cli.data_dir), *db)
    assert run_without(1, *sync).returncode == 0
    replace_once(provider_path(cli.data_dir, "xai"), "input_per_1m: 3.00", "input_per_1m: 3.50")
    refused = run_without(1, *sync)
    assert refused.returncode == 74, refused.stderr
    [failed, *_] = json.loads(cli("history", "--format", "json").stdout)
    assert (failed["outcome"], failed["error"]) == (
        "failed", "input/output error: standard output is closed")
    assert run_without(1, *sync, "--quiet").returncode == 0
    assert "3.5" in cli("show", "xai/grok-3", "--format", "json").stdout


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux's /proc")
def test_descriptors_closed_at_start_are_not_left_for_files_and_sockets_to_take():
    """Whatever writes to descriptor 2 below Python must not land in a database socket."""
    read_end, write_end = os.pipe()
    script = (
        "import os\n"
        "from radiant_registry import render\n"
        "render.open_missing_streams()\n"
        "links = [os.readlink(f'/proc/self/fd/{fd}') for fd in (1, 2)]\n"
        f"os.write({write_end}, ' '.join(links).encode())\n"
    )
    try:
        subprocess.run([sys.executable, "-c", script], stdin=subprocess.DEVNULL, timeout=60,
                       pass_fds=(write_end,), check=True,
                       preexec_fn=lambda: (os.close(1), os.close(2)))
    finally:
        os.close(write_end)
    with os.fdopen(read_end) as said:
        assert said.read() == f"{os.devnull} {os.devnull}"


def test_a_standard_error_closed_at_start_keeps_output_and_exit_codes(cli, database_url, tmp_path):
    assert cli.sync().exit_code == 0
    done = run_without(2, "list", "--provider", "xai", "--format", "json",
                       "--database-url", database_url)
    assert done.returncode == 0
    assert len(json.loads(done.stdout)) == XAI_MODELS
    unreachable = f"sqlite:///{tmp_path}/no/such/folder/r.db"
    assert run_without(2, "sync", "--yes", "--database-url", unreachable).returncode == 69
    assert run_without(2, "show", "no-such-model", "--database-url", database_url).returncode == 64
    # A message with a character the stand-in cannot encode (an argument that is not UTF-8)
    # is escaped, as Python's own standard error does: no new exit code.
    done = subprocess.run([str(REGISTRY), "list", b"--bog\xe9"], env={"PATH": os.environ["PATH"]},
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                          preexec_fn=lambda: os.close(2))
    assert done.returncode == 64
