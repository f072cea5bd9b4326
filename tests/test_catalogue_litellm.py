"""The loader and sync on real, messy input: LiteLLM's model map.

LiteLLM (BerriAI/litellm, MIT licence) keeps one JSON map of every model it routes to.
`catalogues/litellm.json` holds its entries, verbatim, for the providers this registry
ships a file for (snapshot of 2026-07-24; `catalogues/snapshot.py` says which LiteLLM
provider names map to which of ours). `litellm()` turns them into v1 provider files field
for field and invents nothing. Where the map is silent or messy, it does what a user
importing it would expect:

- a model's id is its key in the map without LiteLLM's routing prefix ("azure/gpt-4o" is
  "gpt-4o" at azure_openai); the rest of the key stays, region and size prefixes included
  ("us-east-1/...", "1024-x-1024/..."): those name different prices. Its display name is
  that id: the map has none;
- prices per token become prices per 1M tokens by moving the decimal point of the JSON
  number's text: 3e-06 is 3, 1.5e-07 is 0.15, and float noise stays as written;
- `max_input_tokens` is the context window and `max_output_tokens` the output limit; the
  map's legacy `max_tokens`, which is either one, is not used. A limit or list price that
  the map lacks is written as null, so that the loader reports it;
- `mode` gives the model type: chat, completion and responses are chat; image_generation
  and image_edit are image; audio_transcription and audio_speech are audio; embedding and
  realtime are themselves. Modes the format has no type for (rerank, moderation, OCR,
  video, search, vector stores, or none) are left out of the import;
- `input_cost_per_token_above_200k_tokens` and the like are price tiers above 200,000
  tokens; the supports_function_calling, supports_vision, supports_reasoning,
  supports_web_search and supports_computer_use flags are the vocabulary's tool_use, vision,
  reasoning, search and computer_use; `source` is the source URL, `deprecation_date` kept
  when it is a day; per-image, per-second, batch and priority prices are left out.

The map has real flaws: ids with "*" in them or ending in "/", ids listed twice once the
prefix is dropped, sources that are a sentence or a URL followed by words, token limits
written as floats (2000000.0), image models with no token price, models with no limits,
price tiers that start at the context window, "code" as a modality. `realdata.flaws` and
`realdata.rule_breaks` and `duplicate_ids` name them without the loader; the tests
check that `registry validate` reports exactly those, each at its line, that the fast
reader reads the files as the strict one does, and that the other models (1,202 of the
1,644 imported, over 15 providers) sync to both databases with every value intact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from catalogues.snapshot import litellm_provider
from conftest import same
from realdata import (
    Registry,
    assert_flaws_reported,
    assert_syncs_intact,
    shipped_provider,
    sound,
    well_typed,
    write,
)

from radiant_registry import yamlfast, yamlstrict

CATALOGUE = Path(__file__).parent / "catalogues" / "litellm.json"
MODEL_TYPES = {
    "chat": "chat",
    "completion": "chat",
    "responses": "chat",
    "embedding": "embedding",
    "image_generation": "image",
    "image_edit": "image",
    "audio_transcription": "audio",
    "audio_speech": "audio",
    "realtime": "realtime",
}
CAPABILITY_FLAGS = {
    "supports_function_calling": "tool_use",
    "supports_vision": "vision",
    "supports_reasoning": "reasoning",
    "supports_web_search": "search",
    "supports_computer_use": "computer_use",
}
_TIER = re.compile(r"(input|output)_cost_per_token_above_([0-9]+)k_tokens")


# --- the map as registry files -------------------------------------------------------------


def litellm() -> Registry:
    entries = json.loads(CATALOGUE.read_text(), parse_float=Decimal)
    models: dict[str, list[dict[str, Any]]] = {}
    for key, entry in sorted(entries.items()):
        pid = litellm_provider(entry["litellm_provider"])
        assert pid is not None  # the snapshot holds only these
        if entry.get("mode") in MODEL_TYPES:
            models.setdefault(pid, []).append(_model(_model_id(key, pid), entry))
    return {
        pid: {"schema_version": 1, "provider": shipped_provider(pid), "models": listed}
        for pid, listed in sorted(models.items())
    }


def _model_id(key: str, pid: str) -> str:
    """The key without its routing prefix: one of the LiteLLM names of the provider."""
    prefix, _, rest = key.partition("/")
    return rest if rest and litellm_provider(prefix) == pid else key


def _per_1m(value: Any) -> Any:
    """A price per token as a price per 1M tokens; any other value as it is."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value).scaleb(6)
    return value


