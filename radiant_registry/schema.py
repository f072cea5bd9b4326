"""The provider file format, schema_version 1, as pydantic models.

Values arrive already typed by `yamlstrict` (str, int, Decimal, bool, date, None,
`Ambiguous` or `Unreadable`), so every model is strict: nothing is coerced, a number is
never a string and a string never a number. Rules that span several fields live in
`semantic_problems`, so that each problem can point at the field it is about.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from radiant_registry.errors import quoted
from radiant_registry.printable import CONTROL_CHARACTERS, blank
from radiant_registry.vocab import AuthType, Category, Modality, ModelType, Status

if TYPE_CHECKING:
    from radiant_registry.yamlstrict import Loc

PROVIDER_ID = re.compile(r"[a-z0-9_]{1,64}\Z")  # fits providers.id, String(64)
# A model id is exactly what the provider's API expects: real ones carry / . : @ (a "/"
# inside only: `provider/model` must name it back, as typed in the admin commands).
MODEL_ID = re.compile(r"(?!/)(?!.*//)(?!.*/\Z)[A-Za-z0-9._\-:/@~+]{1,200}\Z")
MODEL_ID_RULE = "1 to 200 of A-Z a-z 0-9 . _ - : / @ ~ +, no / first, last or doubled"
# An https URL of at most 500 characters (providers.api_base), with {placeholders} such as
# {region} where a deployment fills in its own part.
_PLACEHOLDER = r"\{[a-z_]+\}"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# An HTTP header's name is a token (RFC 9110, 5.1): no spaces, no separators.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z\-]{1,200}\Z")
# A host name: labels of letters, digits, "_" and placeholders, with "-" inside only,
# separated by single dots. One way to match any text: no backtracking blow-up.
_HOST_CHAR = rf"(?:[A-Za-z0-9_]|{_PLACEHOLDER})"
_LABEL = rf"{_HOST_CHAR}(?:-*{_HOST_CHAR})*"
API_BASE = re.compile(
    rf"(?=.{{1,500}}\Z)https://{_LABEL}(?:\.{_LABEL})*(?::{_PORT})?"
    rf"(?:/(?:[A-Za-z0-9._~\-/]|{_PLACEHOLDER})*)?\Z"
)
API_BASE_RULE = (
    "https://HOST[:PORT][/PATH]; HOST of A-Z a-z 0-9 _ {placeholders} and inner -, "
    "PORT 1-65535, PATH of A-Z a-z 0-9 . _ ~ - /"
)

MAX_PRICE = Decimal(100_000)  # USD per 1M tokens; above this a value is a typo
MIN_PRICE = Decimal("0.0001")  # below this (and above 0) it is surely a per-token price
PRICE_PLACES = 10  # fits the database's Numeric(20, 10)
MAX_TOKENS = 1_000_000_000


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool):  # bool is an int; a price of `true` is a mistake
        return value
    if isinstance(value, int):
        return Decimal(value)
    return value


def _shown(value: Decimal) -> str:
    """A price in a message: in plain digits (0.00000001, not 1E-8) unless it is huge or
    tiny beyond any price, where plain digits would run to hundreds (1E+400)."""
    return format(value, "f") if -20 < value.adjusted() < 20 else str(value)


def _check_price(value: Decimal) -> Decimal:
    # Not finite (NaN, Infinity) never gets here: pydantic's Decimal refuses it first.
    if value < 0:
        raise PydanticCustomError(
            "price", "price must not be negative, got {value}", {"value": _shown(value)}
        )
    if value > MAX_PRICE:
        raise PydanticCustomError(
            "price",
            "price {value} is above the limit of {limit} per 1M tokens",
            {"value": _shown(value), "limit": str(MAX_PRICE)},
        )
    if 0 < value < MIN_PRICE:
        raise PydanticCustomError(
            "price",
            "price {value} per 1M tokens is below {minimum}: is it a per-token price? "
            "Multiply by 1,000,000",
            {"value": _shown(value), "minimum": str(MIN_PRICE)},
        )
    exponent = cast(int, value.as_tuple().exponent)  # an int: the value is finite
    if exponent < -PRICE_PLACES:
        raise PydanticCustomError(
            "price",
            "price {value} has more than {places} decimal places",
            {"value": _shown(value), "places": PRICE_PLACES},
        )
    if value.is_zero():
        # -0 is 0, never -0.00; and 0e999999999999 is 0, which PostgreSQL can store.
        return value.copy_abs() if exponent <= 0 else Decimal(0)
    return value


def _named(name: str) -> str:
    """An id, alias or capability quoted whole: valid ones are at most 200 characters, and
    two that differ past the 40th would read alike cut short."""
    return quoted(name, 200)


def _matches(pattern: re.Pattern[str], what: str, rule: str = "") -> Any:
    def check(value: str) -> str:
        if not pattern.match(value):
            # Message templates substitute `{name}` only: no `!r`, so pass it quoted.
            raise PydanticCustomError(
                "pattern",
                "invalid {what} {value}{rule}",
                {"what": what, "value": quoted(value, 120), "rule": f": {rule}" if rule else ""},
            )
        return value

    return AfterValidator(check)


def _unique(items: list[str]) -> list[str]:
    if len(set(items)) == len(items):
        return items  # the usual case, at C speed
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item in seen:  # `index` locates the problem at the repeat (loader._error_loc)
            raise PydanticCustomError(
                "unique", "{item} is listed twice", {"item": _named(item), "index": index}
            )
        seen.add(item)
    return items


Price = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_check_price)]
Tokens = Annotated[int, Field(ge=0, le=MAX_TOKENS)]


def _printable(value: str) -> str:
    # A name is printed in tables and logs: no terminal escapes or line breaks in it.
    found = CONTROL_CHARACTERS.search(value)
    if found:
        char = found.group()
        name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "").lower()
        what = f" ({name})" if name else ""
        if value.count("\n") == 1 and value.endswith("\n"):  # `display_name: >`, text below
            what += "; if a '>' or '|' block: it keeps its last line break, '>-' and '|-' do not"
        raise PydanticCustomError(
            "printable",
            "control characters are not allowed, got U+{code}{what}",
            {"code": f"{ord(char):04X}", "what": what},
        )
    return value


_CONTROL_NAMES = {  # C0 controls have no Unicode name
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
    "\x1b": "an escape",
    "\x00": "NUL",
}


def _not_blank(value: str) -> str:
    if blank(value):  # "   " (or U+3164, a Hangul filler) names nothing: an empty cell
        raise PydanticCustomError("blank", "must not be blank")
    return value


Name = Annotated[
    str, Field(min_length=1, max_length=200), AfterValidator(_printable), AfterValidator(_not_blank)
]
HeaderName = Annotated[str, _matches(HEADER_NAME, "auth_header (an HTTP header name)")]
SOURCE_URL = re.compile(r"https?://\S+\Z")
# \S alone would take NUL and escapes, which PostgreSQL refuses and terminals obey.
SourceUrl = Annotated[
    str,
    Field(max_length=2000),
    _matches(SOURCE_URL, "source_url (an http:// or https:// URL, no spaces)"),
    AfterValidator(_printable),
]


def _exactly_one(value: Any) -> Any:
    # A Literal compares by ==, which takes true and 1.0 for 1.
    if value == 1 and type(value) is not int:
        raise PydanticCustomError("literal_error", "Input should be 1", {"expected": "1"})
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PriceTier(_Strict):
    """Prices that apply once a request's input exceeds `above_tokens`."""

    above_tokens: Annotated[int, Field(gt=0, le=MAX_TOKENS)]
    input_per_1m: Price
    output_per_1m: Price | None = None


