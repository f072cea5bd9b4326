"""Real catalogues as registry files, and the flaws the format must find in them.

A catalogue test turns a public catalogue into v1 provider files (`write`), then checks that
`registry validate` reports exactly the problems that `flaws` and `rule_breaks` find in the
same data without the loader, each at its line (`reported_at`). Those two functions restate
the format's rules plainly, from the README, rather than call the schema: a rule that the
loader stopped applying, or applied at the wrong place, fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
import string
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO, Cli, all_expected, listed
from typer.testing import CliRunner

from radiant_registry.cli import app

PRICE_KEYS = ("input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m")
MODALITIES = {"text", "image", "audio", "video", "pdf", "embedding"}
MAX_TOKENS = 1_000_000_000
# Letters, digits and . _ - : / @ ~ +, at most 200; not starting with "/", no "//".
_MODEL_ID_CHARACTERS = set(string.ascii_letters + string.digits + "._-:/@~+")
_URL = re.compile(r"https?://\S+\Z")

Registry = dict[str, dict[str, Any]]  # provider id -> provider file content


# --- writing ----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Writes files as people write them here: sequences indented under their key, lists
    of words in flow style, prices as plain numbers."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # entries that share a table (a base model's): write each out


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


def shipped_provider(pid: str) -> dict[str, Any]:
    """The provider block of our own file: catalogues have no api_base or authentication."""
    path = REPO / "registry_data" / "providers" / f"{pid}.yaml"
    return yaml.safe_load(path.read_text())["provider"]


def validate(folder: Path) -> Any:
    return CliRunner().invoke(app, ["validate", "--data-dir", str(folder), "--format", "json"])


# --- the flaws, found without the loader ------------------------------------------------------


def flaws(model: dict[str, Any]) -> list[str]:
    """The keys of `model` whose values the format refuses by type or range, one per value."""
    found = []
    if not _model_id(model["id"]):
        found.append("id")
    if not (isinstance(model["display_name"], str) and 0 < len(model["display_name"]) <= 200):
        found.append("display_name")
    for key, low in (("context_window", 1), ("max_output_tokens", 0)):
        value = model[key]
        if type(value) is not int or not low <= value <= MAX_TOKENS:
            found.append(key)
    for direction, items in model.get("modalities", {}).items():  # each on a line of its own
        unknown = [item for item in items if item not in MODALITIES]
        if unknown:
            found += [direction] * len(unknown)  # one problem per item
        elif not items or len(set(items)) < len(items):
            found.append(direction)  # empty, or an item listed twice: one problem
    pricing = model["pricing"]
    prices = [(key, pricing.get(key)) for key in PRICE_KEYS] + [
        (key, tier[key]) for tier in pricing.get("tiers", []) for key in PRICE_KEYS[:2]
    ]
    for key, price in prices:
        required = key == "input_per_1m"
        if (price is None and required) or (price is not None and _bad_price(price)):
            found.append(key)
    url = model.get("source_url")
    if url is not None and not (isinstance(url, str) and _URL.match(url) and len(url) <= 2000):
        found.append("source_url")
    return found


def _model_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 200
        and set(value) <= _MODEL_ID_CHARACTERS
        and not value.startswith("/")
        and not value.endswith("/")
        and "//" not in value
    )


def _bad_price(price: Decimal) -> bool:
    places = -price.as_tuple().exponent if isinstance(price.as_tuple().exponent, int) else 0
    return price < 0 or price > 100_000 or 0 < price < Decimal("0.0001") or places > 10


def duplicate_ids(models: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(model id, "id") of each model whose id an earlier one has, case aside: the later
    one, whatever its case."""
    found = []
    first: set[str] = set()
    for model in models:
        if model["id"].lower() in first:
            found.append((model["id"], "id"))
        first.add(model["id"].lower())
    return found


def rule_breaks(models: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(model id, key) of each break of a rule across fields, in well-typed models."""
    found = []
    for model in models:
        window, output = model["context_window"], model["max_output_tokens"]
        embedding = model.get("model_type") == "embedding"
        if output > window or (output == 0 and not embedding):
            found.append((model["id"], "max_output_tokens"))
        if model["pricing"]["output_per_1m"] is None and not embedding:
            found.append((model["id"], "pricing"))
        previous = 0
        for tier in model["pricing"].get("tiers", []):
            above = tier["above_tokens"]
            found += [(model["id"], "above_tokens")] * ((above >= window) + (above <= previous))
            previous = above
    return found


def expected_problems(registry: Registry) -> list[tuple[str, str, str]]:
    """(provider id, model id, key) of every problem `registry validate` must report: each
    flaw, each break of a rule across fields among the models without one, and each
    duplicate id among the models whose id is well typed, whatever their other values."""
    expected = []
    for pid, content in registry.items():
        found = [(m["id"], key) for m in content["models"] for key in flaws(m)]
        found += duplicate_ids([m for m in content["models"] if _model_id(m["id"])])
        found += rule_breaks([m for m in content["models"] if not flaws(m)])
        expected += [(pid, model_id, key) for model_id, key in found]
    return sorted(expected)


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
        out.append((Path(problem["file"]).stem, str(model_id), key))
    return sorted(out)


# --- editions ---------------------------------------------------------------------------------


def keeping(registry: Registry, keep: Callable[[dict[str, Any]], bool]) -> Registry:
    return {
        pid: {**content, "models": [m for m in content["models"] if keep(m)]}
        for pid, content in registry.items()
    }


def well_typed(registry: Registry) -> Registry:
    """The registry without the models whose values the format refuses."""
    return keeping(registry, lambda model: not flaws(model))


def sound(registry: Registry) -> Registry:
    """The registry without the models the format refuses. Of models that share an id, none
    is kept: which one the catalogue meant is unknown."""
    kept: Registry = {}
    for pid, content in well_typed(registry).items():
        breaks = duplicate_ids(content["models"]) + rule_breaks(content["models"])
        broken = {model_id for model_id, _ in breaks}
        doubled = {model_id.lower() for model_id, key in breaks if key == "id"}
        models = [
            m for m in content["models"] if m["id"] not in broken and m["id"].lower() not in doubled
        ]
        kept[pid] = {**content, "models": models}
    return kept


def assert_flaws_reported(registry: Registry, folder: Path) -> None:
    """`registry validate` of `registry` written to `folder` reports exactly its flaws
    (`expected_problems`, found without the loader), each at its line."""
    write(folder, registry)
    result = validate(folder)
    assert result.exit_code == 65, result.output
    expected = expected_problems(registry)
    assert expected, "the snapshot is known to hold flaws; none found means a broken test"
    assert reported_at(folder, json.loads(result.stdout)) == expected


def assert_syncs_intact(registry: Registry, database_url: str, folder: Path) -> None:
    """`registry` (sound) written to `folder` validates, syncs every row, and reads back
    with every value intact; a diff then finds nothing left to change."""
    models = sum(len(content["models"]) for content in registry.values())
    write(folder, registry)
    assert validate(folder).exit_code == 0
    cli = Cli(database_url, folder)
    result = cli.sync("--log-format", "json")
    assert result.exit_code == 0, result.output
    summary = [json.loads(line) for line in result.stderr.splitlines()][-1]
    assert (summary["created"], summary["updated"]) == (models + len(registry), 0)
    assert listed(database_url, folder) == all_expected(registry)
    assert cli("diff", "--exit-code", data=True).exit_code == 0  # nothing left to change
