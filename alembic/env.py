"""Alembic environment shared by the `alembic` command and `registry db ...`.

The CLI passes an open connection in `config.attributes["connection"]` (Alembic's
cookbook recipe), so the URL never goes through Alembic's %-interpolating config, which
would echo a password holding '%'. Run as `alembic upgrade head`, the URL is resolved the
same way the CLI resolves it.
"""

from __future__ import annotations

import sys

from alembic import context
from alembic.config import Config
from sqlalchemy import Connection

from radiant_registry.tables import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _say(event: str, text: str, **fields: str) -> None:
    print(text, file=sys.stderr)  # which database, as `registry` says it


def _command(config: Config) -> str:
    """The Alembic command run (`upgrade`, `stamp`, `current`...); `upgrade` where Alembic
    was not run from its command line (the strictest check)."""
    command = getattr(config.cmd_opts, "cmd", None)
    return "upgrade" if command is None else str(command[0].__name__)


_READERS = ("current", "check")  # any other command may write (ensure_version does)


def run_from_command_line() -> None:
    """As `registry` does: the URL from the environment, said on stderr; errors as a
    message and an exit code (README), never a traceback."""
    from logging.config import fileConfig

    from radiant_registry import db, migrations, urls
    from radiant_registry.config import Absent
    from radiant_registry.errors import ConfigError, RegistryError

    config = context.config
    if config.config_file_name is not None:  # the ini's logging: "Running upgrade ..."
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    try:
        # A URL given to Alembic's own ways would be ignored: refuse it rather than migrate
        # another database than the one meant.
        if config.get_main_option("sqlalchemy.url") or context.get_x_argument():
            raise ConfigError(
                "the database URL is not read from sqlalchemy.url or -x here: set "
                "$REGISTRY_DATABASE_URL (or use `registry db upgrade --database-url URL`)"
            )
        url = urls.resolve_url(None)
        command = _command(config)
        if command in _READERS:  # creating nothing, taking no lock
            with db.connect(url, absent=Absent.read_as_empty, say=_say) as connection:
                run_migrations(connection)
            return
        with (
            db.connect(url, absent=Absent.create, say=_say) as connection,
            db.registry_write(connection),  # as `registry db upgrade`
        ):
            if command == "stamp":  # never its version table over another application's
                migrations.check_stamp(connection)
            else:  # nor migrations over its tables
                migrations.known_revision(connection)
            run_migrations(connection)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")

shared = context.config.attributes.get("connection")
if shared is not None:
    run_migrations(shared)
else:
    run_from_command_line()
