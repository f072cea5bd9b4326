"""Properties of sync and diff over random registries, on SQLite and PostgreSQL.

Each example writes its own registry folder (Python dicts through yaml.safe_dump, prices
and list orders written a different way each time) and starts from a fresh schema: the
test's database is taken down to `base` and a sync builds it up again.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import all_expected, listed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine

from radiant_registry import migrations
from radiant_registry.apply import SyncOptions, preview, sync
from radiant_registry.db import make_engine
from radiant_registry.loader import load_registry
from radiant_registry.log import EventLog
from radiant_registry.plan import Plan
from radiant_registry.urls import resolve_url

CAPABILITIES = ("chat", "reasoning", "vision", "code", "tool_use", "search", "embedding")
MODALITIES = ("text", "image", "audio", "video", "pdf")
CATEGORIES = ("flagship", "balanced", "economy", "specialized", "novel", "general")
PROVIDER_IDS = ("alpha", "beta_2", "gamma")
MODEL_IDS = ("m1", "large-v2", "mini.1", "chat:free", "tuned@v3", "org/model-x", "Pro-7")
OPTIONAL = object()  # a drawn "leave the key out"

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies ------------------------------------------------------------------------------

nonzero_prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999.9999"), places=4)
# Near the limits the README gives: 10 decimal places, up to 100,000 (15 significant digits).
precise_prices = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("99999.9999999999"), places=10
)
prices = st.one_of(st.just(Decimal(0)), nonzero_prices, precise_prices)
names = st.from_regex(r"Model [A-Za-z0-9]{1,8}( [A-Za-z0-9.()]{1,6})?", fullmatch=True)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def maybe(draw: Any, strategy: st.SearchStrategy[Any], nullable: bool = True) -> Any:
    """A value, an explicit null, or OPTIONAL (the key left out)."""
    choices = [st.just(OPTIONAL), strategy] + ([st.none()] if nullable else [])
    return draw(st.one_of(*choices))


def put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not OPTIONAL:
        target[key] = value


@st.composite
def models(draw: Any, model_id: str) -> dict[str, Any]:
    context = draw(st.integers(1_000, 2_000_000))
    model: dict[str, Any] = {
        "id": model_id,
        "display_name": draw(names),
        "context_window": context,
        "max_output_tokens": draw(st.integers(1, context)),
    }
    put(model, "model_type", maybe(draw, st.sampled_from(["chat", "realtime"]), nullable=False))
    put(model, "category", maybe(draw, st.sampled_from(CATEGORIES), nullable=False))
    if draw(st.booleans()):
        model["modalities"] = {
            "input": draw(st.lists(st.sampled_from(MODALITIES), min_size=1, unique=True)),
            "output": draw(st.lists(st.sampled_from(MODALITIES), min_size=1, unique=True)),
        }
    pricing: dict[str, Any] = {"input_per_1m": draw(prices), "output_per_1m": draw(prices)}
    put(pricing, "cache_read_per_1m", maybe(draw, prices))
    put(pricing, "cache_write_per_1m", maybe(draw, prices))
    thresholds = draw(st.lists(st.integers(1, context - 1), max_size=2, unique=True))
    if thresholds:
        tiers = []
        for above in sorted(thresholds):
            tier: dict[str, Any] = {"above_tokens": above, "input_per_1m": draw(prices)}
            put(tier, "output_per_1m", maybe(draw, prices))
            tiers.append(tier)
        pricing["tiers"] = tiers
    model["pricing"] = pricing
    put(model, "capabilities", maybe(
        draw, st.lists(st.sampled_from(CAPABILITIES), unique=True), nullable=False
    ))
    put(model, "is_novel", maybe(draw, st.booleans(), nullable=False))
    put(model, "status", maybe(draw, st.sampled_from(["active", "preview", "deprecated"]),
                               nullable=False))
    released = maybe(draw, dates)
    put(model, "release_date", released)
    if isinstance(released, date) and draw(st.booleans()):
        after = date.fromordinal(released.toordinal() + 1)
        model["deprecation_date"] = draw(st.dates(min_value=after, max_value=date(2031, 12, 31)))
    aliases = [f"{model_id.replace('/', '-')}-latest", f"{model_id.replace('/', '-')}-2025"]
    put(model, "aliases", maybe(draw, st.lists(st.sampled_from(aliases), unique=True),
                                nullable=False))
    put(model, "source_url", maybe(draw, st.just(f"https://example.com/models/{model_id}")))
    put(model, "verified_at", maybe(draw, dates))
    return model


@st.composite
def provider_files(draw: Any, pid: str) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "id": pid,
        "display_name": draw(names).replace("Model", "Provider"),
        "api_base": f"https://api.{pid.replace('_', '-')}.example/v1",
        "auth_type": draw(st.sampled_from(["api_key", "iam", "service_account"])),
    }
    put(provider, "auth_header", maybe(draw, st.sampled_from(["Authorization", "x-api-key"])))
    put(provider, "auth_prefix", maybe(draw, st.sampled_from(["Bearer ", "Token "])))
    ids = draw(st.lists(st.sampled_from(MODEL_IDS), min_size=1, max_size=4, unique=True))
    return {"schema_version": 1, "provider": provider, "models": [draw(models(m)) for m in ids]}


@st.composite
def registries(draw: Any) -> dict[str, dict[str, Any]]:
    pids = draw(st.lists(st.sampled_from(PROVIDER_IDS), min_size=1, max_size=3, unique=True))
    return {pid: draw(provider_files(pid)) for pid in pids}


# --- writing the files -----------------------------------------------------------------------


class _Number(str):
    """A number's exact text, written as a plain YAML scalar."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_number(dumper: yaml.SafeDumper, value: _Number) -> yaml.ScalarNode:
    tag = "tag:yaml.org,2002:float" if "." in value else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, str(value))