class Pricing(_Strict):
    input_per_1m: Price
    output_per_1m: Price | None = None
    cache_read_per_1m: Price | None = None
    cache_write_per_1m: Price | None = None
    tiers: list[PriceTier] = Field(default_factory=list)


def _text_only() -> list[Modality]:
    return ["text"]


# Mutable defaults are factories here: pydantic deep-copies a plain default for each model.
class Modalities(_Strict):
    input: Annotated[list[Modality], Field(min_length=1), AfterValidator(_unique)] = Field(
        default_factory=_text_only
    )
    output: Annotated[list[Modality], Field(min_length=1), AfterValidator(_unique)] = Field(
        default_factory=_text_only
    )


_ModelId = Annotated[str, _matches(MODEL_ID, "model id", MODEL_ID_RULE)]
_Aliases = Annotated[
    list[Annotated[str, _matches(MODEL_ID, "alias", MODEL_ID_RULE)]], AfterValidator(_unique)
]


class Model(_Strict):
    id: _ModelId
    display_name: Name
    model_type: ModelType = "chat"
    category: Category = "general"
    context_window: Annotated[int, Field(gt=0, le=MAX_TOKENS)]
    max_output_tokens: Tokens
    modalities: Modalities = Field(default_factory=Modalities)
    pricing: Pricing
    capabilities: Annotated[list[Name], AfterValidator(_unique)] = Field(default_factory=list)
    is_novel: bool = False
    status: Status = "active"
    release_date: date | None = None
    deprecation_date: date | None = None
    aliases: _Aliases = Field(default_factory=list)
    source_url: SourceUrl | None = None
    verified_at: date | None = None


