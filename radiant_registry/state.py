"""Read the current state of the providers in scope from the database."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Text, cast, func, select

from radiant_registry import migrations
from radiant_registry.errors import DatabaseFailure
from radiant_registry.fetch import UNREADABLE, fetch_all
from radiant_registry.loader import Skip
from radiant_registry.plan import CurrentState
from radiant_registry.rows import LIST_PRICE_FIELDS, MODEL_FIELDS, PROVIDER_FIELDS, normalize_model
from radiant_registry.tables import (
    checked_json,
    json_columns,
    models,
    price_overrides,
    providers,
)

# JSON columns are read as text and decoded here, each distinct list of strings once: the
# same few lists of capabilities and modalities recur across thousands of rows.
_JSON_FIELDS = json_columns(models)


def read_state(conn: Connection, scope: Collection[str]) -> CurrentState:
    """Only the columns a plan compares, of the providers in `scope` (ids)."""
    state = CurrentState()
    p_query = select(
        providers.c.id, providers.c.retired_at, *(providers.c[n] for n in PROVIDER_FIELDS)
    )
    m_query = select(
        models.c.provider_id,
        models.c.model_id,
        models.c.retired_at,
        models.c.enabled,
        *(cast(models.c[n], Text) if n in _JSON_FIELDS else models.c[n] for n in MODEL_FIELDS),
    )
    o_query = select(
        price_overrides.c.provider_id,
        price_overrides.c.model_id,
        *(price_overrides.c[n].is_not(None).label(n) for n in LIST_PRICE_FIELDS),
    )
    p_query = p_query.where(providers.c.id.in_(scope))
    m_query = m_query.where(models.c.provider_id.in_(scope))
    o_query = o_query.where(price_overrides.c.provider_id.in_(scope))
    for row in fetch_all(conn, p_query):
        state.providers[row.id] = {n: row._mapping[n] for n in PROVIDER_FIELDS}
        if row.retired_at is not None:
            state.retired_providers.add(row.id)
    # text -> list of strings, one cache per column (the same text may be right in one
    # column and wrong in another); shared lists, as nothing mutates them. Tiers (dicts)
    # are decoded per row, without a cache.
    json_at: list[tuple[int, str, dict[str, Any] | None]] = [
        (i, n, None if n == "price_tiers" else {})
        for i, n in enumerate(MODEL_FIELDS)
        if n in _JSON_FIELDS
    ]
    for provider_id, model_id, retired_at, enabled, *values in fetch_all(conn, m_query):
        for i, name, cache in json_at:
            text = values[i]
            if text is None:
                continue
            if cache is None:
                values[i] = _decode(text, provider_id, model_id, name)
                continue
            value = cache.get(text)
            if value is None:
                value = cache[text] = _decode(text, provider_id, model_id, name)
            values[i] = value
        key = (provider_id, model_id)
        state.models[key] = normalize_model(dict(zip(MODEL_FIELDS, values, strict=True)))
        if retired_at is not None:
            state.retired_models.add(key)
        if not enabled:
            state.disabled.add(key)
    for pid, mid, *set_ in fetch_all(conn, o_query):
        masked = frozenset(n for n, is_set in zip(LIST_PRICE_FIELDS, set_, strict=True) if is_set)
        state.overridden[(pid, mid)] = masked
    return state


def _decode(text: str, provider_id: str, model_id: str, name: str) -> list[Any]:
    """A JSON column's list. SQLite keeps JSON as text: a hand edit can break it."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        place = f"model {provider_id}/{model_id}, {name}"
        raise DatabaseFailure(f"{UNREADABLE}: {place}: {exc}") from None
    decoded: list[Any] = checked_json(name, value, provider_id, model_id)  # a list
    return decoded


def read_file_keys(conn: Connection) -> dict[str, str | None]:
    """Every provider id in the database, with the content key of the file last applied."""
    rows = conn.execute(select(providers.c.id, providers.c.file_sha256))
    return {pid: key for pid, key in rows}


def count_unretired_models(conn: Connection, provider_ids: Collection[str]) -> int:
    if not provider_ids:
        return 0
    query = select(func.count()).where(
        models.c.provider_id.in_(provider_ids), models.c.retired_at.is_(None)
    )
    return int(conn.execute(query).scalar_one())


def skip_applied(conn: Connection) -> Skip:
    """A loader's `skip` for the files the last syncs applied in full (none in a new
    database): their rows are in the database already, so they need no reading."""
    with conn.begin():
        if migrations.schema_state(conn) == "empty":
            return lambda pid, key: False
        known = {pid: key for pid, key in read_file_keys(conn).items() if key is not None}
    return lambda pid, key: known.get(pid) == key
