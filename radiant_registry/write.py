"""Writing a plan's changes inside a sync's transaction: creates in bulk through the
driver (COPY, or executemany on SQLite), updates grouped by the columns they set, retires.

Only the columns the files own are ever written; an admin's overrides and switches live
in other tables and columns.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy import exc as sa_exc

from radiant_registry.log import EventLog
from radiant_registry.plan import Create, Kind, Plan, Retire, Update
from radiant_registry.rows import MODEL_FIELDS, PROVIDER_FIELDS
from radiant_registry.tables import json_columns, models, providers


def write_changes(conn: Connection, plan: Plan, log: EventLog, stamp: datetime) -> None:
    """Every change of `plan`, in the caller's transaction, each row stamped `stamp`."""
    written = 0

    def wrote(rows: int) -> None:
        nonlocal written
        written += rows
        log.progress("rows written", written, len(plan.changes))

    # Providers first: models refer to them.
    kinds: tuple[tuple[Kind, Table], ...] = (("provider", providers), ("model", models))
    for kind, table in kinds:
        _create(conn, table, plan.of(Create, kind), stamp, wrote)
        updates = plan.of(Update, kind)
        _update(conn, table, updates, stamp)
        wrote(len(updates))
    retires = [(models, plan.of(Retire, "model")), (providers, plan.of(Retire, "provider"))]
    for table, changes in retires:
        _retire(conn, table, changes, stamp)
        wrote(len(changes))


def _key_values(table: Table, key: str) -> dict[str, str]:
    if table is models:
        provider_id, model_id = _key_parts(key)
        return {"k_provider": provider_id, "k_model": model_id}
    return {"k_provider": key}


def _key_clause(table: Table) -> Any:
    if table is models:
        return (models.c.provider_id == bindparam("k_provider")) & (
            models.c.model_id == bindparam("k_model")
        )
    return providers.c.id == bindparam("k_provider")


def _create(
    conn: Connection,
    table: Table,
    changes: list[Create],
    stamp: datetime,
    wrote: Callable[[int], None],
) -> None:
    """Insert new rows in bulk, through the driver: COPY on PostgreSQL, one executemany per
    batch on SQLite. Several times faster than SQLAlchemy's executemany, which converts
    every value of every row in Python.

    The plan was computed under the lock, so none of these rows exists yet. Each row is
    built as the driver takes it, straight from the plan's values, converted exactly as
    SQLAlchemy would convert it (JSON texts are cached: the same few lists recur).
    """
    if not changes:
        return
    keys = ["provider_id", "model_id"] if table is models else ["id"]
    fields = MODEL_FIELDS if table is models else PROVIDER_FIELDS
    dialect = conn.dialect
    texts: dict[tuple[str, ...], str] = {}

    def as_json(value: Any) -> str:
        if type(value) is list and not value:
            return "[]"  # most models have no aliases and no price tiers
        if isinstance(value[0], str):
            key = tuple(value)
            text = texts.get(key)
            if text is None:
                text = texts[key] = json.dumps(value)
            return text
        return json.dumps(value)

    encoded = json_columns(table)

    def converter(name: str) -> Callable[[Any], Any] | None:
        if name in encoded:
            return as_json
        if dialect.name == "postgresql":
            return None  # COPY adapts Python values; no type here converts them for PostgreSQL
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    converters = {name: converter(name) for name in (*fields, "created_at")}
    converted = {name: to for name in fields if (to := converters[name]) is not None}
    as_is = [name for name in fields if name not in converted]
    convert = list(converted.values())
    created = converters["created_at"]
    stamped = stamp if created is None else created(stamp)
    columns = [*keys, *as_is, *converted, "created_at", "updated_at"]
    take_as_is, take_converted = _getter(as_is), _getter(list(converted))

    def row(change: Create) -> list[Any]:
        values = change.values
        return [
            *_key_parts(change.key),
            *take_as_is(values),
            *[to(value) for to, value in zip(convert, take_converted(values), strict=True)],
            stamped,
            stamped,
        ]

    batches = (changes[start : start + _BATCH] for start in range(0, len(changes), _BATCH))
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        statement = f"COPY {table.name} ({names}) FROM STDIN"
    else:
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
    driver = conn.connection.driver_connection  # the same connection and transaction
    assert driver is not None  # the connection is open
    try:
        with closing(driver.cursor()) as cursor:
            if dialect.name == "postgresql":
                with cursor.copy(statement) as copy:
                    for batch in batches:
                        for change in batch:
                            copy.write_row(row(change))
                        wrote(len(batch))
            else:
                for batch in batches:
                    cursor.executemany(statement, map(row, batch))
                    wrote(len(batch))
    except dialect.loaded_dbapi.Error as exc:
        # SQLAlchemy never saw this statement: wrap the driver's error as SQLAlchemy would,
        # so that it is translated (lock timeouts, unreachable database) like any other.
        raise sa_exc.DBAPIError.instance(
            statement,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            dialect=dialect,
        ) from exc


_BATCH = 10_000  # rows between progress reports


def _getter(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function that takes these values out of a row, as a tuple (itemgetter's speed)."""
    if len(names) > 1:
        return itemgetter(*names)
    return lambda values: tuple(values[name] for name in names)


def _key_parts(key: str) -> list[str]:
    return key.split("/", 1)  # "provider" or "provider/model id"; model ids may hold "/"


def _update(conn: Connection, table: Table, changes: list[Update], stamp: datetime) -> None:
    """One executemany per set of changed columns; only file-owned columns are ever set."""
    owned = set(MODEL_FIELDS if table is models else PROVIDER_FIELDS)
    groups: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        names = frozenset(change.changed)
        params = {f"v_{name}": change.values[name] for name in names & owned}
        params.update(_key_values(table, change.key), v_now=stamp)
        groups[names].append(params)
    for names, rows in groups.items():
        values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in names & owned}
        if "retired" in names:
            values["retired_at"] = None
        values["updated_at"] = bindparam("v_now")
        conn.execute(update(table).where(_key_clause(table)).values(values), rows)


def _retire(conn: Connection, table: Table, changes: list[Retire], stamp: datetime) -> None:
    if changes:
        rows = [{**_key_values(table, c.key), "v_now": stamp} for c in changes]
        values: dict[str, Any] = {
            "retired_at": bindparam("v_now"),
            "updated_at": bindparam("v_now"),
        }
        if table is providers:
            values["file_sha256"] = None  # if its file comes back, it must be read again
        conn.execute(update(table).where(_key_clause(table)).values(values), rows)
