"""Apply a plan: one transaction, one sync at a time, every run recorded.

A sync takes the write lock first (a transaction-level advisory lock on PostgreSQL, an
immediate write transaction on SQLite), then reads the current state and plans under that
lock, so that what it shows is exactly what it writes. Admin-owned state is never written.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, update
from sqlalchemy import exc as sa_exc

from radiant_registry import migrations, runs
from radiant_registry.db import is_lock_refused, registry_write
from radiant_registry.errors import (
    AfterCommit,
    ConcurrentChange,
    ExitCode,
    LockTimeout,
    UnsafePrune,
    interruption,
    io_failure,
)
from radiant_registry.loader import Registry
from radiant_registry.log import EventLog
from radiant_registry.plan import CurrentState, Plan, Retire, compute_plan, prune_refusals
from radiant_registry.state import count_unretired_models, read_file_keys, read_state
from radiant_registry.tables import providers
from radiant_registry.write import write_changes


@dataclass(frozen=True)
class SyncOptions:
    prune: bool = False
    force: bool = False


@dataclass(frozen=True)
class SyncResult:
    plan: Plan
    applied: bool
    run_id: int | None = None


Confirm = Callable[[Plan], bool]
_STOPPING_WAIT_S = 1.0


@contextmanager
def write_transaction(conn: Connection) -> Iterator[None]:
    """A transaction that holds the registry's write lock, or LockTimeout (exit 75).

    SQLite's write lock is the immediate transaction itself; PostgreSQL takes an advisory
    lock, so that reads go on during a sync (an admin write to a row the sync updates
    waits for its commit)."""
    locked = False
    try:
        with registry_write(conn):
            locked = True
            yield
    except sa_exc.OperationalError as exc:
        if is_lock_refused(exc.orig):
            waited = conn.get_execution_options().get("lock_timeout_s")  # from make_engine
            after = "" if waited is None else f" after {waited:g}s"
            raise LockTimeout(
                f"{_lock_holder(conn, locked)}; gave up{after} (--lock-timeout)"
            ) from None
        raise


def _lock_holder(conn: Connection, locked: bool) -> str:
    """Who holds the lock a write waited for: the registry's, or a row's or table's once
    that is held (on PostgreSQL a sync's writes may wait for an admin's, or a psql's)."""
    sqlite = conn.dialect.name == "sqlite"
    if locked and sqlite:  # a reader of the file keeps the commit waiting
        return "another connection is reading the database file"
    if locked:
        return "a row or table this sync writes is locked by another transaction"
    # On PostgreSQL only syncs and migrations take the advisory lock; SQLite's is any
    # writer's.
    holder = "another sync or admin command" if sqlite else "another sync or migration"
    return f"{holder} holds the registry lock"


def _ensure_schema(conn: Connection) -> None:
    """Create the schema of a brand-new database (`schema_state` refuses any other
    revision than the current one: exit 78).

    Called inside the sync's own transaction: a first sync that fails or is declined
    leaves the database as empty as it found it.
    """
    if migrations.schema_state(conn) == "empty":
        migrations.upgrade(conn)


def preview(conn: Connection, registry: Registry, options: SyncOptions) -> Plan:
    """The plan a sync with these options would apply now, writing nothing (`diff`,
    `sync --dry-run`); a prune it would refuse is refused here too."""
    with conn.begin():
        empty = migrations.schema_state(conn) == "empty"
        if empty and registry.skipped:  # skipped as applied, by a database emptied since
            raise ConcurrentChange(_CHANGED_MEANWHILE)
        planned = CurrentPlan.empty(registry) if empty else _plan(conn, registry)
    _refuse_unsafe_prune(planned, options)
    return planned.plan


def dry_run(
    conn: Connection,
    registry: Registry,
    options: SyncOptions,
    log: EventLog,
    show: Callable[[Plan], None] = lambda plan: None,
) -> Plan:
    """What `sync` would do, writing nothing: the plan, given to `show`, then in JSON logs
    the events a sync would log, with the same counts."""
    plan = preview(conn, registry, options)
    show(plan)
    log_changes(log, plan.applicable(options.prune))
    counts, pending = _counts(plan, options.prune), _pending(plan, options.prune)
    log.event("sync.dry_run", "Dry run: nothing written", **counts, retire_pending=pending)
    return plan


def sync(
    conn: Connection,
    registry: Registry,
    options: SyncOptions,
    log: EventLog,
    confirm: Confirm = lambda plan: True,
) -> SyncResult:
    """Bring the database to the registry files' state; return the plan and what was done."""
    started = runs.now()
    run_id: int | None = None
    try:
        with write_transaction(conn):
            _ensure_schema(conn)
            planned = _plan(conn, registry)
            log.progress("models planned", registry.model_count, registry.model_count)
            plan = planned.plan
            _refuse_unsafe_prune(planned, options)
            if plan and not confirm(plan):
                conn.rollback()
                return SyncResult(plan, applied=False)
            applied = plan.applicable(options.prune)
            write_changes(conn, applied, log, runs.now())
            _record_file_keys(conn, registry, planned, options.prune)
            counts = _counts(plan, options.prune)
            run_id = runs.record_run(conn, started, "success", counts, registry, None)
    except KeyboardInterrupt as exc:
        # Landing inside a statement, it made SQLAlchemy close that connection; but the
        # statement, held by the frames it left, kept SQLite's connection open, and with it
        # its write lock: the run could not be recorded. Their variables go now.
        traceback.clear_frames(exc.__traceback__)
        # Stopping: a lock another connection holds (on SQLite, a reader keeping the
        # commit waiting) is waited for a second more at most, not --lock-timeout again.
        waited = conn.get_execution_options().get("lock_timeout_s", _STOPPING_WAIT_S)
        conn.execution_options(lock_timeout_s=min(_STOPPING_WAIT_S, waited))
        # Ctrl-C may land during the commit or just after it, before the block is left:
        # the database says whether this run's own row, and so its changes, are there.
        if run_id is not None and runs.committed(conn, run_id, started):
            raise interrupted_after_commit(exc, run_id) from None
        runs.record_failure(conn, started, registry, exc)
        raise
    # A bug too, and an exit on the way (rich exits when the plan's reader is gone): every
    # sync that reached the database is recorded.
    except (Exception, SystemExit) as exc:
        runs.record_failure(conn, started, registry, exc)
        raise
    # Committed: from here on, up to the caller's holding the result (which says it was
    # applied), an interrupt must neither record the run as failed nor read as "nothing
    # written".
    try:
        # Logged once committed, outside the lock: each change said is a change made.
        log_changes(log, applied)
        pending = _pending(plan, options.prune)
        elapsed = log.elapsed()  # one reading: the text and duration_s say the same
        log.event(
            "sync.summary",
            _summary_text(counts, pending, elapsed),
            **counts,
            retire_pending=pending,
            duration_s=elapsed,
            run_id=run_id,
        )
        return SyncResult(plan, applied=True, run_id=run_id)
    except KeyboardInterrupt as exc:
        raise interrupted_after_commit(exc, run_id) from None
    except OSError as exc:  # the log's output: a full disk, a reader of the pipe gone
        raise AfterCommit(
            f"{io_failure(exc)} after the sync committed: its changes are applied (run {run_id})",
            ExitCode.IOERR,
        ) from None


def interrupted_after_commit(exc: KeyboardInterrupt, run_id: int) -> AfterCommit:
    """Ctrl-C or SIGTERM once run `run_id` committed: its changes are applied, say so."""
    what, exit_code = interruption(exc)
    return AfterCommit(
        f"{what} after the sync committed: its changes are applied (run {run_id})", exit_code
    )


def _refuse_unsafe_prune(planned: CurrentPlan, options: SyncOptions) -> None:
    if not options.prune or options.force:
        return
    refusals = prune_refusals(planned.plan, planned.current)
    if refusals:
        details = "; ".join(f"{r.key} {r.reason}" for r in refusals)
        raise UnsafePrune(f"refusing to prune: {details}. Re-run with --force if intended")


@dataclass(frozen=True)
class CurrentPlan:
    """A plan with the database state it was computed from."""

    plan: Plan
    current: CurrentState
    stored_keys: dict[str, str | None]

    @classmethod
    def empty(cls, registry: Registry) -> CurrentPlan:
        return cls(compute_plan(*registry.desired(), CurrentState()), CurrentState(), {})


_CHANGED_MEANWHILE = (
    "the database changed while these files were read (another sync applied other files, "
    "or a downgrade emptied it); run the command again"
)


def _plan(conn: Connection, registry: Registry) -> CurrentPlan:
    """Plan against the database, reading only what the skipped files leave to compare."""
    stored = read_file_keys(conn)
    for pid, key in registry.skipped.items():
        if stored.get(pid) != key:  # another sync applied different files meanwhile
            # diff and sync --dry-run too: the plan would be stale
            raise ConcurrentChange(_CHANGED_MEANWHILE)
    in_files = set(registry.content_keys)
    scope = set(registry.files) | (set(stored) - in_files)  # parsed files, and retire candidates
    if registry.scope is not None:
        scope &= set(registry.scope)
    current = read_state(conn, scope)
    plan = compute_plan(*registry.desired(), current)
    # A skipped file's provider and active models are, by its key, unchanged.
    skipped = list(registry.skipped)
    unchanged = plan.unchanged + len(skipped) + count_unretired_models(conn, skipped)
    return CurrentPlan(Plan(plan.changes, unchanged), current, stored)


def _record_file_keys(
    conn: Connection, registry: Registry, planned: CurrentPlan, pruned: bool
) -> None:
    """Remember each applied file's key, so that the next sync may skip the file.

    Not while retires of its provider are pending (no --prune): such a file must be read
    again, to list them again. The key stored before then stays valid only if this sync
    changed nothing else of the provider and did not read the very same file (--full);
    otherwise it is cleared, or restoring that old file would hide this sync's changes.
    """
    changes = planned.plan.changes
    pending = set() if pruned else {c.provider_id for c in changes if isinstance(c, Retire)}
    touched = {c.provider_id for c in changes if not isinstance(c, Retire)}
    rows = []
    for pid, loaded in registry.files.items():
        stored = planned.stored_keys.get(pid)
        if pid in pending:
            if stored is not None and (stored == loaded.key or pid in touched):
                rows.append({"k_provider": pid, "v_key": None})
        elif stored != loaded.key:
            rows.append({"k_provider": pid, "v_key": loaded.key})
    if rows:
        by_id = providers.c.id == bindparam("k_provider")
        statement = update(providers).where(by_id).values(file_sha256=bindparam("v_key"))
        conn.execute(statement, rows)


def _counts(plan: Plan, pruned: bool) -> dict[str, int]:
    summary = plan.summary
    return {
        "created": summary["create"],
        "updated": summary["update"],
        "retired": summary["retire"] if pruned else 0,
        "unchanged": summary["unchanged"],
    }


def _pending(plan: Plan, pruned: bool) -> int:
    """Retires planned but left for `sync --prune`."""
    return 0 if pruned else plan.summary["retire"]


def _summary_text(counts: dict[str, int], pending: int, seconds: float) -> str:
    text = (
        f"sync done: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['retired']} retired, {counts['unchanged']} unchanged in {seconds:.2f}s"
    )
    if pending:  # otherwise the counts would not add up to the rows in the files' scope
        text += f"; {pending} retire{'s' if pending > 1 else ''} pending (--prune applies them)"
    return text


def log_changes(log: EventLog, plan: Plan) -> None:
    """One `change` event per change of `plan`, in JSON logs: what a sync applied, or what
    a dry run would."""
    if log.details:
        for change in plan.changes:
            log.detail("change", f"{change.action} {change.kind} {change.key}", **change.as_dict())
