"""Database URLs, secrets, errors, and the Alembic migrations, on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import SHIPPED_MODELS, on_a_terminal
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url
from typer.testing import CliRunner

from radiant_registry import migrations, render
from radiant_registry.cli import app
from radiant_registry.db import make_engine
from radiant_registry.tables import metadata
from radiant_registry.urls import resolve_url

REPO = Path(__file__).resolve().parent.parent
SCHEMA_TABLES = {"alembic_version", "models", "price_overrides", "providers", "sync_runs"}
HEAD = "0001"
REGISTRY = Path(sys.executable).parent / "registry"  # the installed console script

# A password with every character that breaks naive URL handling.
SECRET = "p%40ss@w:rd%"
SECRET_FORMS = {
    SECRET,
    quote(SECRET, safe=""),  # p%2540ss%40w%3Ard%25: how it must be written in a URL
    unquote(SECRET),  # p@ss@w:rd%: what a raw URL decodes to
    quote(unquote(SECRET), safe=""),
    "ss@w:rd", "w%3Ard",
}


def registry(*argv: str) -> Any:
    """One in-process run. cli.py never resets render's per-run output format and event log,
    so an earlier run's --format json would leak into this one; a new process starts clean."""
    render.set_format("table")
    render.set_log(None)
    return CliRunner().invoke(app, list(argv), catch_exceptions=False)


def assert_no_secret(result: Any) -> None:
    seen = (result.stdout or "") + (result.stderr or "")
    for form in SECRET_FORMS:
        assert form not in seen, f"{form!r} leaked: {seen}"
    assert "Traceback" not in seen


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(resolve_url(database_url))
    yield engine
    engine.dispose()


def schema(engine: Engine) -> tuple[set[str], list[str]]:
    with engine.connect() as conn:
        inspector = inspect(conn)
        return set(inspector.get_table_names()), inspector.get_view_names()


def execute(engine: Engine, sql: str) -> None:
    with engine.connect() as conn, conn.begin():
        conn.execute(text(sql))


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_and_postgresql_schemes_use_psycopg_3(database_url, data_dir):
    rest = database_url.split("://", 1)[1]
    for scheme in ("postgres", "postgresql", "POSTGRES"):
        assert resolve_url(f"{scheme}://{rest}").url.drivername == "postgresql+psycopg"
    synced = registry("sync", "--yes", "--data-dir", str(data_dir),
                      "--database-url", f"postgres://{rest}")
    assert synced.exit_code == 0, synced.output
    assert f"Database: postgresql://{rest} (--database-url)" in synced.stderr
    listed = registry("list", "--format", "json", "--database-url", f"postgresql://{rest}")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.count('"provider":') == SHIPPED_MODELS


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("how", ["url", "PGOPTIONS"])
def test_the_users_connection_options_are_kept(database_url, data_dir, engine, monkeypatch, how):
    """A search_path given in the URL or in $PGOPTIONS puts the tables in that schema; the
    tool's own timeouts still apply."""
    execute(engine, "CREATE SCHEMA reg")
    url = database_url
    if how == "url":
        url += "?options=-csearch_path%3Dreg&application_name=nightly"
    else:
        monkeypatch.setenv("PGOPTIONS", "-c search_path=reg")
    synced = registry("sync", "--yes", "--data-dir", str(data_dir), "--database-url", url)
    assert synced.exit_code == 0, synced.output
    with engine.connect() as conn:
        schemas = conn.execute(text(
            "SELECT DISTINCT table_schema FROM information_schema.tables "
            "WHERE table_name IN ('models', 'alembic_version')"
        )).scalars().all()
    assert schemas == ["reg"]
    listed = registry("list", "--format", "json", "--database-url", url)
    assert listed.stdout.count('"provider":') == SHIPPED_MODELS
    with make_engine(resolve_url(url), lock_timeout_s=2).connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "2s"
        # A lock wait counts toward the statement timeout: it must never cut one short.
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "302s"
        name = conn.execute(text("SHOW application_name")).scalar_one()
    assert name == ("nightly" if how == "url" else "radiant-registry")


