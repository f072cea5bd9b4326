"""Run the Alembic migrations from code, on a connection the CLI already holds.

Alembic itself is imported only to migrate: checking that a database is at head, which
every command does, reads alembic_version directly and compares it with SCHEMA_HEAD
(a test holds SCHEMA_HEAD equal to the migrations' head).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection, inspect, text

from radiant_registry.config import bundled_path
from radiant_registry.errors import ConfigError, SchemaOutOfDate, UsageError
from radiant_registry.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

State = Literal["empty", "current"]
SCHEMA_HEAD = "0001"  # the newest revision in alembic/versions


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    # No ini file and no sqlalchemy.url: the URL never passes through Alembic's config.
    config = Config()
    config.set_main_option("script_location", str(bundled_path("alembic")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The head as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head"
    return head


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if any(not isinstance(revision, str) for revision in rows):  # a NULL, or SQLite's 1
        shown = ", ".join(sorted(map(repr, rows)))
        raise ConfigError(
            f"the database's alembic_version holds {shown}, not a revision id: "
            "was it edited by hand?"
        )
    found = sorted(rows)
    if len(found) > 1:  # branches, which these migrations never make: a hand edit
        raise ConfigError(
            f"the database's alembic_version holds several revisions ({', '.join(found)}); "
            "radiant-registry's migrations keep one: was it edited by hand?"
        )
    return found[0] if found else None


@contextmanager
def _alembic_errors(revision: str) -> Iterator[None]:
    """Alembic's own errors, about the revision asked for (the database's own is checked
    before): usage errors, 64."""
    from alembic.util import CommandError

    try:
        yield
    except CommandError as exc:
        raise UsageError(f"migration refused: {exc}") from None
    except AssertionError as exc:
        # Alembic's revision parser asserts on some malformed ones ('', '@', 'head+1');
        # an assertion anywhere else (a migration script, SQLAlchemy) is a bug, not a typo.
        if not _raised_by_revision_parser(exc):
            raise
        raise UsageError(f"migration refused: {revision!r} is not a revision") from None


def _raised_by_revision_parser(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    where = Path(frames[-1].filename).parts[-3:] if frames else ()
    return where == ("alembic", "script", "revision.py")


# Alembic's relative targets (+1, -1, head-1, ae10+2, branch@-1): they name a revision
# from the database's own, so only a migration against it can check them.
_RELATIVE = re.compile(r"(?:.+?@)?\w*[+-]\d+")


def check_target(revision: str) -> None:
    """Refuse (64) a target no migration has before a database is opened: no SQLite file
    is created for it, no lock waited for, no downgrade asked about."""
    if _RELATIVE.fullmatch(revision):
        return
    from alembic.script import ScriptDirectory

    with _alembic_errors(revision):
        ScriptDirectory.from_config(alembic_config()).get_revisions(revision)


def upgrade(connection: Connection, revision: str = "head") -> None:
    known_revision(connection)
    from alembic import command

    with _alembic_errors(revision):
        command.upgrade(alembic_config(connection), revision)


Downgrade = Literal["empty", "declined", "done"]


def downgrade(
    connection: Connection, revision: str, confirm: Callable[[], bool] = lambda: True
) -> Downgrade:
    """Migrate down to `revision` in the caller's transaction, which holds the registry
    lock from the check to the drop, so that what is dropped is what `confirm` asked about.

    A database this version cannot start from is refused (78) before anything is asked. An
    empty one has nothing to drop and nothing is asked: the revision is still checked, in a
    savepoint undone after (Alembic would leave its version table)."""
    if known_revision(connection) is None:
        with connection.begin_nested() as check:
            _downgrade(connection, revision)
            check.rollback()
        return "empty"
    if not confirm():
        return "declined"
    _downgrade(connection, revision)
    return "done"


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    with _alembic_errors(revision):
        command.downgrade(alembic_config(connection), revision)


def known_revision(connection: Connection) -> str | None:
    """The database's revision, None for an empty one; exit 78 unless this version's
    migrations can start from it (never from tables without a version)."""
    current = current_revision(connection)
    if current is None:
        _refuse_unversioned_tables(connection)
    elif current != SCHEMA_HEAD and not is_known(current):  # at head: no Alembic import
        raise ConfigError(_unknown(current))
    return current


def check_stamp(connection: Connection) -> None:
    """`alembic stamp` writes a version without migrating: to restore one lost to a hand
    edit, on the registry's own tables. Refused (78) on another application's database:
    an unknown revision, or tables of which the registry's are not all there."""
    tables = set(inspect(connection).get_table_names())
    if current_revision(connection) is None and set(metadata.tables) <= tables:
        return  # the registry's own tables, their version lost
    known_revision(connection)


def _unknown(revision: str) -> str:
    return (
        f"the database schema is at revision {revision!r}, which this version of "
        f"radiant-registry does not know (its head is {SCHEMA_HEAD}): is it another "
        "application's database? If a newer radiant-registry migrated it, upgrade this one"
    )


def _refuse_unversioned_tables(connection: Connection) -> None:
    """Tables but no schema version: not ours, or damaged; never migrate over it (exit 78)."""
    tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    if not tables:
        return
    message = (
        "the database has tables but no radiant-registry schema version "
        f"({', '.join(sorted(tables)[:5])}): is it the right database?"
    )
    if set(metadata.tables) <= tables:
        message += (
            " If these are radiant-registry's tables and only their version was lost, "
            "`alembic stamp head` (README: The database) restores it"
        )
    raise ConfigError(message)


def is_known(revision: str) -> bool:
    """Whether `revision` is the id of one of this version's migrations (a newer tool's
    may not be; a hand edit may be anything: '', "head", "@")."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return revision in {script.revision for script in scripts.walk_revisions()}


def status(connection: Connection) -> str:
    """The schema's revision and how it stands against the tool's head, for people."""
    current = current_revision(connection)
    if current is None:
        _refuse_unversioned_tables(connection)
    head = head_revision()
    if current == head:
        state = "at head"
    elif current is not None and not is_known(current):
        state = (
            f"unknown to this version, whose head is {head}: another application's, "
            "or a newer radiant-registry's"
        )
    else:
        state = f"head is {head}: run `registry db upgrade`"
    shown = "base (empty)" if current is None else current or repr(current)
    return f"{shown} ({state})"


def schema_state(connection: Connection) -> State:
    """'empty' for a brand-new database, 'current' at head; otherwise refuse (exit 78)."""
    revision = known_revision(connection)
    if revision is None:
        return "empty"
    if revision != SCHEMA_HEAD:
        raise SchemaOutOfDate(
            f"the database schema is at revision {revision}, this tool needs {SCHEMA_HEAD}: "
            "run `registry db upgrade`"
        )
    missing = sorted(set(metadata.tables) - set(inspect(connection).get_table_names()))
    if missing:  # dropped by hand: every statement would fail on it
        raise ConfigError(
            f"the database schema is at revision {revision} but has no table "
            f"{', '.join(missing)}: was it dropped by hand? Restore it from a backup (or drop "
            "every registry table and alembic_version, and sync into the empty database)"
        )
    return "current"
