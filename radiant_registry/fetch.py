"""Read rows whose values a hand edit may have broken, and say where one is.

SQLite keeps whatever a hand edit writes (text in an integer column, 'abc' as a price,
broken JSON), and PostgreSQL's numeric takes NaN: a value its column's type cannot read
back is a database error (exit 74) that names its row and column, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Executable,
    Integer,
    Row,
    Select,
    String,
    Text,
    cast,
    type_coerce,
)
from sqlalchemy.types import NullType

from radiant_registry.errors import DatabaseFailure

if TYPE_CHECKING:
    # Rows of any length and types. Bare: Row's parameters differ between SQLAlchemy 2.0
    # (one tuple type) and 2.1 (a TypeVarTuple), and no spelling suits both (pyproject.toml
    # lets this module leave generics bare).
    AnyRow = Row

UNREADABLE = "the database holds a value its column cannot hold (edited by hand?)"
_CONVERSION_ERRORS = (ValueError, ArithmeticError, RecursionError)


def fetch_all(conn: Connection, query: Executable) -> Sequence[AnyRow]:
    """Every row, fetched before any is used: an error leaves no cursor open (on SQLite,
    a read lock held as long as the error is)."""
    result = conn.execute(query)  # outside the try: an error sending it is no bad value
    try:
        rows = result.all()  # the column types convert each value here
    except _CONVERSION_ERRORS as exc:
        result.close()
        # The failing row is gone with the exception: read the rows again as the driver
        # hands them over, and find it (on this error's path only).
        found = None
        if isinstance(query, Select):
            with suppress(Exception):  # only a better message: never another error
                found = _unreadable(conn, query)
        raise DatabaseFailure(
            f"{UNREADABLE}: {found or f'{type(exc).__name__}: {str(exc)[:200]}'}"
        ) from None
    if conn.dialect.name == "sqlite":
        _check_plain_types(query, rows)
    return rows


def _unreadable(conn: Connection, query: Select[Any]) -> str | None:
    """Where the first value the column types refuse is, and why; None if none is."""
    columns = list(query.selected_columns)
    names = list(query.selected_columns.keys())
    # JSON as text, decoded here: psycopg decodes JSONB itself, where nothing can say which
    # row a value too deep to decode is in.
    is_json = [isinstance(column.type, JSON) for column in columns]
    raw = query.with_only_columns(
        *(
            type_coerce(cast(column, Text) if as_text else column, NullType()).label(f"c{i}")
            for i, (column, as_text) in enumerate(zip(columns, is_json, strict=True))
        ),
        maintain_column_froms=True,
    )
    result = conn.execute(raw)
    # The driver's type codes: PostgreSQL's numeric processor picks by them.
    codes = [description[1] for description in result.cursor.description]
    processors: list[Callable[[Any], Any] | None] = [
        json.loads
        if is_json_column
        else column.type.dialect_impl(conn.dialect).result_processor(conn.dialect, code)
        for column, code, is_json_column in zip(columns, codes, is_json, strict=True)
    ]
    for row in result.all():
        for column, name, process, value in zip(columns, names, processors, row, strict=True):
            if process is None or value is None:
                continue
            try:
                process(value)
            except _CONVERSION_ERRORS as exc:
                problem = str(exc)[:200] or type(exc).__name__
                return f"{_place(column, name, names, tuple(row))}: {problem}"
    return None


def _check_plain_types(query: Executable, rows: Sequence[AnyRow]) -> None:
    """SQLite keeps whatever a hand edit wrote, text in an integer column, bytes in a text
    one, and returns it as it is; no type of ours converts integers or text on the way."""
    selected = list(getattr(query, "selected_columns", ()))
    expected = [
        (index, column, int if isinstance(column.type, Integer) else str)
        for index, column in enumerate(selected)
        if isinstance(column.type, Integer | String)
    ]
    for row in rows:
        for index, column, kind in expected:
            value = row[index]
            if value is not None and type(value) is not kind:
                names = list(row._fields)
                where = _place(column, names[index], names, tuple(row))
                shown = repr(value)[:40]
                raise DatabaseFailure(f"{UNREADABLE}: {where} holds {shown}, not {kind.__name__}")


_ROW_NAMES = {
    "models": "model",
    "price_overrides": "price override of model",
    "providers": "provider",
    "sync_runs": "sync run",
}


def _place(column: ColumnElement[Any], name: str, names: list[str], row: tuple[Any, ...]) -> str:
    """'model xai/grok-3, input_per_1m': the row, by its key where the query selects it,
    and the column, by its own name (not a label such as `o_input`)."""
    while not isinstance(column, Column):
        inner = getattr(column, "element", None)  # a label's; `or` would ask a clause's truth
        if inner is None:
            inner = getattr(column, "clause", None)  # a cast's
        if inner is None:  # an expression: its label is all there is
            return f"a row, {name}"
        column = inner
    table = getattr(column.table, "name", "")
    values = dict(zip(names, row, strict=True))
    if "provider_id" in values and "model_id" in values:
        key: str | None = f"{values['provider_id']}/{values['model_id']}"
    else:
        key = str(values["id"]) if "id" in values else None
    if table in _ROW_NAMES and key is not None:
        return f"{_ROW_NAMES[table]} {key}, {column.name}"
    return f"a row of {table}, {column.name}"