def test_database_url_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "sqlite:///from_registry_env.db")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from_database_env.db")

    result = registry("db", "upgrade", "--database-url", "sqlite:///from_option.db")
    assert result.exit_code == 0, result.output
    assert "Database: sqlite:///from_option.db (--database-url)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["from_option.db"]

    result = registry("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "Database: sqlite:///from_registry_env.db ($REGISTRY_DATABASE_URL)" in result.stderr
    assert (tmp_path / "from_registry_env.db").exists()
    assert not (tmp_path / "from_database_env.db").exists()

    monkeypatch.setenv("REGISTRY_DATABASE_URL", "")  # empty counts as unset
    result = registry("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "Database: sqlite:///from_database_env.db ($DATABASE_URL)" in result.stderr
    assert (tmp_path / "from_database_env.db").exists()
    assert not (tmp_path / "registry.db").exists()

    monkeypatch.delenv("REGISTRY_DATABASE_URL")
    monkeypatch.delenv("DATABASE_URL")
    result = registry("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "Database: sqlite:///registry.db (default)" in result.stderr
    assert (tmp_path / "registry.db").exists()  # in the current directory
    with sqlite3.connect(tmp_path / "registry.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


# --- the password never shows ---------------------------------------------------------------------


@pytest.fixture
def secret_role(postgres_admin: str) -> Iterator[tuple[str, str, str]]:
    """A role whose password is SECRET, owning a fresh database: (role, host:port, database)."""
    import psycopg
    from psycopg import sql

    role = f"rr_pw_{uuid.uuid4().hex[:10]}"
    database = f"{role}_db"
    admin = make_url(postgres_admin)
    with psycopg.connect(postgres_admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(SECRET)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(role)))
    try:
        yield role, f"{admin.host}:{admin.port or 5432}", database
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def commands(data_dir: Path) -> list[tuple[str, ...]]:
    data = ("--data-dir", str(data_dir))
    return [("sync", "--yes", *data), ("diff", *data), ("list",), ("db", "current")]


@pytest.mark.postgres
def test_password_with_percent_at_and_colon_works_and_never_shows(secret_role, data_dir,
                                                                   monkeypatch):
    role, host, database = secret_role
    encoded = f"postgresql://{role}:{quote(SECRET, safe='')}@{host}/{database}"
    raw = f"postgres://{role}:{SECRET}@{host}/{database}"
    shown = f"postgresql://{role}:***@{host}/{database}"
    for url in (encoded, raw):
        for argv in commands(data_dir):
            result = registry(*argv, "--database-url", url)
            assert result.exit_code == 0, (argv, result.output)
            assert f"Database: {shown} (--database-url)" in result.stderr
            assert_no_secret(result)
    monkeypatch.setenv("DATABASE_URL", encoded)
    result = registry("list", "--provider", "xai")
    assert result.exit_code == 0, result.output
    assert f"Database: {shown} ($DATABASE_URL)" in result.stderr
    assert "10 models" in result.stdout
    assert_no_secret(result)


@pytest.mark.postgres
@pytest.mark.postgres
def test_a_socket_folder_percent_encoded_in_the_host_as_libpq_writes_it(postgres_admin):
    """`postgresql://user@%2Fvar%2Frun%2Fpostgresql/db`, libpq's URI for a Unix socket."""
    admin = make_url(postgres_admin)
    admin_engine = make_engine(resolve_url(postgres_admin))
    with admin_engine.connect() as conn:
        folder = conn.execute(text("SHOW unix_socket_directories")).scalar_one().split(",")[0]
    admin_engine.dispose()
    if not folder or not Path(folder).is_dir():
        pytest.skip("the server listens on no Unix socket here")
    url = f"postgresql://{admin.username}@{quote(folder, safe='')}/{admin.database}"
    db = resolve_url(url)
    assert db.url.host == folder
    assert db.display.endswith(f"@{quote(folder, safe='')}/{admin.database}")  # as given
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_unreachable_database_exits_69_without_the_password(secret_role, data_dir):
    role, host, _ = secret_role
    password = quote(SECRET, safe="")
    failures = {
        f"postgresql://{role}:{password}@127.0.0.1:1/registry": "Connection refused",
        f"postgres://{role}:{SECRET}@127.0.0.1:1/registry": "Connection refused",
        f"postgresql://{role}:{password}@{host}/no_such_db_{uuid.uuid4().hex[:8]}":
            "does not exist",
    }
    for url, reason in failures.items():
        for argv in commands(data_dir):
            result = registry(*argv, "--database-url", url)
            assert result.exit_code == 69, (argv, result.output)
            assert "error: cannot use database postgresql://" in result.stderr
            assert reason in result.stderr
            assert_no_secret(result)
    # And in a real process, through the environment: no traceback, nothing on stdout.
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": next(iter(failures))}
    proc = subprocess.run(
        [str(REGISTRY), "sync", "--yes", "--data-dir",
         str(data_dir)], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 69, proc.stderr
    assert proc.stdout == ""
    for form in SECRET_FORMS:
        assert form not in proc.stderr
    assert "Traceback" not in proc.stderr
    # The README's other way to migrate, Alembic's own command, says it the same way.
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "upgrade", "head"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 69, proc.stderr
    assert "error: cannot use database postgresql://" in proc.stderr
    assert "Traceback" not in proc.stderr
    for form in SECRET_FORMS:
        assert form not in proc.stderr


def test_a_read_only_sqlite_file_says_what_must_be_writable(tmp_path):
    """As root (CI) no file is read-only: the error SQLite raises is made here, and
    translated as any error from the driver is."""
    import sqlite3

    from sqlalchemy import exc as sa_exc

    from radiant_registry.db import _translate
    from radiant_registry.urls import parse_url

    orig = sqlite3.OperationalError("attempt to write a readonly database")
    orig.sqlite_errorname = "SQLITE_READONLY"
    database = parse_url(f"sqlite:///{tmp_path}/registry.db", "--database-url")
    error = _translate(database, sa_exc.OperationalError("INSERT ...", {}, orig))
    assert error.exit_code == 69
    assert str(error) == (
        f"cannot use database {database.display}: attempt to write a readonly database (a "
        "sync writes, if only its run: the file and its folder must be writable)"
    )


def test_sqlite_file_that_cannot_be_opened_exits_69(tmp_path, data_dir):
    url = f"sqlite:///{tmp_path}/no/such/dir/registry.db"
    for argv in commands(data_dir):
        if argv[0] == "list":
            continue  # a read command refuses a missing file first (exit 78)
        result = registry(*argv, "--database-url", url)
        assert result.exit_code == 69, (argv, result.output)
        assert "unable to open database file" in result.stderr


def test_a_file_that_is_not_a_sqlite_database_exits_69_and_is_left_alone(tmp_path, data_dir):
    junk = tmp_path / "notes.db"
    content = "these are notes, not a database\n" * 10
    junk.write_text(content)
    for argv in commands(data_dir):
        result = registry(*argv, "--database-url", f"sqlite:///{junk}")
        assert result.exit_code == 69, (argv, result.output)
        assert "file is not a database" in result.stderr
    assert junk.read_text() == content


@pytest.mark.parametrize(("url", "message"), [
    (f"postgresql://u:{SECRET}@db.internal:notaport/registry", "cannot be parsed"),
    (f"mysql://u:{SECRET}@db.internal/registry", "unsupported database 'mysql'"),
    (f"mysql+pymysql://u:{quote(SECRET, safe='')}@db.internal/registry", "unsupported database"),
    (f"u:{SECRET}@db.internal/registry", "is not a URL"),
    ("sqlite://", "names no file"),
    ("sqlite:///", "names no file"),  # sqlite:///$DB with $DB unset
    ("sqlite:///:memory:", "names no file"),
    ("sqlite:///registry.db?mode=ro", "has parameters (mode), which are not supported"),
    # Parameters libpq, psycopg or SQLAlchemy refuse: the URL is wrong, not the server down.
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?foo=bar", 'invalid connection option "foo"'),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?sslmode=bogus", "invalid sslmode value"),
    # psycopg's own arguments: ?autocommit=false, a true string, would undo the transaction.
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?autocommit=false", 'option "autocommit"'),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?prepare_threshold=0", "not a libpq"),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?row_factory=x", 'option "row_factory"'),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?connect_timeout=x", "bad value for"),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?port=abc", "non-integer port"),
    (f"postgresql://u:{SECRET}@127.0.0.1:99999/registry", 'invalid port number: "99999"'),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?ssl_min_protocol_version=x", "invalid"),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?hostaddr=abc", "could not parse network"),
    ("sqlite:////tmp/x%00y.db", "holds a NUL character"),
    ("", "the database URL from --database-url is not a URL"),
    (f"postgresql://u:{SECRET}@127.0.0.1/reg%00istry", "holds a NUL character"),
    (f"postgresql://u:{SECRET}@127.0.0.1/registry?application_name=a%00b", "holds a NUL"),
])
def test_bad_or_unsupported_url_exits_78_without_the_password(tmp_path, data_dir, url, message):
    for argv in commands(data_dir):
        result = registry(*argv, "--database-url", url)
        assert result.exit_code == 78, (argv, result.output)
        assert message in result.stderr
        assert_no_secret(result)
    assert list(tmp_path.glob("*.db")) == []


