"""Alembic environment shared by the `alembic` command and `registry db ...`.

The CLI passes an open connection in `config.attributes["connection"]` (Alembic's
cookbook recipe), so the URL never goes through Alembic's %-interpolating config, which
would echo a password holding '%'. Run as `alembic upgrade head`, the URL is resolved the
same way the CLI resolves it.
"""

from __future__ import annotations

from alembic import context
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


def run_from_command_line() -> None:
    """As `registry` does: the URL from the environment, errors as a message and an exit
    code (README), never a traceback."""
    import sys

    from radiant_registry.db import make_engine, resolve_url, translated_errors
    from radiant_registry.errors import RegistryError

    try:
        db = resolve_url(None)
        engine = make_engine(db)
        try:
            with translated_errors(db), engine.connect() as connection:
                run_migrations(connection)
                connection.commit()
        finally:
            engine.dispose()
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