def _model(model_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    model: dict[str, Any] = {
        "id": model_id,
        "display_name": model_id,
        # A float limit (8191.0) is written as the map writes it: not an integer.
        "context_window": entry.get("max_input_tokens"),
        "max_output_tokens": entry.get("max_output_tokens"),
    }
    if MODEL_TYPES[entry["mode"]] != "chat":
        model["model_type"] = MODEL_TYPES[entry["mode"]]
    modalities = {
        direction: entry[key]
        for direction, key in (("input", "supported_modalities"),
                               ("output", "supported_output_modalities"))
        if key in entry
    }
    if modalities:
        model["modalities"] = modalities
    pricing = {
        "input_per_1m": _per_1m(entry.get("input_cost_per_token")),
        "output_per_1m": _per_1m(entry.get("output_cost_per_token")),
    }
    for ours, theirs in (("cache_read_per_1m", "cache_read_input_token_cost"),
                         ("cache_write_per_1m", "cache_creation_input_token_cost")):
        if theirs in entry:
            pricing[ours] = _per_1m(entry[theirs])
    tiers: dict[int, dict[str, Any]] = {}
    for key, value in entry.items():
        match = _TIER.fullmatch(key)
        if match:
            above = int(match[2]) * 1000
            tier = tiers.setdefault(
                above, {"above_tokens": above, "input_per_1m": None, "output_per_1m": None}
            )
            tier[f"{match[1]}_per_1m"] = _per_1m(value)
    if tiers:
        pricing["tiers"] = [tiers[above] for above in sorted(tiers)]
    model["pricing"] = pricing
    capabilities = sorted(ours for flag, ours in CAPABILITY_FLAGS.items() if entry.get(flag))
    if capabilities:
        model["capabilities"] = capabilities
    with suppress(KeyError, TypeError, ValueError):  # none, or not a day
        model["deprecation_date"] = date.fromisoformat(entry["deprecation_date"])
    if "source" in entry:
        model["source_url"] = entry["source"]
    return model


# --- tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> Registry:
    return litellm()


def test_the_import_takes_every_entry_of_a_mode_the_format_has(catalogue: Registry) -> None:
    entries = json.loads(CATALOGUE.read_text())
    typed = [entry for entry in entries.values() if entry.get("mode") in MODEL_TYPES]
    assert sum(len(content["models"]) for content in catalogue.values()) == len(typed)
    assert len(typed) < len(entries)  # rerank, moderation, video ... are left out


@pytest.mark.parametrize(
    "edition", [lambda c: c, well_typed], ids=["as published", "well typed"]
)
def test_validate_reports_exactly_the_maps_flaws_at_their_lines(
    catalogue: Registry, edition: Callable[[Registry], Registry], tmp_path: Path
) -> None:
    assert_flaws_reported(edition(catalogue), tmp_path / "files")


def test_the_fast_reader_reads_the_real_files_as_the_strict_reader(
    catalogue: Registry, tmp_path: Path
) -> None:
    folder = write(tmp_path / "files", catalogue)
    strict_only = set()
    for path in sorted((folder / "providers").glob("*.yaml")):
        text = path.read_text()
        fast = yamlfast.read(text)
        if fast is None:
            strict_only.add(path.name)
        else:
            assert same(fast, yamlstrict.read(text.encode(), fast=False)), path.name
    # The one "source" that is a sentence is written over two lines: outside the fast
    # reader's subset, so that file is read by the strict reader alone.
    assert strict_only == {"openai.yaml"}


def test_the_sound_models_sync_with_every_value_intact(
    catalogue: Registry, database_url: str, tmp_path: Path
) -> None:
    registry = sound(catalogue)
    models = sum(len(content["models"]) for content in registry.values())
    assert models == 1202  # of the 1,644 imported (the module's docstring says why)
    assert_syncs_intact(registry, database_url, tmp_path / "sound")