@pytest.mark.postgres
@pytest.mark.parametrize(("options", "message"), [
    ("-c statement_timeout=abc", 'invalid value for parameter "statement_timeout"'),
    ("-c no_such_setting=1", 'unrecognized configuration parameter "no_such_setting"'),
])
def test_a_setting_the_server_refuses_as_it_connects_exits_78(
    postgres_admin, data_dir, monkeypatch, options, message
):
    """The URL's `options` are wrong, not the server down: 78, as for libpq's own refusals.
    $PGOPTIONS too: the tool passes it on with its own timeouts. (Read commands only: the
    URL is the admin database's.)"""
    url = f"{postgres_admin}?options={quote(options)}"
    for argv in (("diff", "--data-dir", str(data_dir)), ("list",), ("db", "current")):
        result = registry(*argv, "--database-url", url)
        assert result.exit_code == 78, (argv, result.output)
        assert "the database URL is not usable: " in result.stderr, argv
        assert message in result.stderr, argv
    monkeypatch.setenv("PGOPTIONS", options)
    result = registry("list", "--database-url", postgres_admin)
    assert result.exit_code == 78, result.output
    assert "$PGOPTIONS is not usable: " in result.stderr and message in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(("variable", "value", "message"), [
    ("PGSSLMODE", "bogus", 'invalid sslmode value: "bogus"'),
    ("PGSSLMODE", "", 'invalid sslmode value: ""'),  # set, if empty: libpq takes it
    ("PGCONNECT_TIMEOUT", "abc", "bad value for connect_timeout: 'abc'"),
    ("PGHOSTADDR", "bogus", 'could not parse network address "bogus"'),
    ("PGSERVICE", "nosuch", 'definition of service "nosuch" not found'),  # was 69
])
def test_a_connection_parameter_refused_is_blamed_on_its_variable(
    postgres_admin, monkeypatch, variable, value, message
):
    """The URL is fine; a PG* variable libpq reads is not (it said "the database URL")."""
    monkeypatch.setenv(variable, value)
    result = registry("list", "--database-url", postgres_admin)
    assert result.exit_code == 78, result.output
    assert f"${variable} is not usable: " in result.stderr and message in result.stderr
    assert "the database URL" not in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(("services", "message"), [
    (None, 'service file "'),  # $PGSERVICEFILE names no file
    ("[registry]\nsslmode\n", 'syntax error in service file "'),
    ("[registry]\nbogus=1\n", 'syntax error in service file "'),
])
def test_a_service_file_libpq_cannot_use_is_a_configuration_error(
    postgres_admin, monkeypatch, tmp_path, services, message
):
    """It was exit 69, "cannot use database": an outage to cron's alerting."""
    path = tmp_path / "pg_service.conf"
    if services is not None:
        path.write_text(services)
    monkeypatch.setenv("PGSERVICEFILE", str(path))
    result = registry("list", "--database-url", f"{postgres_admin}?service=registry")
    assert result.exit_code == 78, result.output
    assert "error: the libpq service file is not usable: " in result.stderr
    assert message in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(("environment", "source"), [
    ({}, "the libpq service file"),
    ({"PGSSLMODE": "require"}, "$PGSSLMODE or the libpq service file"),  # the file's wins
])
def test_a_parameter_refused_with_a_service_file_in_use_names_the_file(
    postgres_admin, monkeypatch, tmp_path, environment, source
):
    """It said $PGSSLMODE (or "the database URL") for the service file's bad sslmode."""
    services = tmp_path / "pg_service.conf"
    services.write_text("[registry]\nsslmode=bogus\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = registry("list", "--database-url", f"{postgres_admin}?service=registry")
    assert result.exit_code == 78, result.output
    assert f"error: {source} is not usable: " in result.stderr
    assert 'invalid sslmode value: "bogus"' in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(("variable", "value", "query"), [
    ("PGPORT", "5432", "keepalives=abc"),  # libpq's message names port 5432 first
    ("PGSSLMODE", "require", "sslmode=bogus"),  # the URL's own wins over the variable
    ("PGSSLMODE", "require", "service=nosuch"),  # no such service: a mistake, not an outage
])
def test_a_url_parameter_refused_is_blamed_on_the_url_whatever_the_variables(
    postgres_admin, monkeypatch, variable, value, query
):
    monkeypatch.setenv(variable, value)
    given = make_url(postgres_admin)  # without its port: libpq may read $PGPORT then
    url = URL.create(
        given.drivername, given.username, given.password, given.host, None, given.database
    ).render_as_string(hide_password=False)
    result = registry("list", "--database-url", f"{url}?{query}")
    assert result.exit_code == 78, result.output
    assert "the database URL is not usable: " in result.stderr
    assert f"${variable}" not in result.stderr


@pytest.mark.postgres
def test_a_setting_refused_is_blamed_on_where_it_came_from(postgres_admin, monkeypatch):
    message = 'invalid value for parameter "client_encoding": "bogus"'
    given = registry("list", "--database-url", f"{postgres_admin}?client_encoding=bogus")
    assert given.exit_code == 78, given.output
    assert "the database URL is not usable: " in given.stderr and message in given.stderr
    monkeypatch.setenv("PGCLIENTENCODING", "bogus")
    variable = registry("list", "--database-url", postgres_admin)
    assert variable.exit_code == 78, variable.output
    assert "a PG* environment variable (or libpq service file) is not usable: " in (
        variable.stderr)
    assert message in variable.stderr and "$PGOPTIONS" not in variable.stderr


@pytest.mark.postgres
def test_a_sql_ascii_database_is_read_as_utf8(postgres_admin, data_dir):
    """psycopg hands a SQL_ASCII database's text back as bytes, unless told the encoding:
    a traceback from every command, where the tool asks for UTF-8."""
    import psycopg

    name = f"rr_ascii_{os.getpid()}"
    with psycopg.connect(postgres_admin, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
                      "LC_CTYPE 'C' TEMPLATE template0")
    url = postgres_admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        synced = registry("sync", "--yes", "--data-dir", str(data_dir), "--database-url", url)
        assert synced.exit_code == 0, synced.output
        listed = registry("list", "--provider", "xai", "--database-url", url)
        assert listed.exit_code == 0, listed.output
        assert listed.stdout.strip().endswith("10 models")
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.postgres
def test_a_connection_finds_a_silent_server_within_about_a_minute(postgres_admin):
    """TCP keepalives: a partition found in ~60 s (30 idle + 3 probes 10 s apart), not
    the system default's two hours; the URL may set them otherwise."""
    from radiant_registry.db import make_engine
    from radiant_registry.urls import resolve_url

    for url, idle in ((postgres_admin, "30"), (f"{postgres_admin}?keepalives_idle=5", "5")):
        engine = make_engine(resolve_url(url))
        try:
            with engine.connect() as conn:
                settings = conn.connection.driver_connection.info.get_parameters()
        finally:
            engine.dispose()
        assert (settings["keepalives_idle"], settings["keepalives_interval"],
                settings["keepalives_count"]) == (idle, "10", "3")


# --- migrations ---------------------------------------------------------------------------------


def test_migrations_have_exactly_one_head():
    bundled = ScriptDirectory.from_config(migrations.alembic_config())
    assert bundled.get_heads() == [HEAD]
    assert migrations.head_revision() == HEAD
    # Commands check a database against this constant, without importing Alembic.
    assert migrations.SCHEMA_HEAD == HEAD
    checkout = ScriptDirectory.from_config(Config(str(REPO / "alembic.ini")))
    assert checkout.get_heads() == [HEAD]
    assert [r.revision for r in checkout.walk_revisions()] == [HEAD]


def test_upgrade_downgrade_upgrade_through_the_cli(database_url, engine, data_dir):
    url = ("--database-url", database_url)
    current = registry("db", "current", *url)
    assert current.exit_code == 0, current.output
    assert current.stdout == f"base (empty) (head is {HEAD}: run `registry db upgrade`)\n"

    for _ in range(2):
        up = registry("db", "upgrade", *url)
        assert up.exit_code == 0, up.output
        assert f"Schema at revision {HEAD}" in up.stderr
        assert schema(engine) == (SCHEMA_TABLES, ["effective_model_prices"])
        assert registry("db", "current", *url).stdout == f"{HEAD} (at head)\n"

        down = registry("db", "downgrade", "base", "--yes", *url)
        assert down.exit_code == 0, down.output
        assert "Schema at revision base (empty)" in down.stderr
        assert schema(engine) == ({"alembic_version"}, [])

    assert registry("db", "upgrade", HEAD, *url).exit_code == 0
    synced = registry("sync", "--yes", "--data-dir", str(data_dir), *url)
    assert synced.exit_code == 0, synced.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM models")).scalar_one() == SHIPPED_MODELS


def test_tables_match_what_the_migrations_create(database_url, engine):
    assert registry("db", "upgrade", "--database-url", database_url).exit_code == 0
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, metadata) == []


