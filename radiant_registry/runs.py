"""The record of every sync run in `sync_runs`: successful ones in the sync's own
transaction, failed ones in one of their own once the sync's was rolled back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy import exc as sa_exc

from radiant_registry import __version__, migrations
from radiant_registry.db import first_line
from radiant_registry.errors import RegistryError, interruption, io_failure, unexpected
from radiant_registry.loader import Registry
from radiant_registry.printable import redacted
from radiant_registry.tables import sync_runs
from radiant_registry.urls import DatabaseUrl, scrub


def now() -> datetime:
    return datetime.now(UTC)


def committed(conn: Connection, run_id: int, started: datetime) -> bool:
    """Whether the run recorded as `run_id` is in the database: its transaction committed.

    Its start time too, since SQLite may give a rolled-back run's id to the next run."""
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            query = select(sync_runs.c.id).where(
                sync_runs.c.id == run_id, sync_runs.c.started_at == started
            )
            return conn.execute(query).first() is not None
    except sa_exc.SQLAlchemyError:
        return False  # gone: the error the user sees is the interrupt's


def record_run(
    conn: Connection,
    started: datetime,
    outcome: str,
    counts: dict[str, int],
    registry: Registry,
    error: str | None,
) -> int:
    result = conn.execute(
        insert(sync_runs).returning(sync_runs.c.id),
        {
            "started_at": started,
            "finished_at": now(),
            "outcome": outcome,
            "providers": None if registry.scope is None else list(registry.scope),
            **counts,
            "files_sha256": registry.digest,
            "tool_version": __version__,
            "error": error,
        },
    )
    return int(result.scalar_one())


def record_failure(
    conn: Connection,
    started: datetime,
    registry: Registry,
    exc: BaseException,
) -> None:
    """Best effort, in a transaction of its own: the sync's own was rolled back."""
    counts = {"created": 0, "updated": 0, "retired": 0, "unchanged": 0}
    if isinstance(exc, sa_exc.DBAPIError):
        message = first_line(exc.orig)
    elif isinstance(exc, KeyboardInterrupt):
        message = f"{interruption(exc)[0]}: nothing written"
    elif isinstance(exc, OSError):  # the plan's output
        message = io_failure(exc)
    elif isinstance(exc, SystemExit):
        message = f"exited with status {exc.code}: nothing written"
    elif isinstance(exc, RegistryError | sa_exc.SQLAlchemyError):
        message = str(exc) or type(exc).__name__
    else:
        message = unexpected(exc)
    # As every error shown: the URL's own secrets, and any other a message may quote.
    message = redacted(scrub(DatabaseUrl(conn.engine.url, "sync"), message))
    try:
        if conn.in_transaction():
            conn.rollback()
        # Check the schema inside the transaction that records the run: a query outside it
        # would autobegin one, and conn.begin() would then refuse to start.
        with conn.begin():
            if migrations.schema_state(conn) == "current":
                record_run(conn, started, "failed", counts, registry, message)
    except (RegistryError, sa_exc.SQLAlchemyError):
        pass  # the database is gone or locked; the error itself is what the user sees
