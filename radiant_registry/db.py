"""Engines with timeouts, connections, the registry's write lock, and database errors
turned into domain errors.

A database URL's password must never reach a terminal or a log: driver errors are reduced
to their first line, with every secret of the URL (`urls.DatabaseUrl.secrets`) scrubbed,
before they become a `RegistryError`.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc

from radiant_registry import interrupts
from radiant_registry.config import LOCK_TIMEOUT_S, Absent
from radiant_registry.errors import (
    ConfigError,
    DatabaseFailure,
    DatabaseUnavailable,
    LockTimeout,
    RegistryError,
    UsageError,
)
from radiant_registry.fetch import UNREADABLE
from radiant_registry.urls import DatabaseUrl, in_memory, not_created_yet, scrub

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_S = 300


_IGNORED = logging.NullHandler()  # one instance: adding it again is then a no-op


class Say(Protocol):
    """Where `connect` tells which database it opened: an event name, text, fields."""

    def __call__(self, event: str, text: str, **fields: str) -> None: ...


@contextmanager
def connect(
    database: DatabaseUrl,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    *,
    absent: Absent = Absent.refuse,
    say: Say,
) -> Iterator[Connection]:
    """An open connection to `database`, its schema checked, errors translated."""
    from radiant_registry import migrations  # Alembic: only once a database is opened

    say("database", f"Database: {database}", database=database.display)
    opened = database
    path = not_created_yet(database)
    if path is not None:
        if absent is Absent.refuse:
            # A sync cannot create a file in a folder that does not exist: say so first.
            missing = "" if path.parent.is_dir() else f" (nor its folder {path.parent}: create it)"
            raise ConfigError(f"no database at {path}{missing}: run `registry sync` to create it")
        # Without its folder, the file could not be created: opening it says so (exit 69).
        if absent is Absent.read_as_empty and path.parent.is_dir():
            say("database.absent", f"No file at {path} yet: read as an empty database")
            opened = in_memory()
    engine = make_engine(opened, lock_timeout_s)
    try:
        with translated_errors(database), engine.connect() as conn:
            if absent is Absent.refuse:
                with conn.begin():
                    if migrations.schema_state(conn) == "empty":
                        raise ConfigError(
                            f"{database.display} has no registry schema yet: run `registry sync` "
                            "or `registry db upgrade`"
                        )
            yield conn
    finally:
        engine.dispose()


def make_engine(db: DatabaseUrl, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Engine:
    """An engine whose every connection has connect, statement and lock timeouts; the
    lock timeout is also its connections' `lock_timeout_s` execution option, for messages."""
    try:
        return _make_engine(db, lock_timeout_s)
    except sa_exc.ArgumentError as exc:  # a URL parameter SQLAlchemy cannot take (?port=x)
        raise ConfigError(scrub(db, f"the database URL is not usable: {exc}")) from None