@dataclass(frozen=True)
class ModelNames:
    """The names a model answers to, each read on its own: the rules across models
    (duplicate ids, aliases) also hold for a model whose other fields, or other aliases,
    fail the schema. An alias that fails it is None, so that the others keep their place."""

    id: str
    aliases: list[str | None]

    @classmethod
    def read(cls, data: Any) -> ModelNames | None:
        """The names in a model's `data`; None where its id fails the schema."""
        if not (isinstance(data, dict) and _is_model_id(data.get("id"))):
            return None
        aliases = data.get("aliases")
        listed = aliases if isinstance(aliases, list) else []
        return cls(data["id"], [alias if _is_model_id(alias) else None for alias in listed])


def _is_model_id(value: Any) -> bool:
    return type(value) is str and MODEL_ID.match(value) is not None  # as strict mode reads


class Provider(_Strict):
    id: Annotated[str, _matches(PROVIDER_ID, "provider id (lowercase letters, digits, _)")]
    display_name: Name
    api_base: Annotated[str, _matches(API_BASE, "api_base (an https URL)", API_BASE_RULE)]
    auth_type: AuthType
    auth_header: HeaderName | None = None
    auth_prefix: Annotated[str, Field(max_length=200), AfterValidator(_printable)] | None = None


class ProviderFile(_Strict):
    schema_version: Annotated[Literal[1], BeforeValidator(_exactly_one)]
    provider: Provider
    models: list[Model] = Field(default_factory=list)


def semantic_problems(
    file: ProviderFile, stem: str, capabilities: dict[str, str] | None
) -> list[tuple[Loc, str]]:
    """Rules across fields and models, each problem at the location it is about.

    `capabilities` None: the vocabulary file is unusable (and reported); capabilities are
    then not checked against it, rather than each reported as unknown."""
    return rule_problems(file.provider.id, list(enumerate(file.models)), stem, capabilities)


def rule_problems(
    provider_id: str | None,
    models: list[tuple[int, Model]],
    stem: str,
    capabilities: dict[str, str] | None,
    names: Sequence[tuple[int, Model | ModelNames]] | None = None,
) -> list[tuple[Loc, str]]:
    """`semantic_problems` of the parts of a file that are well typed: its provider's id
    (None if it is not) and its models, each with its index in the file; the rules across
    models also hold for `names`, those of every model whose names are well typed (by
    default, of `models`)."""
    names = models if names is None else names
    problems: list[tuple[Loc, str]] = []
    if provider_id is not None and provider_id != stem:
        message = f"provider id {_named(provider_id)} must equal the file name ({_named(stem)})"
        problems.append((("provider", "id"), message))
    problems += _duplicate_ids(names)
    for index, model in models:
        problems += _model_problems(("models", index), model, capabilities)
    problems += _alias_problems(names)
    return problems