def alembic_upgrade_head(
    database_url: str, *argv: str
) -> subprocess.CompletedProcess[str]:
    """Alembic's own command (`upgrade head`, or `argv`), run from the checkout as the README
    says."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), *(argv or ("upgrade", "head"))],
        cwd=REPO, env={"PATH": os.environ["PATH"], "REGISTRY_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=60,
    )


def test_alembic_stamp_writes_no_version_over_another_applications_tables(
    database_url, engine
):
    execute(engine, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    proc = alembic_upgrade_head(database_url, "stamp", "head")
    assert proc.returncode == 78, proc.stderr
    assert "tables but no radiant-registry schema version (invoices)" in proc.stderr
    assert "restores it" not in proc.stderr  # not the registry's tables: no such advice
    with engine.connect() as conn:
        assert not inspect(conn).has_table("alembic_version")


def test_alembic_ensure_version_writes_nothing_over_another_applications_tables(
    database_url, engine
):
    """A command env.py does not know as a reader is held to a writer's checks."""
    execute(engine, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    proc = alembic_upgrade_head(database_url, "ensure_version")
    assert proc.returncode == 78, proc.stderr
    assert "tables but no radiant-registry schema version (invoices)" in proc.stderr
    with engine.connect() as conn:
        assert not inspect(conn).has_table("alembic_version")


def test_alembic_current_creates_nothing(tmp_path):
    """It reads: no SQLite file made for it, no write lock taken."""
    path = tmp_path / "registry.db"
    proc = alembic_upgrade_head(f"sqlite:///{path}", "current")
    assert proc.returncode == 0, proc.stderr
    assert "read as an empty database" in proc.stderr
    assert not path.exists()


def test_alembic_upgrade_head_from_the_checkout(database_url, engine):
    proc = alembic_upgrade_head(database_url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("Database: ") and "($REGISTRY_DATABASE_URL)" in proc.stderr
    assert f"Running upgrade  -> {HEAD}" in proc.stderr  # alembic.ini's logging
    assert schema(engine) == (SCHEMA_TABLES, ["effective_model_prices"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
    listed = registry("list", "--database-url", database_url)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.strip().endswith("0 models")


@pytest.mark.parametrize("given", ["ini", "-x"])
def test_alembic_refuses_a_url_it_would_ignore(tmp_path, given):
    """The URL comes from the environment, as for `registry`: one given to Alembic's own
    ways must not silently migrate ./registry.db instead."""
    elsewhere = f"sqlite:///{tmp_path / 'meant.db'}"
    ini = tmp_path / "alembic.ini"
    text_ = (REPO / "alembic.ini").read_text().replace("%(here)s", str(REPO))
    if given == "ini":
        text_ = text_.replace("[alembic]\n", f"[alembic]\nsqlalchemy.url = {elsewhere}\n")
    ini.write_text(text_)
    extra = ["-x", f"sqlalchemy.url={elsewhere}"] if given == "-x" else []
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "-c", str(ini), *extra, "upgrade", "head"],
        cwd=tmp_path, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True,
        timeout=60,
    )
    assert proc.returncode == 78, proc.stderr
    assert proc.stderr == (
        "error: the database URL is not read from sqlalchemy.url or -x here: set "
        "$REGISTRY_DATABASE_URL (or use `registry db upgrade --database-url URL`)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alembic.ini"]  # no database made


def synced_database(database_url: str, data_dir: Path) -> None:
    result = registry("sync", "--yes", "--data-dir", str(data_dir), "--database-url", database_url)
    assert result.exit_code == 0, result.output


def refused_everywhere(
    database_url: str, data_dir: Path, message: str, *more: tuple[str, ...]
) -> None:
    """Every command named (sync, diff, list, show, and `more`) exits 78 with `message`."""
    data = ("--data-dir", str(data_dir))
    for argv in (("sync", "--yes", *data), ("diff", *data), ("list",), ("show", "xai/grok-3"),
                 *more):
        result = registry(*argv, "--database-url", database_url)
        assert result.exit_code == 78, (argv, result.output)
        assert message in result.stderr, argv


def test_a_table_dropped_by_hand_is_a_configuration_error(database_url, engine, data_dir):
    synced_database(database_url, data_dir)
    cascade = "" if database_url.startswith("sqlite") else " CASCADE"  # and the view
    execute(engine, f"DROP TABLE price_overrides{cascade}")
    refused_everywhere(database_url, data_dir,
                       "is at revision 0001 but has no table price_overrides")


def test_database_at_an_older_revision_is_refused_until_db_upgrade(database_url, data_dir,
                                                                   monkeypatch):
    synced_database(database_url, data_dir)
    # This tool's history has one revision: pretend the tool is one migration ahead.
    monkeypatch.setattr(migrations, "SCHEMA_HEAD", "0002")
    refused_everywhere(
        database_url, data_dir,
        f"the database schema is at revision {HEAD}, this tool needs 0002: "
        "run `registry db upgrade`",
    )


def test_database_with_tables_but_no_version_is_refused(database_url, engine, data_dir):
    synced_database(database_url, data_dir)
    execute(engine, "DELETE FROM alembic_version")
    refused_everywhere(database_url, data_dir,
                       "the database has tables but no radiant-registry schema version")
    # Without --yes (no terminal here), refused all the same, not asked for --yes (64).
    for argv in (("db", "upgrade"), ("db", "downgrade", "base", "--yes"),
                 ("db", "downgrade", "base")):
        result = registry(*argv, "--database-url", database_url)
        assert result.exit_code == 78, (argv, result.output)
        assert "tables but no radiant-registry schema version" in result.stderr
        assert "`alembic stamp head` (README: The database) restores it" in result.stderr
    proc = alembic_upgrade_head(database_url)  # the README's other way to migrate
    assert proc.returncode == 78, proc.stderr
    assert "tables but no radiant-registry schema version" in proc.stderr
    with engine.connect() as conn:  # the downgrade dropped nothing, the upgrade made nothing
        assert conn.execute(text("SELECT count(*) FROM models")).scalar_one() == SHIPPED_MODELS
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0
    # Alembic's stamp, which migrates nothing, restores a version table lost to a hand edit.
    proc = alembic_upgrade_head(database_url, "stamp", "head")
    assert proc.returncode == 0, proc.stderr
    listed = registry("list", "--format", "json", "--database-url", database_url)
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == SHIPPED_MODELS


# A newer tool's revision, and what a hand edit may leave (Alembic's parser asserts on some).
@pytest.mark.parametrize("stored", ["ffff0000", "", "@", "head", "base"])
def test_database_at_an_unknown_revision_is_refused(database_url, engine, data_dir, stored):
    synced_database(database_url, data_dir)
    execute(engine, f"UPDATE alembic_version SET version_num = '{stored}'")
    message = f"the database schema is at revision {stored!r}, which this version of"
    refused_everywhere(database_url, data_dir, message)
    # Without --yes (no terminal here), refused all the same, not asked for --yes (64).
    for argv in (("db", "upgrade"), ("db", "downgrade", "base", "--yes"),
                 ("db", "downgrade", "base")):
        result = registry(*argv, "--database-url", database_url)
        assert result.exit_code == 78, (argv, result.output)
        assert message in " ".join(result.stderr.split()), argv
    for argv in (("upgrade", "head"), ("stamp", "head"), ("stamp", "--purge", "head")):
        proc = alembic_upgrade_head(database_url, *argv)  # the README's other way to migrate
        assert proc.returncode == 78, (argv, proc.stderr)
        assert message in " ".join(proc.stderr.split()), argv
    current = registry("db", "current", "--database-url", database_url)
    assert current.stdout == (
        f"{stored or repr(stored)} (unknown to this version, whose head is {HEAD}: "
        "another application's, or a newer radiant-registry's)\n"
    )
    with engine.connect() as conn:  # nothing was migrated
        assert conn.execute(text("SELECT count(*) FROM models")).scalar_one() == SHIPPED_MODELS


def test_database_with_several_revisions_is_refused(database_url, engine, data_dir):
    synced_database(database_url, data_dir)
    execute(engine, f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD}x')")
    message = f"alembic_version holds several revisions ({HEAD}, {HEAD}x)"
    refused_everywhere(database_url, data_dir, message, ("db", "current"), ("db", "upgrade"))


@pytest.mark.parametrize(("stored", "shown"), [("NULL", "None"), ("42", "42")])
def test_a_version_that_is_not_a_revision_id_is_refused(
    database_url, engine, data_dir, stored, shown
):
    """A hand-made alembic_version may hold a NULL, or (SQLite) an integer."""
    synced_database(database_url, data_dir)
    execute(engine, "DROP TABLE alembic_version")
    execute(engine, "CREATE TABLE alembic_version (version_num INTEGER)")
    execute(engine, f"INSERT INTO alembic_version VALUES ({stored})")
    message = f"the database's alembic_version holds {shown}, not a revision id"
    refused_everywhere(database_url, data_dir, message, ("db", "current"), ("db", "upgrade"))


@pytest.mark.parametrize("synced", [False, True], ids=["empty", "at head"])
@pytest.mark.parametrize(("command", "revision", "message"), [
    ("upgrade", "nosuchrev", "Can't locate revision identified by 'nosuchrev'"),
    ("downgrade", "nosuchrev", "Can't locate revision identified by 'nosuchrev'"),
    ("upgrade", "head+1", "'head+1' is not a revision"),
    ("upgrade", "", "'' is not a revision"),
    ("downgrade", "@", "'@' is not a revision"),
])
def test_db_migrate_to_an_unknown_revision_is_a_usage_error(
    database_url, engine, data_dir, synced, command, revision, message
):
    if synced:
        synced_database(database_url, data_dir)
    before = schema(engine)
    confirmed = ["--yes"] if command == "downgrade" else []
    result = registry("db", command, revision, *confirmed, "--database-url", database_url)
    assert result.exit_code == 64, result.output
    assert message in result.stderr
    assert schema(engine) == before


def test_db_upgrade_to_an_unknown_revision_creates_no_sqlite_file(tmp_path):
    """The target is checked before the database is opened: a typo leaves no empty file
    behind (for a later `registry list` to call a database without a schema)."""
    path = tmp_path / "registry.db"
    result = registry("db", "upgrade", "nosuchrev", "--database-url", f"sqlite:///{path}")
    assert result.exit_code == 64, result.output
    assert "Can't locate revision identified by 'nosuchrev'" in result.stderr
    assert not path.exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_db_downgrade_to_an_unknown_revision_asks_nothing(database_url, data_dir):
    """Refused before the question: a "yes" to a downgrade that cannot happen is no answer."""
    synced_database(database_url, data_dir)
    argv = [str(REGISTRY), "db", "downgrade", "nosuchrev", "--database-url", database_url]
    code, shown = on_a_terminal(argv, when=b"Can't locate revision identified by 'nosuchrev'")
    assert code == 64, shown
    assert b"[y/N]" not in shown


def test_an_assertion_outside_alembics_revision_parser_is_not_taken_for_a_bad_revision():
    """Only the parser's asserts mean a malformed revision: one in a migration is a bug."""
    with (
        pytest.raises(AssertionError, match="a migration's own check"),
        migrations._alembic_errors("head"),
    ):
        raise AssertionError("a migration's own check")


# --- the view consumers read ----------------------------------------------------------------------


def test_effective_model_prices_view(database_url, engine, data_dir):
    synced_database(database_url, data_dir)
    result = registry("price", "set", "xai/grok-3", "--input", "2.5", "--reason", "deal",
                      "--database-url", database_url)
    assert result.exit_code == 0, result.output
    disabled = registry("disable", "xai/grok-2", "--reason", "old", "--database-url", database_url)
    assert disabled.exit_code == 0
    query = text(
        "SELECT model_id, input_per_1m, output_per_1m, list_input_per_1m, list_output_per_1m, "
        "overridden, enabled, retired FROM effective_model_prices "
        "WHERE provider_id = 'xai' AND model_id IN ('grok-3', 'grok-2', 'grok-embed')"
    )
    with engine.connect() as conn:
        rows = {row[0]: row[1:] for row in conn.execute(query)}
        count = conn.execute(text("SELECT count(*) FROM effective_model_prices")).scalar_one()
    assert count == SHIPPED_MODELS

    def prices(row: tuple[Any, ...]) -> tuple[Decimal | None, ...]:
        return tuple(None if v is None else Decimal(str(v)) for v in row[:4])

    def flags(row: tuple[Any, ...]) -> tuple[bool, ...]:
        return tuple(bool(v) for v in row[4:])

    assert prices(rows["grok-3"]) == (Decimal("2.5"), Decimal(15), Decimal(3), Decimal(15))
    assert flags(rows["grok-3"]) == (True, True, False)
    assert prices(rows["grok-2"]) == (Decimal(2), Decimal(10), Decimal(2), Decimal(10))
    assert flags(rows["grok-2"]) == (False, False, False)
    assert prices(rows["grok-embed"]) == (Decimal("0.1"), None, Decimal("0.1"), None)

    cleared = registry("price", "clear", "xai/grok-3", "--database-url", database_url)
    assert cleared.exit_code == 0
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT input_per_1m, overridden FROM effective_model_prices "
            "WHERE provider_id = 'xai' AND model_id = 'grok-3'")).one()
    assert (Decimal(str(row[0])), bool(row[1])) == (Decimal(3), False)


