"""The rows the database holds for a provider file: which fields the files own, and their
values in canonical form (sorted lists where order carries no meaning, exact decimals as
one spelling, None for a missing optional), from a file or from a database row alike.

The loader's worker processes build these; the plan compares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from radiant_registry.schema import Model, ProviderFile

PROVIDER_FIELDS = ("display_name", "api_base", "auth_type", "auth_header", "auth_prefix")
MODEL_FIELDS = (
    "display_name",
    "model_type",
    "category",
    "context_window",
    "max_output_tokens",
    "input_modalities",
    "output_modalities",
    "input_per_1m",
    "output_per_1m",
    "cache_read_per_1m",
    "cache_write_per_1m",
    "price_tiers",
    "capabilities",
    "is_novel",
    "status",
    "release_date",
    "deprecation_date",
    "aliases",
    "source_url",
    "verified_at",
)
LIST_PRICE_FIELDS = ("input_per_1m", "output_per_1m")
# Lists whose order carries no meaning, kept sorted on both sides.
_SETS = ("input_modalities", "output_modalities", "capabilities", "aliases")

Row = dict[str, Any]


def canonical_decimal(value: Decimal) -> str:
    """'3.00', '3.0' and '3' are one price: written the same way everywhere."""
    return format(value.normalize(), "f")


def desired_provider(file: ProviderFile) -> Row:
    p = file.provider
    return {name: getattr(p, name) for name in PROVIDER_FIELDS}


def desired_model(model: Model) -> Row:
    pricing = model.pricing
    return normalize_model(
        {
            "display_name": model.display_name,
            "model_type": model.model_type,
            "category": model.category,
            "context_window": model.context_window,
            "max_output_tokens": model.max_output_tokens,
            "input_modalities": model.modalities.input,
            "output_modalities": model.modalities.output,
            "input_per_1m": pricing.input_per_1m,
            "output_per_1m": pricing.output_per_1m,
            "cache_read_per_1m": pricing.cache_read_per_1m,
            "cache_write_per_1m": pricing.cache_write_per_1m,
            "price_tiers": [
                {
                    "above_tokens": tier.above_tokens,
                    "input_per_1m": canonical_decimal(tier.input_per_1m),
                    "output_per_1m": None
                    if tier.output_per_1m is None
                    else canonical_decimal(tier.output_per_1m),
                }
                for tier in pricing.tiers
            ],
            "capabilities": model.capabilities,
            "is_novel": model.is_novel,
            "status": model.status,
            "release_date": model.release_date,
            "deprecation_date": model.deprecation_date,
            "aliases": model.aliases,
            "source_url": model.source_url,
            "verified_at": model.verified_at,
        }
    )


def normalize_model(row: Mapping[str, Any]) -> Row:
    """Canonical values of the file-owned model fields, from a file or from a database row."""
    out = {name: row.get(name) for name in MODEL_FIELDS}
    for name in _SETS:
        out[name] = sorted(out[name] or ())
    out["price_tiers"] = sorted(out["price_tiers"] or (), key=lambda tier: tier["above_tokens"])
    return out
