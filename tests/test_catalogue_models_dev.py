"""The loader and sync on real, messy input: the models.dev catalogue.

models.dev (sst/models.dev, MIT licence) describes each model a provider sells in a TOML
file. `catalogues/models-dev.json` holds those files, verbatim, for the 15 providers this
registry shares with it (snapshot of 2026-07-02; `catalogues/snapshot.py` rebuilds it).
`models_dev()` turns them into v1 provider files field for field and invents nothing.
Where the catalogue is silent or messy, it does what a user importing it would expect:

- a model file inherits its `base_model`'s keys, minus its `base_model_omit` paths, and
  its own keys win (models.dev's rule);
- the provider block (api_base, authentication) is our shipped file's: models.dev has none;
- a price is the TOML number's shortest decimal text: 0.3 is 0.3, and 0.049999999999999996
  (as the catalogue writes one Bedrock price) stays exactly that;
- a value the format requires but the catalogue lacks (a price, a limit) is written as null,
  so that the loader reports it; a release date given to the month only ("2025-04") is
  left out, since the format needs a day;
- models.dev's "beta" is our "preview"; its reasoning, tool_call and open_weights flags are
  the vocabulary's reasoning, tool_use and open_weights; what the format has no field for
  (knowledge cut-off, audio prices, per-request prices) is left out.

The catalogue has real flaws: image and speech models with a context window of 0 or no
input price, a price with float noise, a price tier that starts at the context window, an
embedding model (models.dev has no model type) with no output. `realdata.flaws` and
`realdata.rule_breaks` and `duplicate_ids` name them without the loader; the tests
check that `registry validate` reports exactly those, each at its line, that the fast
reader reads these files as the strict one does, and that the other 490 models sync to
both databases with every value intact.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import same
from realdata import (
    PRICE_KEYS,
    Registry,
    assert_flaws_reported,
    assert_syncs_intact,
    shipped_provider,
    sound,
    well_typed,
    write,
)

from radiant_registry import yamlfast, yamlstrict

CATALOGUE = Path(__file__).parent / "catalogues" / "models-dev.json"
# models.dev's provider folder -> this registry's provider id.
PROVIDERS = {
    "amazon-bedrock": "bedrock",
    "anthropic": "anthropic",
    "azure": "azure_openai",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "fireworks-ai": "fireworks",
    "google": "google",
    "google-vertex": "vertex_ai",
    "groq": "groq",
    "huggingface": "huggingface",
    "mistral": "mistral",
    "openai": "openai",
    "perplexity": "perplexity",
    "togetherai": "together",
    "xai": "xai",
}
CAPABILITY_FLAGS = {
    "reasoning": "reasoning", "tool_call": "tool_use", "open_weights": "open_weights"
}


# --- the catalogue as registry files --------------------------------------------------------


def models_dev() -> Registry:
    files = {name: tomllib.loads(text) for name, text in json.loads(CATALOGUE.read_text()).items()}
    registry: Registry = {}
    for folder, pid in PROVIDERS.items():
        prefix = f"providers/{folder}/models/"
        models = [
            _model(name.removeprefix(prefix).removesuffix(".toml"), _inherited(files[name], files))
            for name in sorted(files)
            if name.startswith(prefix)
        ]
        registry[pid] = {"schema_version": 1, "provider": shipped_provider(pid), "models": models}
    return registry


def _inherited(entry: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if "base_model" not in entry:
        return entry
    base = files[f"models/{entry['base_model']}.toml"]
    for path in entry.get("base_model_omit", []):
        base = _without(base, path.split("."))
    return _merged(base, entry)


def _without(table: dict[str, Any], path: list[str]) -> dict[str, Any]:
    head, rest = path[0], path[1:]
    if head not in table:
        return table
    if not rest:
        return {k: v for k, v in table.items() if k != head}
    if not isinstance(table[head], dict):
        return table
    return {**table, head: _without(table[head], rest)}


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merged(out[key], value) if both else value
    return out


def _price(value: float | int | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _model(model_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    cost, limit = entry.get("cost", {}), entry.get("limit", {})
    model: dict[str, Any] = {
        "id": model_id,
        "display_name": entry.get("name"),
        "context_window": limit.get("context"),
        "max_output_tokens": limit.get("output"),
    }
    if "modalities" in entry:
        model["modalities"] = entry["modalities"]
    theirs = ("input", "output", "cache_read", "cache_write")
    pricing = {
        ours: _price(cost.get(name))
        for ours, name in zip(PRICE_KEYS, theirs, strict=True)
        if name in cost or ours in PRICE_KEYS[:2]  # list prices are required: null if absent
    }
    tiers = [
        {
            "above_tokens": tier["tier"]["size"],
            "input_per_1m": _price(tier.get("input")),
            "output_per_1m": _price(tier.get("output")),
        }
        for tier in cost.get("tiers", [])
    ]
    if tiers:
        pricing["tiers"] = tiers
    model["pricing"] = pricing
    capabilities = [ours for flag, ours in CAPABILITY_FLAGS.items() if entry.get(flag)]
    if capabilities:
        model["capabilities"] = capabilities
    status = {"deprecated": "deprecated", "beta": "preview"}.get(entry.get("status", ""))
    if status:
        model["status"] = status
    with suppress(KeyError, ValueError):  # none, or a month without a day
        model["release_date"] = date.fromisoformat(entry["release_date"])
    return model


# --- tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> Registry:
    return models_dev()


def test_the_snapshot_is_the_whole_catalogue_of_the_shared_providers(catalogue: Registry) -> None:
    files = json.loads(CATALOGUE.read_text())
    model_files = [name for name in files if name.startswith("providers/") and "/models/" in name]
    assert sum(len(content["models"]) for content in catalogue.values()) == len(model_files)
    assert {name.split("/")[1] for name in model_files} == set(PROVIDERS)


@pytest.mark.parametrize("edition", [lambda c: c, well_typed], ids=["as published", "well typed"])
def test_validate_reports_exactly_the_catalogues_flaws_at_their_lines(
    catalogue: Registry, edition: Callable[[Registry], Registry], tmp_path: Path
) -> None:
    assert_flaws_reported(edition(catalogue), tmp_path / "files")


def test_the_fast_reader_reads_the_real_files_as_the_strict_reader(
    catalogue: Registry, tmp_path: Path
) -> None:
    folder = write(tmp_path / "files", sound(catalogue))
    for path in sorted((folder / "providers").glob("*.yaml")):
        text = path.read_text()
        fast = yamlfast.read(text)
        assert fast is not None, f"{path.name} fell back to the strict reader"
        assert same(fast, yamlstrict.read(text.encode(), fast=False)), path.name


def test_the_sound_models_sync_with_every_value_intact(
    catalogue: Registry, database_url: str, tmp_path: Path
) -> None:
    registry = sound(catalogue)
    models = sum(len(content["models"]) for content in registry.values())
    assert models == 490  # of the snapshot's 520 (the module's docstring says why)
    assert_syncs_intact(registry, database_url, tmp_path / "sound")
