"""Admin-owned state: price overrides and a model's enabled switch. No sync writes these."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from radiant_registry.db import write_begin
from radiant_registry.errors import NotFound, UsageError, quoted
from radiant_registry.fetch import fetch_all
from radiant_registry.messages import expected_number, problem_message
from radiant_registry.printable import CONTROL_CHARACTERS, blank, invisible
from radiant_registry.queries import Located, locate
from radiant_registry.schema import Price
from radiant_registry.tables import models, price_overrides
from radiant_registry.yamlscalars import Ambiguous, Unreadable, resolve_plain

_price = TypeAdapter(Price)


MAX_REASON = 1000  # a sentence or two; list, show and history print it


def checked_text(value: str, option: str, limit: int) -> str:
    """An admin's free text, held to what the files allow in names: it is printed in tables
    and logs, where a control character could rewrite the terminal."""
    if blank(value):
        raise UsageError(f"{option} must not be blank")
    if CONTROL_CHARACTERS.search(value):
        raise UsageError(f"{option}: control characters (line breaks, escapes) are not allowed")
    if len(value) > limit:
        raise UsageError(f"{option}: at most {limit} characters")
    return value


def who(by: str | None) -> str:
    """--by, else the operating-system user ($LOGNAME, $USER ...: held to the same rules)."""
    if by is not None:
        return _checked_name(by, "--by")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
    return _checked_name(user, "the user name from $LOGNAME or $USER (or pass --by)")


def _checked_name(value: str, option: str) -> str:
    """Who made a change is the audit trail: no invisible character, and no space but a
    plain one inside, may make a name read as another (`root` and `root` + U+200B)."""
    checked_text(value, option, 200)  # the who columns hold 200 characters
    if value != value.strip():
        raise UsageError(f"{option}: no spaces at its start or end")
    hidden = next((char for char in value if invisible(char)), None)
    if hidden is not None:
        raise UsageError(f"{option}: invisible characters are not allowed (U+{ord(hidden):04X})")
    return value


def parse_price(text: str, option: str) -> Decimal:
    """A price from the command line, written and checked as in the files: typed by their
    grammar (Python's Decimal would also take 1_000, non-ASCII digits and NaN)."""
    value = resolve_plain(text.strip())
    if isinstance(value, Unreadable):
        raise UsageError(f"{option}: {quoted(text)} is {value.reason}")
    if isinstance(value, Ambiguous):  # 1_000, 1e-6: as the files say, with the plain spelling
        raise UsageError(f"{option}: {expected_number(value, field=_price)}")
    if type(value) not in (int, Decimal):
        raise UsageError(
            f"{option}: {quoted(text)} is not a number (write it as in the files: 0.5, 12)"
        )
    try:
        return _price.validate_python(value)
    except ValidationError as exc:
        raise UsageError(f"{option}: {problem_message(exc.errors()[0])}") from None


@dataclass(frozen=True)
class Override:
    """A price override as asked for, every value checked: made before the database is
    touched, so that a bad option is a usage error whatever the database's state."""

    input_per_1m: Decimal | None  # None: keep the earlier override's, or the list price
    output_per_1m: Decimal | None
    reason: str
    set_by: str


def override(
    input_text: str | None, output_text: str | None, reason: str, by: str | None
) -> Override:
    if input_text is None and output_text is None:
        raise UsageError("give --input, --output or both")
    return Override(
        None if input_text is None else parse_price(input_text, "--input"),
        None if output_text is None else parse_price(output_text, "--output"),
        checked_text(reason, "--reason", MAX_REASON),
        who(by),
    )


@dataclass(frozen=True)
class OverrideSet:
    """A price override as `set_price` stored it: a price not given is kept from the
    earlier override, or None (the list price)."""

    model: Located
    input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    set_by: str


def set_price(conn: Connection, model: str, change: Override) -> OverrideSet:
    """Set or change a model's override."""
    with write_begin(conn):
        located = locate(conn, model)
        provider_id, model_id = located.key
        row = {
            "provider_id": provider_id,
            "model_id": model_id,
            "input_per_1m": change.input_per_1m,
            "output_per_1m": change.output_per_1m,
            "reason": change.reason,
            "set_by": change.set_by,
            "set_at": datetime.now(UTC),
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(price_overrides).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=["provider_id", "model_id"],
            # A price not given keeps its earlier override: `--input` alone changes input only.
            set_={
                name: statement.excluded[name]
                for name in row
                if name not in ("provider_id", "model_id") and row[name] is not None
            },
        )
        conn.execute(statement)
        key = (price_overrides.c.provider_id == provider_id) & (
            price_overrides.c.model_id == model_id
        )
        [stored] = fetch_all(conn, select(price_overrides).where(key))
    return OverrideSet(located, stored.input_per_1m, stored.output_per_1m, stored.set_by)


def clear_price(conn: Connection, model: str) -> Located:
    with write_begin(conn):
        located = locate(conn, model)
        provider_id, model_id = located.key
        result = conn.execute(
            delete(price_overrides).where(
                price_overrides.c.provider_id == provider_id,
                price_overrides.c.model_id == model_id,
            )
        )
        if result.rowcount == 0:
            # The note a success prints would come too late: the error names the others.
            others = "".join(
                f"; {model!r} is also the id of a model of {pid}, named {pid}/{mid}"
                for pid, mid in located.also_named
            )
            raise NotFound(f"{located.name} has no price override{others}")
    return located


def list_overrides(conn: Connection) -> list[dict[str, Any]]:
    query = (
        select(
            price_overrides,
            models.c.input_per_1m.label("list_input_per_1m"),
            models.c.output_per_1m.label("list_output_per_1m"),
            # An override on a model no request reaches is worth knowing about.
            models.c.enabled,
            models.c.retired_at.is_not(None).label("retired"),
        )
        .join(
            models,
            (models.c.provider_id == price_overrides.c.provider_id)
            & (models.c.model_id == price_overrides.c.model_id),
        )
        .order_by(price_overrides.c.provider_id, price_overrides.c.model_id)
    )
    return [dict(row._mapping) for row in fetch_all(conn, query)]


@dataclass(frozen=True)
class SwitchTo:
    """A switch as asked for, checked before the database is touched (as `Override`)."""

    enabled: bool
    reason: str | None
    by: str


def switch_to(enabled: bool, reason: str | None, by: str | None) -> SwitchTo:
    if reason is not None or not enabled:  # disabling always says why
        reason = checked_text(reason or "", "--reason", MAX_REASON)
    return SwitchTo(enabled, reason, who(by))


@dataclass(frozen=True)
class Switch:
    """A model's enabled switch after `set_enabled`, and whether that call moved it."""

    model: Located
    enabled: bool
    changed: bool
    reason: str | None
    by: str | None
    at: datetime | None


def set_enabled(conn: Connection, model: str, change: SwitchTo) -> Switch:
    """Switch a model on or off. One already so is left as it is: its record (who switched
    it, when and why) is the audit trail, which a repeated command must not overwrite."""
    enabled, reason, switched_by = change.enabled, change.reason, change.by
    with write_begin(conn):
        located = locate(conn, model)
        key = located.key
        where = (models.c.provider_id == key[0], models.c.model_id == key[1])
        state = select(
            models.c.provider_id,  # the key: an unreadable value is said with its model
            models.c.model_id,
            models.c.enabled,
            models.c.switch_reason,
            models.c.switched_by,
            models.c.switched_at,
            models.c.retired_at,
        )
        # FOR UPDATE: on PostgreSQL two admins switching at once must not both see the old
        # state, each then reporting a change (SQLite's write lock already serialises them);
        # a sync that retired the model meanwhile is seen too.
        [current] = fetch_all(conn, state.where(*where).with_for_update())
        located = replace(located, retired=current.retired_at is not None)
        if current.enabled == enabled:
            return Switch(
                located,
                enabled,
                changed=False,
                reason=current.switch_reason,
                by=current.switched_by,
                at=current.switched_at,
            )
        switched_at = datetime.now(UTC)
        conn.execute(
            update(models)
            .where(*where)
            .values(
                enabled=enabled,
                switch_reason=reason,
                switched_by=switched_by,
                switched_at=switched_at,
            )
        )
    return Switch(located, enabled, changed=True, reason=reason, by=switched_by, at=switched_at)
