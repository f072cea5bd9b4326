"""Run the Alembic migrations from code, on a connection the CLI already holds."""

from __future__ import annotations

from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from radiant_registry.config import bundled_path
from radiant_registry.errors import ConfigError, SchemaOutOfDate

State = Literal["empty", "current"]


def alembic_config(connection: Connection | None = None) -> Config:
    # No ini file and no sqlalchemy.url: the URL never passes through Alembic's config.
    config = Config()
    config.set_main_option("script_location", str(bundled_path("alembic")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def schema_state(connection: Connection) -> State:
    """'empty' for a brand-new database, 'current' at head; otherwise refuse (exit 78)."""
    revision = current_revision(connection)
    if revision is None:
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        if tables:
            raise ConfigError(
                "the database has tables but no radiant-registry schema version "
                f"({', '.join(sorted(tables)[:5])}): is it the right database?"
            )
        return "empty"
    head = head_revision()
    if revision != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {revision}, this tool needs {head}: "
            "run `registry db upgrade`"
        )
    return "current"