def test_the_view_and_the_tool_agree_on_every_effective_price(database_url, engine, data_dir):
    """Consumers read the view; `list` works the prices out itself: one rule, both places."""
    synced_database(database_url, data_dir)
    for model, prices in (("xai/grok-3", ("--input", "2.5")), ("openai/o1", ("--output", "7")),
                          ("xai/grok-embed", ("--input", "0.01")),
                          ("anthropic/claude-4-opus", ("--input", "1", "--output", "2"))):
        done = registry("price", "set", model, *prices, "--reason", "deal",
                        "--database-url", database_url)
        assert done.exit_code == 0, done.output
    listed = registry("list", "--all", "--format", "json", "--database-url", database_url)
    assert listed.exit_code == 0, listed.output
    by_tool = {(r["provider"], r["id"]): (
        r["pricing"]["input_per_1m"], r["pricing"]["output_per_1m"], r["override"] is not None,
    ) for r in json.loads(listed.stdout)}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT provider_id, model_id, input_per_1m, output_per_1m, "
                                 "overridden FROM effective_model_prices")).all()

    def number(value: Any) -> float | None:
        return None if value is None else float(Decimal(str(value)))

    by_view = {(p, m): (number(i), number(o), bool(flag)) for p, m, i, o, flag in rows}
    assert by_view == by_tool
    assert sum(overridden for _, _, overridden in by_view.values()) == 4


