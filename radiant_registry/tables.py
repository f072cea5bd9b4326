"""The database tables, as SQLAlchemy Core metadata. Alembic migrations create them.

Ownership is the point of this layout: file-owned columns are brought to the files' values
by every sync; admin-owned state (price overrides, a model's enabled switch) lives in
columns and tables that a sync never writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from radiant_registry.errors import DatabaseFailure
from radiant_registry.fetch import UNREADABLE

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


_NUMERIC_LIMIT = Decimal(10) ** 10  # Numeric(20, 10): 10 digits before the point


class ExactDecimal(TypeDecorator[Decimal]):
    """Numeric(20, 10) on PostgreSQL; on SQLite, text, because SQLite would store a float."""

    impl = Numeric(20, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(20, 10, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        # Only a hand edit stores these (PostgreSQL's numeric takes NaN; SQLite, any text;
        # neither has a check on the sign): a price is a number >= 0 the column can hold.
        # ValueError: `fetch.fetch_all` says so.
        try:
            price = value if isinstance(value, Decimal) else Decimal(value)
        except (InvalidOperation, TypeError):
            price = Decimal("NaN")
        if not price.is_finite() or price < 0 or price >= _NUMERIC_LIMIT:
            raise ValueError(f"{str(value)[:40]!r} is not a price")
        return price.copy_abs() if price.is_zero() else price  # SQLite may hold a "-0.0"


class Timestamp(TypeDecorator[datetime]):
    """A UTC timestamp, read back in UTC whatever the session's time zone.

    SQLite keeps no zone, so its values are marked UTC; PostgreSQL hands them back in the
    session's `TimeZone` (a server default or `$PGTZ`), which would make the same moment
    print differently from one host to the next.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Flag(TypeDecorator[bool]):
    """A boolean. SQLite stores it as 0 or 1 but keeps whatever a hand edit writes, which
    SQLAlchemy's Boolean would read with bool(): 'false' as true, while SQL's `IS 1` reads
    it as false. Anything but 0 or 1 is unreadable there (ValueError: `fetch.fetch_all`)."""

    impl = Boolean
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> bool | None:
            if value is None:
                return None
            if type(value) is not int or value not in (0, 1):
                raise ValueError(f"{str(value)[:40]!r} is not a boolean")
            return value == 1

        return process


Json = JSON().with_variant(JSONB(), "postgresql")


def json_columns(table: Table) -> frozenset[str]:
    """Names of the table's JSON columns (JSONB on PostgreSQL, text on SQLite)."""
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


def checked_json(name: str, value: Any, provider_id: str, model_id: str) -> Any:
    """`value`, read from model `provider_id/model_id`'s JSON column `name`, if it has the
    shape a sync writes; else `DatabaseFailure` (74) naming the model."""
    problem = json_shape_problem(name, value)
    if problem:
        raise DatabaseFailure(f"{UNREADABLE}: model {provider_id}/{model_id}, {problem}")
    return value


def json_shape_problem(name: str, value: Any) -> str | None:
    """What is wrong with a model's JSON column value, or None if it is what a sync writes:
    a list of strings, or for price tiers a list of {above_tokens: int, input_per_1m:
    price text, output_per_1m: price text or null}. Only a hand edit breaks that (SQLite
    stores JSON as text), but reading it back must not crash on one."""
    if name != "price_tiers":
        ok = isinstance(value, list) and all(type(item) is str for item in value)
        return None if ok else f"{name} holds {str(value)[:40]!r}, not a list of strings"
    ok = isinstance(value, list) and all(
        isinstance(tier, dict)
        and tier.keys() == _TIER_KEYS
        and type(tier["above_tokens"]) is int
        and _is_price_text(tier["input_per_1m"])
        and (tier["output_per_1m"] is None or _is_price_text(tier["output_per_1m"]))
        for tier in value
    )
    return None if ok else f"price_tiers holds {str(value)[:40]!r}, not a list of tiers"


_TIER_KEYS = {"above_tokens", "input_per_1m", "output_per_1m"}


def _is_price_text(value: Any) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except ArithmeticError:  # decimal.InvalidOperation: not a number
        return False


providers = Table(
    "providers",
    metadata,
    Column("id", String(64), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("api_base", String(500), nullable=False),
    Column("auth_type", String(32), nullable=False),
    Column("auth_header", String(200)),
    Column("auth_prefix", String(200)),
    # The content key (sha256 of the tool's rules, the vocabulary and the file's bytes) of
    # the file the last sync applied in full; lets a re-sync skip the file.
    Column("file_sha256", String(64)),
    Column("retired_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("id"),
)

models = Table(
    "models",
    metadata,
    Column("provider_id", String(64), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("model_type", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("context_window", Integer, nullable=False),
    Column("max_output_tokens", Integer, nullable=False),
    Column("input_modalities", Json, nullable=False),
    Column("output_modalities", Json, nullable=False),
    Column("input_per_1m", ExactDecimal, nullable=False),
    Column("output_per_1m", ExactDecimal),
    Column("cache_read_per_1m", ExactDecimal),
    Column("cache_write_per_1m", ExactDecimal),
    Column("price_tiers", Json, nullable=False),
    Column("capabilities", Json, nullable=False),
    Column("is_novel", Flag, nullable=False),
    Column("status", String(32), nullable=False),
    Column("release_date", Date),
    Column("deprecation_date", Date),
    Column("aliases", Json, nullable=False),
    Column("source_url", Text),
    Column("verified_at", Date),
    Column("retired_at", Timestamp),
    # Admin-owned: no sync writes these.
    Column("enabled", Flag, nullable=False, server_default=true()),
    Column("switch_reason", Text),
    Column("switched_by", String(200)),
    Column("switched_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("provider_id", "model_id"),
    ForeignKeyConstraint(["provider_id"], ["providers.id"]),
)

price_overrides = Table(
    "price_overrides",
    metadata,
    Column("provider_id", String(64), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("input_per_1m", ExactDecimal),
    Column("output_per_1m", ExactDecimal),
    Column("reason", Text, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("set_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("provider_id", "model_id"),
    ForeignKeyConstraint(["provider_id", "model_id"], ["models.provider_id", "models.model_id"]),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=False),
    Column("outcome", String(16), nullable=False),  # success | failed
    Column("providers", Json),  # the --provider filter, null for all
    Column("created", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("retired", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("files_sha256", String(64)),
    Column("tool_version", String(32), nullable=False),
    Column("error", Text),
)

# Consumers read prices from the view effective_model_prices: the list price unless an
# admin overrode it. Views are not table metadata; migration 0001 creates it.