def _make_engine(db: DatabaseUrl, lock_timeout_s: float) -> Engine:
    # psycopg logs errors it ignores while cleaning up after a failed statement; the error
    # itself reaches the user, translated. Without a handler, Python would print the log
    # line raw on stderr, in the middle of a JSON log.
    logging.getLogger("psycopg").addHandler(_IGNORED)
    if db.is_sqlite:
        engine = create_engine(
            db.url,
            connect_args={
                "timeout": lock_timeout_s
            },  # busy timeout while another writer holds the file
            hide_parameters=True,
            execution_options={"lock_timeout_s": lock_timeout_s},
        )
        _use_explicit_sqlite_transactions(engine)
        return engine
    # A statement's wait for a lock counts toward its statement_timeout: without the lock
    # timeout added, a --lock-timeout over 300 s would be cut short with another message.
    statement_timeout_ms = int((STATEMENT_TIMEOUT_S + lock_timeout_s) * 1000)
    timeouts = (
        f"-c statement_timeout={statement_timeout_ms} "
        # lock_timeout=0 would mean "wait forever" to PostgreSQL: 1 ms is "do not wait".
        f"-c lock_timeout={max(1, int(lock_timeout_s * 1000))} "
        "-c idle_in_transaction_session_timeout=600000"
    )
    # connect_args win over the URL's parameters, and libpq ignores $PGOPTIONS once
    # `options` is given: keep the user's (a search_path, say) before ours, which are last
    # so that --lock-timeout holds; set the rest only where the URL does not.
    query = db.url.query
    given = _url_options(db) or os.environ.get("PGOPTIONS", "")
    connect_args: dict[str, Any] = {"options": f"{given} {timeouts}".strip()}
    defaults = {  # each with the libpq variable that would set it otherwise
        "connect_timeout": (CONNECT_TIMEOUT_S, "PGCONNECT_TIMEOUT"),
        "application_name": ("radiant-registry", "PGAPPNAME"),
        # A SQL_ASCII database would hand text back as bytes, which nothing here reads.
        "client_encoding": ("utf8", "PGCLIENTENCODING"),
        # A server gone silent (a network partition) is found in about a minute, not in
        # the two hours of the system's keepalive defaults: the sync then fails (69/74)
        # instead of hanging, and a cron run under flock does not block the next ones.
        "keepalives_idle": (30, None),
        "keepalives_interval": (10, None),
        "keepalives_count": (3, None),
    }
    connect_args.update(
        {
            name: value
            for name, (value, variable) in defaults.items()
            if name not in query
            and not (variable and os.environ.get(variable))
            and name not in given  # `-c client_encoding=…` in the URL's options or $PGOPTIONS
        }
    )
    return create_engine(
        db.url,
        connect_args=connect_args,
        hide_parameters=True,  # statement parameters never appear in errors
        pool_pre_ping=False,
        execution_options={"lock_timeout_s": lock_timeout_s},
    )


