"""A deterministic registry of N models over P provider files, in the v1 format.

The values are realistic in shape (prices with 2-4 decimal places, some cache prices and
context tiers, modalities, capabilities, dates, aliases) and invented: this is test data
for speed, never for `registry_data/`.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAPABILITIES = REPO / "registry_data" / "capabilities.yaml"
_CONTEXTS = (8192, 32768, 128000, 131072, 200000, 1000000)
_CATEGORIES = ("flagship", "balanced", "economy", "specialized", "novel", "general")
_CAPABILITY_POOL = (
    "chat",
    "reasoning",
    "analysis",
    "code",
    "vision",
    "streaming",
    "tool_use",
    "multilingual",
    "fast",
    "math",
    "search",
)
_MODALITIES = ("text", "image", "audio", "pdf")


@dataclass
class Generated:
    data_dir: Path
    models: int
    files: int
    edits: dict[int, int] = field(default_factory=dict)  # model index -> edit round


def provider_id(index: int) -> str:
    return f"bench_{index:04d}"


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    places = rng.choice((2, 2, 3, 4))
    return Decimal(rng.randint(low * 10**places, high * 10**places)).scaleb(-places)


def model_lines(rng: random.Random, index: int, edit: int = 0) -> list[str]:
    """One model's YAML lines; `edit` > 0 changes its price deterministically."""
    context = rng.choice(_CONTEXTS)
    embedding = index % 40 == 0
    input_price = _price(rng, 0, 20) + Decimal(edit) / 100
    lines = [
        f"  - id: vendor-{index % 97}/model-{index}-v{index % 7}.{index % 3}",
        f"    display_name: Model {index} v{index % 7}",
    ]
    if embedding:
        lines += [
            "    model_type: embedding",
            "    category: specialized",
            f"    context_window: {context}",
            "    max_output_tokens: 0",
            "    modalities: {input: [text], output: [embedding]}",
            "    pricing:",
            f"      input_per_1m: {max(input_price, Decimal('0.01'))}",
            "    capabilities: [embedding]",
        ]
        return lines
    inputs = ["text", *rng.sample(_MODALITIES[1:], rng.randint(0, 2))]
    lines += [
        f"    category: {rng.choice(_CATEGORIES)}",
        f"    context_window: {context}",
        f"    max_output_tokens: {min(context, rng.choice((4096, 8192, 16384, 65536)))}",
        f"    modalities: {{input: [{', '.join(inputs)}], output: [text]}}",
        "    pricing:",
        f"      input_per_1m: {max(input_price, Decimal('0.01'))}",
        f"      output_per_1m: {_price(rng, 1, 80)}",
    ]
    if rng.random() < 0.3:
        lines += [
            f"      cache_read_per_1m: {_price(rng, 0, 2) + Decimal('0.01')}",
            f"      cache_write_per_1m: {_price(rng, 1, 5)}",
        ]
    if rng.random() < 0.1 and context > 128000:
        lines += [
            "      tiers:",
            f"        - {{above_tokens: 128000, input_per_1m: {_price(rng, 5, 30)}, "
            f"output_per_1m: {_price(rng, 10, 90)}}}",
        ]
    capabilities = sorted(rng.sample(_CAPABILITY_POOL, rng.randint(1, 5)))
    lines.append(f"    capabilities: [{', '.join(capabilities)}]")
    if rng.random() < 0.2:
        lines.append("    is_novel: true")
    if rng.random() < 0.5:
        year, month = 2023 + index % 3, 1 + index % 12
        lines += [
            f"    release_date: {year}-{month:02d}-15",
            f"    verified_at: 2026-{1 + index % 9:02d}-01",
            f"    source_url: https://example.com/pricing/{index}",
        ]
    if rng.random() < 0.1:
        lines.append(f"    aliases: [model-{index}-latest]")
    return lines


def provider_text(file_index: int, first: int, count: int, edits: dict[int, int]) -> str:
    pid = provider_id(file_index)
    lines = [
        "schema_version: 1",
        "provider:",
        f"  id: {pid}",
        f"  display_name: Bench Provider {file_index}",
        f"  api_base: https://api.{pid.replace('_', '-')}.example.com/v1",
        "  auth_type: api_key",
        "models:",
    ]
    for index in range(first, first + count):
        rng = random.Random(index)  # one stream per model: editing one leaves the rest alone
        lines += model_lines(rng, index, edits.get(index, 0))
    return "\n".join(lines) + "\n"


def layout(models: int, files: int) -> list[tuple[int, int]]:
    """(first model index, count) of each file: models spread evenly."""
    base, extra = divmod(models, files)
    out, first = [], 0
    for i in range(files):
        count = base + (1 if i < extra else 0)
        out.append((first, count))
        first += count
    return out


def generate(target: Path, models: int, files: int) -> Generated:
    (target / "providers").mkdir(parents=True, exist_ok=True)
    shutil.copy(CAPABILITIES, target / "capabilities.yaml")
    for i, (first, count) in enumerate(layout(models, files)):
        (target / "providers" / f"{provider_id(i)}.yaml").write_text(
            provider_text(i, first, count, {})
        )
    return Generated(target, models, files)


def edit(generated: Generated, fraction: float, round_: int, file_step: int = 1) -> int:
    """Change the input price of the same `fraction` of the models, in every `file_step`-th file.

    Each `round_` (1, 2, ...) gives those models a new price and keeps earlier edits, so
    every call changes exactly the models it chooses. Returns the number edited.
    """
    spans = layout(generated.models, generated.files)
    step = max(1, round(1 / (fraction * file_step)))
    edited = 0
    for i, (first, count) in enumerate(spans):
        if i % file_step:
            continue
        chosen = [index for index in range(first, first + count) if (index - first) % step == 0]
        generated.edits.update(dict.fromkeys(chosen, round_))
        edited += len(chosen)
        path = generated.data_dir / "providers" / f"{provider_id(i)}.yaml"
        path.write_text(provider_text(i, first, count, generated.edits))
    return edited


def main(argv: list[str] | None = None) -> None:
    """`python benchmarks/generate.py DIR --models N --files P`: a registry to try by hand."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path, help="folder to write (created if missing)")
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args(argv)
    if args.models < 1 or not 1 <= args.files <= args.models:
        parser.error("needs 1 <= --files <= --models")
    if args.target.exists() and any(args.target.iterdir()):
        # Files left from a larger run would be synced too (and never into registry_data/).
        parser.error(f"{args.target} is not empty: give a new or empty folder")
    generate(args.target, args.models, args.files)
    print(f"{args.models} models in {args.files} files: {args.target}")


if __name__ == "__main__":
    main()
