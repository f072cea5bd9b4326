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
embedding model (models.dev has no model type) with no output. `flaws` and `rule_breaks`
name them without the loader; the tests check that `registry validate` reports exactly
those, each at its line, that the fast reader reads these files as the strict one does,
and that the other 490 models sync to both databases with every value intact.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Cli, all_expected, listed
from typer.testing import CliRunner

from radiant_registry import yamlfast, yamlstrict
from radiant_registry.cli import app

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
PRICE_KEYS = ("input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m")

Registry = dict[str, dict[str, Any]]  # provider id -> provider file content


# --- the catalogue as registry files --------------------------------------------------------


def models_dev() -> Registry:
    files = {name: tomllib.loads(text) for name, text in json.loads(CATALOGUE.read_text()).items()}
    registry: Registry = {}
    for folder, pid in PROVIDERS.items():
        shipped = yaml.safe_load((REPO / "registry_data" / "providers" / f"{pid}.yaml").read_text())
        prefix = f"providers/{folder}/models/"
        models = [
            _model(name.removeprefix(prefix).removesuffix(".toml"), _inherited(files[name], files))
            for name in sorted(files)
            if name.startswith(prefix)
        ]
        registry[pid] = {"schema_version": 1, "provider": shipped["provider"], "models": models}
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


class _Dumper(yaml.SafeDumper):
    """Writes files as people write them here: sequences indented under their key, lists
    of words in flow style, prices as plain numbers."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # models that inherit a base model share its tables: write each out


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    words = all(isinstance(item, str) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=words)


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(Decimal, _represent_decimal)


def write(folder: Path, registry: Registry) -> Path:
    (folder / "providers").mkdir(parents=True)
    shutil.copy(REPO / "registry_data" / "capabilities.yaml", folder)
    for pid, content in registry.items():
        text = yaml.dump(content, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        (folder / "providers" / f"{pid}.yaml").write_text(text)
    return folder


# --- the catalogue's flaws, found without the loader ------------------------------------------


def flaws(model: dict[str, Any]) -> list[str]:
    """The keys of `model` whose values the format refuses by type or range, one per value."""
    found = [
        key for key in ("context_window", "max_output_tokens")
        if not isinstance(model[key], int) or model[key] < (1 if key == "context_window" else 0)
    ]
    if not isinstance(model["display_name"], str):
        found.append("display_name")
    pricing = model["pricing"]
    prices = [(key, pricing.get(key)) for key in PRICE_KEYS] + [
        (key, tier[key]) for tier in pricing.get("tiers", []) for key in PRICE_KEYS[:2]
    ]
    for key, price in prices:
        required = key == "input_per_1m"
        if (price is None and required) or (price is not None and _bad_price(price)):
            found.append(key)
    return found


def _bad_price(price: Decimal) -> bool:
    places = -price.as_tuple().exponent if isinstance(price.as_tuple().exponent, int) else 0
    return price < 0 or price > 100_000 or 0 < price < Decimal("0.0001") or places > 10


def rule_breaks(model: dict[str, Any]) -> list[str]:
    """The keys of a well-typed `model` that break a rule across fields, one per break."""
    found = []
    window, output = model["context_window"], model["max_output_tokens"]
    embedding = model.get("model_type") == "embedding"
    if output > window or (output == 0 and not embedding):
        found.append("max_output_tokens")
    if model["pricing"]["output_per_1m"] is None and not embedding:
        found.append("pricing")
    previous = 0
    for tier in model["pricing"].get("tiers", []):
        above = tier["above_tokens"]
        found += ["above_tokens"] * ((above >= window) + (above <= previous))
        previous = above
    return found


def reported_at(folder: Path, problems: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Each problem as (provider id, model id, the key on its line), read from the file."""
    out = []
    for problem in problems:
        lines = Path(problem["file"]).read_text().splitlines()
        key = lines[problem["line"] - 1].strip().removeprefix("- ").split(":")[0]
        model_line = next(
            line for line in reversed(lines[: problem["line"]]) if line.startswith("  - id: ")
        )
        model_id = yaml.safe_load(model_line.removeprefix("  - id: "))
        out.append((Path(problem["file"]).stem, model_id, key))
    return sorted(out)


# --- tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> Registry:
    return models_dev()


def validate(folder: Path) -> Any:
    return CliRunner().invoke(app, ["validate", "--data-dir", str(folder), "--format", "json"])


def test_the_snapshot_is_the_whole_catalogue_of_the_shared_providers(catalogue: Registry) -> None:
    files = json.loads(CATALOGUE.read_text())
    model_files = [name for name in files if name.startswith("providers/") and "/models/" in name]
    assert sum(len(content["models"]) for content in catalogue.values()) == len(model_files)
    assert {name.split("/")[1] for name in model_files} == set(PROVIDERS)


def keeping(catalogue: Registry, keep: Callable[[dict[str, Any]], bool]) -> Registry:
    return {
        pid: {**content, "models": [m for m in content["models"] if keep(m)]}
        for pid, content in catalogue.items()
    }


def well_typed(catalogue: Registry) -> Registry:
    """The catalogue without the models whose values the format refuses."""
    return keeping(catalogue, lambda model: not flaws(model))


def sound(catalogue: Registry) -> Registry:
    """The catalogue without the models the format refuses."""
    return keeping(catalogue, lambda model: not flaws(model) and not rule_breaks(model))


@pytest.mark.parametrize("edition", [lambda c: c, well_typed], ids=["as published", "well typed"])
def test_validate_reports_exactly_the_catalogues_flaws_at_their_lines(
    catalogue: Registry, edition: Callable[[Registry], Registry], tmp_path: Path
) -> None:
    registry = edition(catalogue)
    folder = write(tmp_path / "files", registry)
    result = validate(folder)
    assert result.exit_code == 65, result.output
    expected = []
    for pid, content in registry.items():
        found = [(m["id"], key) for m in content["models"] for key in flaws(m)]
        if not found:  # rules across fields are checked once every value of a file is typed
            found = [(m["id"], key) for m in content["models"] for key in rule_breaks(m)]
        expected += [(pid, model_id, key) for model_id, key in found]
    assert expected, "the snapshot is known to hold flaws; none found means a broken test"
    assert reported_at(folder, json.loads(result.stdout)) == sorted(expected)


def test_the_fast_reader_reads_the_real_files_as_the_strict_reader(
    catalogue: Registry, tmp_path: Path
) -> None:
    folder = write(tmp_path / "files", sound(catalogue))
    for path in sorted((folder / "providers").glob("*.yaml")):
        text = path.read_text()
        fast = yamlfast.read(text)
        assert fast is not None, f"{path.name} fell back to the strict reader"
        assert fast == yamlstrict.read(text.encode())


def test_the_sound_models_sync_with_every_value_intact(
    catalogue: Registry, database_url: str, tmp_path: Path
) -> None:
    registry = sound(catalogue)
    models = sum(len(content["models"]) for content in registry.values())
    assert models == 490  # of the snapshot's 520 (the module's docstring says why)
    folder = write(tmp_path / "sound", registry)
    assert validate(folder).exit_code == 0
    cli = Cli(database_url, folder)
    result = cli.sync("--log-format", "json")
    assert result.exit_code == 0, result.output
    summary = [json.loads(line) for line in result.stderr.splitlines()][-1]
    assert (summary["created"], summary["updated"]) == (models + len(registry), 0)
    assert listed(database_url, folder) == all_expected(registry)
    assert cli("diff", "--exit-code", data=True).exit_code == 0  # nothing left to change