def _use_explicit_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions, so a sync can BEGIN IMMEDIATE.

    See SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" for pysqlite.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # A write larger than the page cache spills to the file before the commit, and each
        # spill waits for readers with a busy timeout of its own: a large sync would wait
        # out a reader however long it reads, past --lock-timeout, while the lock it holds
        # keeps every new reader out. Kept in memory, the write waits once, at the commit.
        cursor.execute("PRAGMA cache_spill = OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        _begin_waiting(conn, immediate=bool(conn.get_execution_options().get("sqlite_immediate")))


def _begin_waiting(conn: Connection, *, immediate: bool) -> None:
    """BEGIN IMMEDIATE (the write lock), or BEGIN and at once the read lock that the first
    read would take, waiting for another connection up to the lock timeout in short busy
    timeouts: SQLite waits in C, where Python cannot act on Ctrl-C or SIGTERM, so one long
    wait would hold a stop back for as long as --lock-timeout."""
    lock_timeout_s = conn.get_execution_options().get("lock_timeout_s", LOCK_TIMEOUT_S)
    deadline = time.monotonic() + lock_timeout_s

    def busy_timeout(seconds: float) -> None:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    try:
        while True:
            busy_timeout(min(interrupts.POLL_S, max(0.0, deadline - time.monotonic())))
            try:
                if immediate:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.exec_driver_sql("BEGIN")
                    # Held to the transaction's end: no later read waits (a writer's
                    # commit, with its exclusive lock, is what a reader waits for).
                    conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1").close()
                break
            except sa_exc.OperationalError as exc:
                if not immediate:
                    with suppress(sa_exc.DBAPIError):
                        conn.exec_driver_sql("ROLLBACK")
                if not is_lock_refused(exc.orig) or time.monotonic() >= deadline:
                    raise
    except BaseException:  # a refusal, Ctrl-C or SIGTERM: its error is the one to report
        with suppress(sa_exc.DBAPIError):
            busy_timeout(lock_timeout_s)
        raise
    busy_timeout(lock_timeout_s)  # the other statements', as the engine was made


@contextmanager
def write_begin(conn: Connection) -> Iterator[None]:
    """A transaction meant to write. On SQLite it takes the write lock at BEGIN
    (BEGIN IMMEDIATE), so that it waits out another writer for the busy timeout instead
    of failing when its first read turns into a write."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.execution_options(sqlite_immediate=True)
    try:
        with ExitStack() as commit, conn.begin():
            yield
            # The commit is next, as this block ends: Ctrl-C or SIGTERM waits for it.
            commit.enter_context(interrupts.held())
    finally:
        if sqlite:
            conn.execution_options(sqlite_immediate=False)


# pg_advisory_xact_lock key shared by every radiant-registry process ("RRsy").
LOCK_KEY = 0x52527379


def take_registry_lock(conn: Connection) -> None:
    """On PostgreSQL, wait (up to the lock timeout) for the registry's write lock, held to
    the end of the transaction: syncs and migrations take it, so that none runs on a schema
    or rows another is changing. SQLite's is the write transaction itself."""
    if conn.dialect.name != "sqlite":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


@contextmanager
def registry_write(conn: Connection) -> Iterator[None]:
    """A write transaction holding the registry lock: a sync's or a migration's."""
    with write_begin(conn):
        take_registry_lock(conn)
        yield


@contextmanager
def translated_errors(db: DatabaseUrl) -> Iterator[None]:
    """Turn driver errors into domain errors with exit codes, and never leak the password."""
    try:
        yield
    except RegistryError:
        raise
    except sa_exc.DBAPIError as exc:
        raise _translate(db, exc) from None
    except UnicodeEncodeError:
        # Python hands an argument's bytes that are not UTF-8 on as lone surrogates, which
        # no driver can send.
        raise UsageError("an argument for the database is not valid UTF-8") from None
    except sa_exc.SQLAlchemyError as exc:
        raise DatabaseFailure(scrub(db, f"database error: {type(exc).__name__}")) from None


# libpq's words for a connection parameter it does not know, or a value it cannot take.
_BAD_CONNINFO = re.compile(
    r'\binvalid (?:connection option "|"?\w+"? value: "|integer value "|port number: )'
    r'|\bbad value for \w+: |\bcould not parse network address "'
    r'|\bdefinition of service "[^"]*" not found|\bservice file "'
)
# The server refusing a setting of `options` (the URL's, or else $PGOPTIONS) as it connects.
_BAD_SETTING = re.compile(
    r'\binvalid value for parameter "|\bunrecognized configuration parameter "'
)


# SQLite's result codes for a database file that cannot be used (extended codes too, such
# as SQLITE_CANTOPEN_ISDIR).
_SQLITE_UNAVAILABLE = (
    "SQLITE_CANTOPEN",
    "SQLITE_NOTADB",
    "SQLITE_PERM",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_AUTH",
)


def _url_options(db: DatabaseUrl) -> str:
    """The URL's libpq `options`, all of them (given twice, SQLAlchemy holds a tuple)."""
    given = db.url.query.get("options", "")
    return " ".join(given) if isinstance(given, tuple) else given


def _conninfo_source(db: DatabaseUrl, detail: str) -> str:
    """Where a connection parameter libpq refused came from: the URL when it gives it;
    else a libpq service file, when one is named, or the variable libpq reads it from
    ($PGSSLMODE, $PGHOSTADDR...), when that is set (a service file's value wins over the
    variable's, so with both it may be either)."""
    from psycopg import pq

    if 'service file "' in detail:  # missing, or not its syntax: the message names it
        return "the libpq service file"
    named = _REFUSED_KEYWORD.search(detail)
    if named is None:
        return "the database URL"
    keyword = next((k for k in named.groups() if k), None) or (
        "port" if "port number" in named[0] else "hostaddr"  # the two that name none
    )
    url = db.url
    given = set(url.query) | {
        name
        for name, value in (("host", url.host), ("port", url.port), ("user", url.username))
        if value
    }
    if keyword in given:
        return "the database URL"
    # A service file in use may hold the value (not the service's own name).
    service = keyword != "service" and ("service" in given or "PGSERVICE" in os.environ)
    variable = next(
        (
            f"${option.envvar.decode()}"
            for option in pq.Conninfo.get_defaults()
            # Set, even empty: libpq takes it.
            if option.keyword.decode() == keyword
            and option.envvar
            and option.envvar.decode() in os.environ
        ),
        None,
    )
    if variable and service:
        return f"{variable} or the libpq service file"
    return variable or ("the libpq service file" if service else "the database URL")


# The parameter a libpq refusal names, as `_BAD_CONNINFO` finds them.
_REFUSED_KEYWORD = re.compile(
    r'\binvalid connection option "(\w+)"|\binvalid "?(\w+)"? value: "'
    r'|\binvalid integer value "[^"]*" for connection option "(\w+)"|\bbad value for (\w+): '
    r'|\binvalid port number: |\bcould not parse network address "|\bdefinition of (service) "'
)


def _setting_source(db: DatabaseUrl, detail: str) -> str:
    """Where a setting the server refused came from: the URL (as a parameter of its own,
    `?client_encoding=`, or in its `options`), $PGOPTIONS, or libpq's other variables."""
    named = re.search(r'parameter "(\w+)"', detail)
    query = db.url.query
    in_url = _url_options(db)
    in_env = os.environ.get("PGOPTIONS", "")
    if named is None:  # not said: the options, as given
        return "the database URL" if in_url else "$PGOPTIONS"
    if named[1] in query or named[1] in in_url:
        return "the database URL"
    if named[1] in in_env:
        return "$PGOPTIONS"
    return "a PG* environment variable (or libpq service file)"


def _translate(db: DatabaseUrl, exc: sa_exc.DBAPIError) -> RegistryError:
    orig = exc.orig
    detail = scrub(db, first_line(orig))
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is None and _BAD_CONNINFO.search(detail):
        # libpq refusing a parameter: the URL (or a PG* variable) is wrong, not the server down.
        return ConfigError(f"{_conninfo_source(db, detail)} is not usable: {detail}")
    if sqlstate is None and _BAD_SETTING.search(detail):
        return ConfigError(f"{_setting_source(db, detail)} is not usable: {detail}")
    if sqlstate == "57014":  # query_canceled: a statement timeout
        return LockTimeout(f"timed out on {db.display}: {detail}")
    if is_lock_refused(orig):
        return LockTimeout(f"{db.display} is locked by another writer: {detail}")
    if db.is_sqlite and "Could not decode to UTF-8" in detail:
        # sqlite3 reading back bytes stored by hand where text belongs: the data, not the file.
        return DatabaseFailure(f"{UNREADABLE}: {detail}")
    if db.is_sqlite:
        # The file cannot be opened, read or written (not every one an OperationalError);
        # any other error is a statement's (no such column, a constraint), as on PostgreSQL.
        name = getattr(orig, "sqlite_errorname", None) or ""
        if name.startswith("SQLITE_READONLY"):
            # A sync records its run even when nothing changed; SQLite also writes a
            # journal file beside the database, so its folder must be writable too.
            detail += " (a sync writes, if only its run: the file and its folder must be writable)"
        if name.startswith(_SQLITE_UNAVAILABLE):
            return DatabaseUnavailable(f"cannot use database {db.display}: {detail}")
        return DatabaseFailure(f"database error on {db.display}: {detail}")
    # Connection lost or refused, authentication, no such database; the server ending the
    # session (pg_terminate_backend, a shutdown, a restart or failover: 57P01-57P03).
    unreachable = sqlstate is None or sqlstate.startswith(
        ("08", "28", "3D", "57P01", "57P02", "57P03")
    )
    if unreachable and (
        exc.connection_invalidated
        or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    ):
        return DatabaseUnavailable(f"cannot use database {db.display}: {detail}")
    return DatabaseFailure(f"database error on {db.display}: {detail}")


def first_line(orig: BaseException | None) -> str:
    """A driver error's first line (PostgreSQL adds DETAIL and HINT lines), or its type."""
    text = "" if orig is None else str(orig).strip()
    return (text.splitlines() or [type(orig).__name__])[0]


def is_lock_refused(orig: BaseException | None) -> bool:
    """A driver error for a lock not granted in time (--lock-timeout)."""
    # PostgreSQL's lock_not_available; SQLite's busy timeout has no code of its own.
    return getattr(orig, "sqlstate", None) == "55P03" or "database is locked" in str(orig)
