"""Read the catalogue back: models with their effective prices, providers, sync history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, get_args

from sqlalchemy import Connection, false, func, select, true

from radiant_registry.errors import NotFound, UnknownModel, UsageError
from radiant_registry.fetch import fetch_all
from radiant_registry.printable import blank
from radiant_registry.suggest import did_you_mean
from radiant_registry.tables import (
    checked_json,
    json_columns,
    models,
    price_overrides,
    providers,
    sync_runs,
)
from radiant_registry.vocab import Category


def _by_name(r: dict[str, Any]) -> tuple[str, ...]:
    # Ids sorted as people read them: `Grok-Zeta` among the grok- ones, not before `a...`.
    return (r["provider"], r["id"].casefold(), r["id"])


SORT_FIELDS: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    "provider": _by_name,
    "id": lambda r: (r["id"].casefold(), r["id"], r["provider"]),
    "context_window": lambda r: (r["context_window"], *_by_name(r)),
    "max_output_tokens": lambda r: (r["max_output_tokens"], *_by_name(r)),
    "input_price": lambda r: (r["pricing"]["input_per_1m"], *_by_name(r)),
    "output_price": lambda r: (r["pricing"]["output_per_1m"] or Decimal(0), *_by_name(r)),
    "category": lambda r: (r["category"], *_by_name(r)),
}


@dataclass(frozen=True)
class ModelFilter:
    providers: Sequence[str] = ()  # any of them
    capabilities: Sequence[str] = ()  # every one of them
    categories: Sequence[str] = ()  # any of them
    novel: bool | None = None
    include_all: bool = False  # retired and disabled models too
    sort: str = "provider"

    def including_all(self) -> ModelFilter:
        return replace(self, include_all=True)

    def __post_init__(self) -> None:
        """Refuse a filter that could only match nothing, or everything, by mistake."""
        if self.sort not in SORT_FIELDS:
            choices = ", ".join(SORT_FIELDS)
            raise UsageError(f"cannot sort by {self.sort!r}; choose one of {choices}")
        for category in self.categories:
            if category not in get_args(Category):
                choices = ", ".join(get_args(Category))
                hint = did_you_mean(category, get_args(Category))
                raise UsageError(f"--category: no category {category!r}{hint} (one of {choices})")
        if any(blank(capability) for capability in self.capabilities):
            raise UsageError("--capability must not be blank")

    def has_capabilities(self, held: Sequence[str]) -> bool:
        return all(capability in held for capability in self.capabilities)


_JSON_FIELDS = sorted(json_columns(models))


def _record(row: Any) -> dict[str, Any]:
    """A model as the YAML names it, plus provider, state, list, override and effective prices."""
    for name in _JSON_FIELDS:
        checked_json(name, getattr(row, name), row.provider_id, row.model_id)
    list_pricing = {
        "input_per_1m": row.input_per_1m,
        "output_per_1m": row.output_per_1m,
        "cache_read_per_1m": row.cache_read_per_1m,
        "cache_write_per_1m": row.cache_write_per_1m,
        "tiers": [
            {
                **tier,
                "input_per_1m": Decimal(tier["input_per_1m"]),
                "output_per_1m": None
                if tier["output_per_1m"] is None
                else Decimal(tier["output_per_1m"]),
            }
            for tier in row.price_tiers
        ],
    }
    override = None
    pricing = dict(list_pricing)
    if row.o_set_at is not None:
        override = {
            "input_per_1m": row.o_input,
            "output_per_1m": row.o_output,
            "reason": row.o_reason,
            "set_by": row.o_set_by,
            "set_at": row.o_set_at,
        }
        if row.o_input is not None:
            pricing["input_per_1m"] = row.o_input
        if row.o_output is not None:
            pricing["output_per_1m"] = row.o_output
    return {
        "provider": row.provider_id,
        "id": row.model_id,
        "display_name": row.display_name,
        "model_type": row.model_type,
        "category": row.category,
        "context_window": row.context_window,
        "max_output_tokens": row.max_output_tokens,
        "modalities": {"input": row.input_modalities, "output": row.output_modalities},
        "capabilities": sorted(row.capabilities),
        "is_novel": row.is_novel,
        "status": row.status,
        "release_date": row.release_date,
        "deprecation_date": row.deprecation_date,
        "aliases": row.aliases,
        "source_url": row.source_url,
        "verified_at": row.verified_at,
        "enabled": row.enabled,
        "switch_reason": row.switch_reason,
        "retired": row.retired_at is not None,
        "list_pricing": list_pricing,
        "override": override,
        "pricing": pricing,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _model_query() -> Any:
    o = price_overrides
    return select(
        models,
        o.c.input_per_1m.label("o_input"),
        o.c.output_per_1m.label("o_output"),
        o.c.reason.label("o_reason"),
        o.c.set_by.label("o_set_by"),
        o.c.set_at.label("o_set_at"),
    ).outerjoin(o, (o.c.provider_id == models.c.provider_id) & (o.c.model_id == models.c.model_id))


@dataclass(frozen=True)
class Unmatched:
    """A --provider no provider has, or a --capability no model has (in any state), with
    the values the database has: what an empty list may owe to a typo."""

    option: str
    value: str
    known: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    records: list[dict[str, Any]]
    # Only for an empty list, what it may owe to: a filter that matches nothing, and the
    # retired (a provider pruned) or disabled models that --all would add.
    unmatched: list[Unmatched]
    hidden: int


def list_models(conn: Connection, flt: ModelFilter) -> Listing:
    records = [_record(row) for row in fetch_all(conn, _filtered(_model_query(), flt))]
    if flt.capabilities:
        records = [r for r in records if flt.has_capabilities(r["capabilities"])]
    if records:
        return Listing(sorted(records, key=SORT_FIELDS[flt.sort]), [], 0)
    hidden = 0 if flt.include_all else len(_capabilities(conn, flt.including_all()))
    return Listing([], _unmatched(conn, flt), hidden)


def _filtered(query: Any, flt: ModelFilter) -> Any:
    """`query` limited to the models `flt` matches, but for its capabilities (a JSON list)."""
    if flt.providers:
        query = query.where(models.c.provider_id.in_(flt.providers))
    if flt.categories:
        query = query.where(models.c.category.in_(flt.categories))
    # `IS NOT` the other value, not `=` this one: a flag edited by hand into neither (SQLite
    # keeps 'false') is then read, and refused as `show` refuses it, not silently left out.
    if flt.novel is not None:
        query = query.where(models.c.is_novel.is_not(false() if flt.novel else true()))
    if not flt.include_all:
        query = query.where(models.c.enabled.is_not(false()), models.c.retired_at.is_(None))
    return query


def _capabilities(conn: Connection, flt: ModelFilter) -> list[list[str]]:
    """The capability lists of the models `flt` matches: one column, not whole records."""
    query = _filtered(select(models.c.provider_id, models.c.model_id, models.c.capabilities), flt)
    found = []
    for pid, mid, held in fetch_all(conn, query):
        if flt.has_capabilities(checked_json("capabilities", held, pid, mid)):
            found.append(held)
    return found


def _unmatched(conn: Connection, flt: ModelFilter) -> list[Unmatched]:
    found: list[Unmatched] = []
    known = sorted(conn.execute(select(providers.c.id)).scalars())
    unknown = [pid for pid in dict.fromkeys(flt.providers) if pid not in known]  # each once
    found += [Unmatched("--provider", pid, tuple(known)) for pid in unknown]
    if flt.capabilities:
        everything = _capabilities(conn, ModelFilter(include_all=True))
        held = sorted({name for names in everything for name in names})
        found += [
            Unmatched("--capability", capability, tuple(held))
            for capability in dict.fromkeys(flt.capabilities)
            if capability not in held
        ]
    return found


def find_model(conn: Connection, text: str) -> tuple[str, str]:
    """`provider/model`, or a bare model id that only one provider has.

    `provider/model` comes first: it is the only name some models have. A text that is
    also another model's own id (Groq sells `openai/gpt-oss-120b`) names the first; see
    `locate`."""
    key = select(models.c.provider_id, models.c.model_id)
    head, sep, tail = text.partition("/")
    if sep:
        exact = conn.execute(
            key.where(models.c.provider_id == head, models.c.model_id == tail)
        ).first()
        if exact is not None:
            return exact.provider_id, exact.model_id
    query = key.add_columns(models.c.retired_at.is_not(None)).where(models.c.model_id == text)
    # (retired, provider): the providers selling it today first.
    matches = sorted((retired, pid, mid) for pid, mid, retired in conn.execute(query))
    if len(matches) == 1:
        return matches[0][1:]
    if len(matches) > 1:
        # A retired row counts (admin commands work on it), but it must not pass for a
        # provider that sells the model today.
        names = ", ".join(_label(pid, mid, retired) for retired, pid, mid in matches)
        raise NotFound(f"{text!r} is sold by several providers; name one: {names}")
    # Not found: only now read every name, for a "did you mean" worked out once the
    # transaction is over (UnknownModel).
    every = key.add_columns(models.c.retired_at.is_not(None))
    keys = [(pid, mid, bool(retired)) for pid, mid, retired in conn.execute(every)]
    raise UnknownModel(text, lambda: _model_hint(text, keys))


def _model_hint(text: str, keys: list[tuple[str, str, bool]]) -> str:
    """The "did you mean" for a model not found: for `provider/model`, that model id of
    another provider, case aside, one selling it today first (`openai/grok-3`: `xai/grok-3`);
    else the closest of every name (seconds among 100,000: outside any transaction)."""
    _, sep, tail = text.partition("/")
    if sep:
        elsewhere = sorted(
            (retired, pid, mid) for pid, mid, retired in keys if mid.casefold() == tail.casefold()
        )
        if elsewhere:
            _, pid, mid = elsewhere[0]
            return f"; did you mean {pid + '/' + mid!r}?"
    return did_you_mean(text, [f"{pid}/{mid}" for pid, mid, _ in keys] + [m for _, m, _ in keys])


def _label(pid: str, mid: str, retired: bool) -> str:
    return f"{pid}/{mid} (retired)" if retired else f"{pid}/{mid}"


@dataclass(frozen=True)
class Located:
    """The model a command line named, as `locate` found it."""

    key: tuple[str, str]
    retired: bool
    # Other models whose own id is the text given: `provider/model` was read first.
    also_named: list[tuple[str, str]]

    @property
    def name(self) -> str:
        return f"{self.key[0]}/{self.key[1]}"


def locate(conn: Connection, text: str) -> Located:
    """`find_model`, with what an admin command says of the model it found."""
    key = find_model(conn, text)
    retired = select(models.c.retired_at.is_not(None)).where(
        models.c.provider_id == key[0], models.c.model_id == key[1]
    )
    named = select(models.c.provider_id, models.c.model_id).where(models.c.model_id == text)
    others = sorted((pid, mid) for pid, mid in conn.execute(named) if (pid, mid) != key)
    return Located(key, bool(conn.execute(retired).scalar()), others)


def show_model(conn: Connection, key: tuple[str, str]) -> dict[str, Any]:
    rows = fetch_all(
        conn, _model_query().where(models.c.provider_id == key[0], models.c.model_id == key[1])
    )
    if not rows:  # deleted since it was found
        raise NotFound(f"no model {key[0]}/{key[1]} in the database")
    row = rows[0]
    record = _record(row)
    record["switched_by"] = row.switched_by
    record["switched_at"] = row.switched_at
    record["retired_at"] = row.retired_at  # when a prune retired it
    return record


def list_providers(conn: Connection) -> list[dict[str, Any]]:
    # `IS NOT false`, as `list` selects: a flag edited into something odd is counted (list
    # and show refuse it), not silently left out.
    active = models.c.retired_at.is_(None) & models.c.enabled.is_not(false())
    counts = (
        select(models.c.provider_id, func.count().label("models"))
        .where(active)
        .group_by(models.c.provider_id)
        .subquery()
    )
    query = (
        select(providers, func.coalesce(counts.c.models, 0).label("model_count"))
        .outerjoin(counts, counts.c.provider_id == providers.c.id)
        .order_by(providers.c.id)
    )
    return [
        {
            "id": row.id,
            "display_name": row.display_name,
            "auth_type": row.auth_type,
            "api_base": row.api_base,
            "models": row.model_count,
            "retired": row.retired_at is not None,
        }
        for row in fetch_all(conn, query)
    ]


def sync_history(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    # By start: a sync records its run as it commits, so a long one that started first
    # gets a later id than a run that failed meanwhile.
    order = (sync_runs.c.started_at.desc(), sync_runs.c.id.desc())
    query = select(sync_runs).order_by(*order).limit(limit)
    return [dict(row._mapping) for row in fetch_all(conn, query)]