_Dumper.add_representer(_Number, _represent_number)


def styled(value: Any, rnd: random.Random) -> Any:
    """`value` as a person might write it: prices with or without trailing zeros, lists in
    any order. None of it is a change."""
    if isinstance(value, Decimal):
        text = format(value.normalize() if rnd.random() < 0.5 else value, "f")
        room = 10 - len(text.partition(".")[2])  # the files take 10 decimal places at most
        if "." in text and room > 0 and rnd.random() < 0.3:
            text += "0" * rnd.randint(1, min(2, room))
        return _Number(text)
    if isinstance(value, dict):
        return {k: styled(v, rnd) for k, v in value.items()}
    if isinstance(value, list):
        items = [styled(v, rnd) for v in value]
        if items and all(isinstance(v, str) for v in items):
            rnd.shuffle(items)
        return items
    return value


def write_registry(folder: Path, registry: dict[str, dict[str, Any]], rnd: random.Random) -> None:
    providers = folder / "providers"
    providers.mkdir(parents=True, exist_ok=True)
    for old in providers.glob("*.yaml"):
        old.unlink()
    vocabulary = {name: f"Can do {name}." for name in CAPABILITIES}
    (folder / "capabilities.yaml").write_text(yaml.safe_dump({"capabilities": vocabulary}))
    for pid, content in registry.items():
        text = yaml.dump(styled(content, rnd), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        (providers / f"{pid}.yaml").write_text(text)


# --- what the files say, as the database should show it --------------------------------------


def create_fields(model: dict[str, Any]) -> frozenset[str]:
    """The fields a create lists: every one with a value."""
    pricing = model["pricing"]
    present = {
        "display_name", "model_type", "category", "context_window", "max_output_tokens",
        "input_modalities", "output_modalities", "input_per_1m", "output_per_1m", "is_novel",
        "status",
    }
    optional = {
        "cache_read_per_1m": pricing.get("cache_read_per_1m"),
        "cache_write_per_1m": pricing.get("cache_write_per_1m"),
        "price_tiers": pricing.get("tiers"),
        "capabilities": model.get("capabilities"),
        "release_date": model.get("release_date"),
        "deprecation_date": model.get("deprecation_date"),
        "aliases": model.get("aliases"),
        "source_url": model.get("source_url"),
        "verified_at": model.get("verified_at"),
    }
    valued = {name for name, value in optional.items() if value not in (None, [])}
    return frozenset(present | valued)


# --- the database ----------------------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(resolve_url(database_url))
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def fresh_example(engine: Engine) -> Iterator[tuple[Connection, Path]]:
    """A connection to an empty database and an empty registry folder, for one example."""
    with engine.connect() as conn:
        with conn.begin():
            migrations.downgrade(conn, "base")
        with tempfile.TemporaryDirectory(prefix="registry-") as folder:
            yield conn, Path(folder)


def run_sync(conn: Connection, folder: Path, **options: Any) -> Plan:
    registry = load_registry(folder)
    return sync(conn, registry, SyncOptions(**options), EventLog(quiet=True)).plan


def run_diff(conn: Connection, folder: Path) -> Plan:
    return preview(conn, load_registry(folder), SyncOptions())


def size(registry: dict[str, dict[str, Any]]) -> int:
    return sum(1 + len(content["models"]) for content in registry.values())


# --- properties ------------------------------------------------------------------------------


@SETTINGS
@given(registry=registries(), rnd=st.randoms(use_true_random=False))
def test_sync_then_diff_is_empty(engine, database_url, registry, rnd):
    with fresh_example(engine) as (conn, folder):
        write_registry(folder, registry, rnd)
        first = run_sync(conn, folder)
        assert first.summary == {"create": size(registry), "update": 0, "retire": 0, "unchanged": 0}
        assert {c.action for c in first.changes} == {"create"}
        after = run_diff(conn, folder)
        assert after.changes == []
        assert after.summary["unchanged"] == size(registry)
        write_registry(folder, registry, rnd)  # the same registry, written another way
        assert run_diff(conn, folder).changes == []
        assert listed(database_url, folder) == all_expected(registry)


EDITS = ("price", "display_name", "add_capability", "remove_capability", "add_model",
         "remove_model")


def apply_edits(
    data: Any, registry: dict[str, dict[str, Any]]
) -> tuple[set[tuple[str, str, str, frozenset[str]]], set[str]]:
    """Edit `registry` in place; return the changes a plan must list, and the removed keys."""
    edits = data.draw(st.lists(st.sampled_from(EDITS), min_size=1, max_size=len(EDITS),
                               unique=True), label="edits")
    expected: set[tuple[str, str, str, frozenset[str]]] = set()
    removed: set[str] = set()
    touched: set[str] = set()

    def pick(label: str, wanted: Any) -> tuple[str, dict[str, Any]] | None:
        choices = sorted(
            (f"{pid}/{m['id']}", pid, i)
            for pid, content in registry.items()
            for i, m in enumerate(content["models"])
            if f"{pid}/{m['id']}" not in touched and wanted(m)
        )
        if not choices:
            return None
        key, pid, index = data.draw(st.sampled_from(choices), label=label)
        touched.add(key)
        return key, registry[pid]["models"][index]

    for edit in edits:
        if edit == "add_model":
            pid = data.draw(st.sampled_from(sorted(registry)), label="provider")
            # Not an id just removed: putting a model back is an un-retire, not a create.
            used = {m["id"] for m in registry[pid]["models"]}
            used |= {key.split("/", 1)[1] for key in removed if key.startswith(f"{pid}/")}
            free = [m for m in MODEL_IDS if m not in used]
            if not free:
                continue
            model = data.draw(models(data.draw(st.sampled_from(free), label="new id")))
            registry[pid]["models"].append(model)
            key = f"{pid}/{model['id']}"
            touched.add(key)
            expected.add(("create", "model", key, create_fields(model)))
            continue
        if edit == "remove_model":
            picked = pick("remove", lambda m: True)
            if picked is None:
                continue
            key, model = picked
            pid = key.split("/", 1)[0]
            registry[pid]["models"].remove(model)
            removed.add(key)
            expected.add(("retire", "model", key, frozenset()))
            continue
        if edit == "price":
            picked = pick("price", lambda m: True)
            if picked is None:
                continue
            key, model = picked
            name = data.draw(st.sampled_from(["input_per_1m", "output_per_1m"]), label="price")
            old = model["pricing"][name]
            other = nonzero_prices.filter(lambda p, old=old: p != old)
            new_price = other if old == 0 else st.one_of(st.just(Decimal(0)), other)
            model["pricing"][name] = data.draw(new_price, label="new price")
            field = name
        elif edit == "display_name":
            picked = pick("rename", lambda m: True)
            if picked is None:
                continue
            key, model = picked
            old = model["display_name"]
            new_name = names.filter(lambda n, old=old: n != old)
            model["display_name"] = data.draw(new_name, label="name")
            field = "display_name"
        elif edit == "add_capability":
            picked = pick("add cap", lambda m: len(m.get("capabilities", [])) < len(CAPABILITIES))
            if picked is None:
                continue
            key, model = picked
            missing = [c for c in CAPABILITIES if c not in model.get("capabilities", [])]
            model["capabilities"] = [*model.get("capabilities", []),
                                     data.draw(st.sampled_from(missing), label="cap")]
            field = "capabilities"
        else:  # remove_capability
            picked = pick("drop cap", lambda m: bool(m.get("capabilities")))
            if picked is None:
                continue
            key, model = picked
            gone = data.draw(st.sampled_from(model["capabilities"]), label="cap")
            model["capabilities"] = [c for c in model["capabilities"] if c != gone]
            field = "capabilities"
        expected.add(("update", "model", key, frozenset({field})))
    return expected, removed


@SETTINGS
@given(registry=registries(), rnd=st.randoms(use_true_random=False), data=st.data())
def test_plan_lists_exactly_the_edits_and_sync_applies_them(engine, database_url, registry, rnd,
                                                           data):
    with fresh_example(engine) as (conn, folder):
        write_registry(folder, registry, rnd)
        run_sync(conn, folder)
        expected, removed = apply_edits(data, registry)
        write_registry(folder, registry, rnd)

        plan = run_diff(conn, folder)
        got = {(c.action, c.kind, c.key, frozenset(c.fields)) for c in plan.changes}
        assert got == expected
        assert len(plan.changes) == len(expected)
        for change in plan.changes:
            if change.action == "update":
                ((old, new),) = change.fields.values()
                assert old != new

        applied = run_sync(conn, folder, prune=True, force=True)
        assert {(c.action, c.key) for c in applied.changes} == {(a, k) for a, _, k, _ in expected}
        assert run_diff(conn, folder).changes == []

        records = listed(database_url, folder)
        wanted = all_expected(registry)
        assert {key: records[key] for key in wanted} == wanted
        assert set(records) == set(wanted) | removed
        assert all(records[key]["retired"] is True for key in removed)