def _duplicate_ids(models: Sequence[tuple[int, Model | ModelNames]]) -> list[tuple[Loc, str]]:
    """An id repeated, case aside: the providers' APIs may take either spelling."""
    problems: list[tuple[Loc, str]] = []
    first_seen: dict[str, tuple[int, str]] = {}  # folded id -> index, id as first written
    for index, model in models:
        first, other = first_seen.setdefault(model.id.lower(), (index, model.id))
        if first != index:
            same = "" if other == model.id else f" (differs only in case from {_named(other)})"
            problems.append(
                (("models", index, "id"), f"duplicate model id {_named(model.id)}{same}")
            )
    return problems


def _model_problems(
    at: Loc, model: Model, capabilities: dict[str, str] | None
) -> list[tuple[Loc, str]]:
    """The rules across one model's fields."""
    from radiant_registry.suggest import did_you_mean

    problems: list[tuple[Loc, str]] = []
    embedding = model.model_type == "embedding"
    window = model.context_window
    if model.max_output_tokens > window:
        message = f"max_output_tokens {model.max_output_tokens} exceeds context_window {window}"
        problems.append(((*at, "max_output_tokens"), message))
    if model.max_output_tokens == 0 and not embedding:
        message = "max_output_tokens may be 0 only for embedding models"
        problems.append(((*at, "max_output_tokens"), message))
    if model.pricing.output_per_1m is None and not embedding:
        message = "pricing.output_per_1m is required for non-embedding models"
        problems.append(((*at, "pricing", "output_per_1m"), message))  # or `pricing`, if absent
    previous = 0
    for tier_index, tier in enumerate(model.pricing.tiers):
        tier_at: Loc = (*at, "pricing", "tiers", tier_index, "above_tokens")
        if tier.above_tokens >= window:
            message = f"above_tokens {tier.above_tokens} must be below context_window {window}"
            problems.append((tier_at, message))
        if tier.above_tokens <= previous:
            message = "price tiers must be in increasing order of above_tokens"
            problems.append((tier_at, message))
        previous = tier.above_tokens
    released, deprecated = model.release_date, model.deprecation_date
    if released and deprecated and deprecated <= released:
        message = f"deprecation_date {deprecated} must be after release_date {released}"
        problems.append(((*at, "deprecation_date"), message))
    for cap_index, capability in enumerate(model.capabilities):
        if capabilities is not None and capability not in capabilities:
            message = (
                f"unknown capability {_named(capability)}{did_you_mean(capability, capabilities)}"
                " (the vocabulary is capabilities.yaml)"
            )
            problems.append(((*at, "capabilities", cap_index), message))
    return problems


def _alias_problems(models: Sequence[tuple[int, Model | ModelNames]]) -> list[tuple[Loc, str]]:
    """An alias names one model of the provider: not its own id, not another model, not
    two models."""
    problems: list[tuple[Loc, str]] = []
    ids = {model.id.lower(): model.id for _, model in models}
    alias_of: dict[str, str] = {}
    for index, model in models:
        own: dict[str, str] = {}  # this model's aliases so far, folded
        for alias_index, alias in enumerate(model.aliases):
            if alias is None:  # fails the schema, which says so
                continue
            folded_alias = alias.lower()
            other = ids.get(folded_alias, model.id)
            owner = alias_of.setdefault(folded_alias, model.id)
            first = own.setdefault(folded_alias, alias)
            if folded_alias == model.id.lower():
                message = f"alias {_named(alias)} repeats the model id"
            elif other.lower() != model.id.lower():
                message = f"alias {_named(alias)} is the id of another model ({_named(other)})"
            elif owner != model.id:
                message = f"alias {_named(alias)} is also an alias of {_named(owner)}"
            elif first != alias:  # the very same twice: `_unique` says "listed twice"
                message = f"alias {_named(alias)} repeats {_named(first)}, ignoring case"
            else:
                continue
            problems.append((("models", index, "aliases", alias_index), message))
    return problems
