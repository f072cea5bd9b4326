"""Rebuild the catalogue snapshots the tests read, from the shared copies of the catalogues.

    python tests/catalogues/snapshot.py models.dev ../shared/catalogs/models.dev
    python tests/catalogues/snapshot.py litellm \
        ../shared/catalogs/litellm/model_prices_and_context_window.json

models-dev.json maps each file's path in models.dev to its text, verbatim: every provider's
files (the snapshot in ../shared/catalogs holds the 15 providers this registry shares with
models.dev), and the `models/` files they inherit from through `base_model`.

litellm.json holds LiteLLM's model map entries, verbatim, of the providers this registry
ships a file for (`LITELLM_PROVIDERS`), keyed as in the map.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

# LiteLLM's provider name -> this registry's provider id. LiteLLM splits some providers by
# API (bedrock_converse, cohere_chat, text-completion-openai) or by model family
# (vertex_ai-anthropic_models ...): each part belongs to the one provider it bills through.
LITELLM_PROVIDERS = {
    "anthropic": "anthropic",
    "azure": "azure_openai",
    "azure_text": "azure_openai",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "deepseek": "deepseek",
    "fireworks_ai": "fireworks",
    "fireworks_ai-embedding-models": "fireworks",
    "gemini": "google",
    "groq": "groq",
    "huggingface": "huggingface",
    "mistral": "mistral",
    "openai": "openai",
    "text-completion-openai": "openai",
    "perplexity": "perplexity",
    "replicate": "replicate",
    "together_ai": "together",
    "xai": "xai",
}


def litellm_provider(name: Any) -> str | None:
    """This registry's provider id for a LiteLLM provider name, or None if it ships none."""
    if name == "vertex_ai" or (isinstance(name, str) and name.startswith("vertex_ai-")):
        return "vertex_ai"
    return LITELLM_PROVIDERS.get(name) if isinstance(name, str) else None


def models_dev(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted((root / "providers").rglob("*.toml")):
        files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    bases = {
        tomllib.loads(text).get("base_model")
        for name, text in files.items()
        if "/models/" in name
    }
    for base in sorted(b for b in bases if b):
        path = root / "models" / f"{base}.toml"
        files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return files


def litellm(path: Path) -> dict[str, Any]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: entry
        for key, entry in entries.items()
        if isinstance(entry, dict) and litellm_provider(entry.get("litellm_provider"))
    }


if __name__ == "__main__":
    kind, source = sys.argv[1], Path(sys.argv[2])
    if kind == "models.dev":
        target, content = Path(__file__).with_name("models-dev.json"), models_dev(source)
    elif kind == "litellm":
        target, content = Path(__file__).with_name("litellm.json"), litellm(source)
    else:
        sys.exit(f"unknown catalogue {kind!r}: models.dev or litellm")
    target.write_text(json.dumps(content, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