def test_db_downgrade_of_an_empty_database_asks_nothing(database_url, engine):
    """No terminal and no --yes: the question would be refused, but there is none to ask."""
    result = registry("db", "downgrade", "base", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "Schema at revision base (empty): nothing to downgrade"
    assert schema(engine) == (set(), [])


def test_db_downgrade_without_a_terminal_needs_yes(database_url, data_dir):
    synced_database(database_url, data_dir)
    result = registry("db", "downgrade", "base", "--database-url", database_url)
    assert result.exit_code == 64
    assert "pass --yes to downgrade" in result.stderr
    current = registry("db", "current", "--database-url", database_url)
    assert current.stdout == f"{HEAD} (at head)\n"


def test_db_downgrade_to_a_relative_revision_as_its_help_says(database_url, data_dir):
    synced_database(database_url, data_dir)
    result = registry("db", "downgrade", "--yes", "--database-url", database_url, "--", "-1")
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    previous = scripts.get_revision(HEAD).down_revision or "base (empty)"
    current = registry("db", "current", "--database-url", database_url)
    assert current.stdout == f"{previous} (head is {HEAD}: run `registry db upgrade`)\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("answer", ["y", "n"])
def test_db_downgrade_names_the_database_before_it_asks(database_url, data_dir, answer):
    synced_database(database_url, data_dir)
    argv = [str(REGISTRY), "db", "downgrade", "base", "--database-url", database_url]
    code, shown = on_a_terminal(argv, when=b"[y/N]", keys=f"{answer}\r".encode())
    assert code == 0, shown
    text_shown = shown.decode()
    asked = text_shown.index("Downgrade it to base? Data in dropped tables is lost [y/N]")
    assert -1 < text_shown.find("Database: ") < asked
    current = registry("db", "current", "--database-url", database_url).stdout
    if answer == "y":
        assert "Schema at revision base (empty)" in text_shown
        assert current.startswith("base (empty)")
    else:
        assert "Nothing changed." in text_shown
        assert current == f"{HEAD} (at head)\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_db_downgrade_asks_under_the_lock_it_drops_under(database_url, data_dir):
    """From the revision's check to the drop no sync slips in: what is dropped is what the
    question was about."""
    synced_database(database_url, data_dir)
    argv = [str(REGISTRY), "db", "downgrade", "base", "--database-url", database_url]
    meanwhile = []

    def sync_at_the_prompt() -> None:
        meanwhile.append(registry("sync", "--yes", "--lock-timeout", "0", "--data-dir",
                                  str(data_dir), "--database-url", database_url))

    code, shown = on_a_terminal(argv, when=b"[y/N]", keys=b"n\r", meanwhile=sync_at_the_prompt)
    assert code == 0, shown
    assert "Nothing changed." in shown.decode()
    assert meanwhile[0].exit_code == 75, meanwhile[0].output


@pytest.mark.postgres
def test_a_client_encoding_in_the_options_is_kept(postgres_admin, monkeypatch):
    """The tool asks for UTF-8 only where nothing else says: `-c client_encoding=…` in the
    URL's options or $PGOPTIONS is the user's choice (a startup parameter would win)."""
    from radiant_registry.db import make_engine
    from radiant_registry.urls import resolve_url

    monkeypatch.setenv("PGOPTIONS", "-c client_encoding=LATIN1")
    engine = make_engine(resolve_url(postgres_admin))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW client_encoding")).scalar_one() == "LATIN1"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_connection_the_server_ends_is_unreachable_not_a_failed_statement(postgres_admin):
    """pg_terminate_backend, a restart or a failover (57P01-57P03): exit 69 as for any
    connection lost, not 74 as for a statement the database refused."""
    from radiant_registry.db import translated_errors
    from radiant_registry.errors import DatabaseUnavailable

    database = resolve_url(postgres_admin)
    engine, admin = make_engine(database), make_engine(database)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as other:
                assert other.execute(text(f"SELECT pg_terminate_backend({pid})")).scalar()
            failing = pytest.raises(DatabaseUnavailable, match="administrator command")
            with failing, translated_errors(database):
                conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
        admin.dispose()
