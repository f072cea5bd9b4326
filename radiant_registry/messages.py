"""Problems in the words of a problem report: pydantic's errors, and YAML values described.

Shared by the loader (a file's problems) and the admin commands (a price on the command
line), so that both say the same thing of the same mistake.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from radiant_registry.errors import quoted
from radiant_registry.schema import Modalities, Model, PriceTier, Pricing, Provider, ProviderFile
from radiant_registry.suggest import did_you_mean
from radiant_registry.yamlscalars import (
    MAX_NUMBER_CHARS,
    Ambiguous,
    Unreadable,
    resolve_plain,
    yaml12_number,
)

# The keys each mapping allows, by the key that holds it, for "did you mean" hints.
_FIELDS_BY_PARENT: dict[str | None, type[BaseModel]] = {
    None: ProviderFile,
    "provider": Provider,
    "models": Model,
    "pricing": Pricing,
    "tiers": PriceTier,
    "modalities": Modalities,
}


# The mappings nested in each, for a key written one level too high.
_CHILDREN: dict[str | None, dict[str, type[BaseModel]]] = {
    None: {"provider": Provider},
    "models": {"pricing": Pricing, "modalities": Modalities},
    "pricing": {"tiers": PriceTier},
}


def _belongs_under(key: str, parent: str | None) -> str:
    """`; it belongs under 'pricing'` for `input_per_1m` written in a model, or nothing.

    Case aside, as "did you mean": `ID` at the top says `'id'`, under `'provider'`."""
    for child, fields in _CHILDREN.get(parent, {}).items():
        if key in fields.model_fields:
            return f"; it belongs under {child!r}"
        folded = {name.casefold(): name for name in fields.model_fields}
        if key.casefold() in folded:
            return f"; did you mean {folded[key.casefold()]!r}, under {child!r}?"
    return ""


# A key that names a credential (its case and separators aside, camelCase split): a file
# reviewed like code must hold none. Its last word says it, value-like words after it aside
# (`api_key_2`, `private_key_pem`): `api_key_header` names a header and `secret_ref` a
# reference, and get the ordinary message. Words that are fields' too (`max_output_tokens`)
# count only after a word that makes them a credential (`access_token`).
_SECRET_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "pwd",
        "credential",
        "credentials",
        "apikey",
        "apikeys",
        "bearer",
        "authorization",
        "jwt",
    }
)
_SECRET_PAIR = re.compile(
    r"(?:api|access|private|secret|auth|bearer|refresh|session|client|account|subscription"
    r"|service|oauth|id|hf|user|header)(?:key|token)s?"
)
_VALUE_WORDS = frozenset({"value", "values", "b64", "base64", "pem", "json", "raw", "text"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _holds_secret(key: str) -> bool:
    """`api_key`, `api_keys`, `clientSecret`, `private_key_pem`, `bearer_token`: said for
    what they are, not as a typo of `api_base`."""
    words = [w for w in re.split(r"[\W_]+", _CAMEL.sub("_", key).casefold()) if w]
    while words and (words[-1] in _VALUE_WORDS or words[-1].isdigit()):
        words.pop()
    if not words:
        return False
    if words[-1] in _SECRET_WORDS or words in (["token"], ["key"]):
        return True
    return bool(_SECRET_PAIR.fullmatch("".join(words[-2:])))


def credential_key(key: str, what: str = "unknown key") -> str | None:
    """What a key that names a credential is told (its value is never shown), or None."""
    if not _holds_secret(key):
        return None
    return (
        f"{what} {quoted(key)}: registry files hold no credentials (they are "
        "reviewed and committed like code); `auth_type` says how the platform sends its own"
    )


def problem_message(err: ErrorDetails) -> str:
    """A pydantic error in the words of a problem report: the files' and the CLI's."""
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if kind == "missing":
        return f"missing required key {quoted(str(loc[-1]))}"
    if kind == "extra_forbidden":
        parent = next((part for part in reversed(loc[:-1]) if isinstance(part, str)), None)
        allowed = _FIELDS_BY_PARENT.get(parent, ProviderFile).model_fields
        key = str(loc[-1])
        if (credential := credential_key(key)) is not None:
            return credential
        hint = did_you_mean(key, allowed) or _belongs_under(key, parent)
        return f"unknown key {quoted(key)}{hint}"
    if kind in ("int_type", "is_instance_of"):  # an integer, a number (a Decimal)
        return expected_number(value, integer=kind == "int_type", field=_field_at(loc))
    expected = _EXPECTED.get(kind)
    if expected:
        # Quotes turn a value that YAML typed into text; a missing value (null) they do not.
        typed = value is not None and _is_scalar(value)
        hint = "; quote it" if kind == "string_type" and typed else ""
        if kind == "date_type" and _is_iso_date(value):
            hint = "; write it without quotes"
        return f"expected {expected}, got {describe(value)}{hint}"
    if kind == "literal_error":
        choices = err["ctx"]["expected"].replace("'", "")
        if choices.isdigit():  # schema_version: 1
            return expected_number(value, integer=True, expected=choices, field=_field_at(loc))
        return f"expected one of {choices}, got {describe(value)}"
    if kind == "too_short":  # a list (pydantic's words say "after validation")
        least = err["ctx"]["min_length"]
        items = "item" if least == 1 else "items"
        return f"must have at least {least} {items}, got {err['ctx']['actual_length']}"
    if kind == "string_too_short" and err["ctx"]["min_length"] == 1:
        return "must not be empty"  # as a blank one "must not be blank"
    if kind in _BOUNDS:
        bound = err["msg"].replace("Input should", "must").replace("String should", "must")
        return f"{bound}, got {describe(value)}"
    return err["msg"].removeprefix("Value error, ")


def expected_number(
    value: Any,
    *,
    integer: bool = False,
    expected: str | None = None,
    field: TypeAdapter[Any] | None = None,
) -> str:
    """That `value` is no number (or not `expected`), and how to write the number meant:
    its plain spelling where YAML reads one (`1_000`, `1e3`), or without quotes ("2").
    Where `field` would refuse that number too, that is said instead (`1e6` for a price:
    above the limit), so that following the hint never meets another refusal."""
    plain = plain_number(value, integer=integer)
    if integer and isinstance(value, Decimal):  # 128000.0: a whole number written as a float
        plain = _plain_decimal(value, integer=True)
    meant: int | Decimal | None = None
    if plain is not None:
        meant, hint = (int(plain) if integer else Decimal(plain)), f"; write {plain}"
    unquoted = resolve_plain(value) if isinstance(value, str) else None
    if type(unquoted) is int or (
        not integer and isinstance(unquoted, Decimal) and unquoted.is_finite()
    ):
        meant, hint = unquoted, "; write it without quotes"
    if meant is None:
        hint = ""
    elif field is not None:
        try:
            field.validate_python(meant)
        except ValidationError as exc:
            refused = exc.errors()[0]
            if refused["type"] != "literal_error":  # a range: say it ("expected 1" says all)
                return problem_message(refused)
            hint = ""
    what = expected or ("an integer" if integer else "a number")
    return f"expected {what}, got {describe(value)}{hint}"


@functools.cache
def _field(parent: str | None, name: str) -> TypeAdapter[Any] | None:
    model = _FIELDS_BY_PARENT.get(parent)
    info = None if model is None else model.model_fields.get(name)
    if info is None:
        return None
    annotated: Any = Annotated[info.annotation, info]  # its constraints and validators too
    return TypeAdapter(annotated, config=ConfigDict(strict=True))


def _field_at(loc: tuple[int | str, ...]) -> TypeAdapter[Any] | None:
    """The schema's type of the value at `loc` (`models, 0, pricing, input_per_1m`)."""
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return None
    return _field(names[-2] if len(names) > 1 else None, names[-1])


# pydantic's error types that the schema can raise (tests/corpus/bad reaches each one).
_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "model_type": "a mapping",
    "list_type": "a list",
    "finite_number": "a finite number",
}
_BOUNDS = {
    "greater_than",
    "greater_than_equal",
    "less_than_equal",
    "string_too_short",
    "string_too_long",
}


def plain_number(value: Any, integer: bool = False) -> str | None:
    """How to write, plainly, the number that YAML 1.1 reads in `1_000`, `+1000`, `0x3e8`
    or `.5` (YAML 1.2 reads some of them as text: the tool takes neither reading), or that
    YAML 1.2 reads in `1e3` or `0o17` (YAML 1.1 reads text)."""
    if not isinstance(value, Ambiguous) or len(value.text) > MAX_NUMBER_CHARS:
        return None  # as no number of more characters is read (+ and 5000 digits)
    if value.reading == "a string":
        number = yaml12_number(value.text)
        return None if number is None else _plain_decimal(number, integer)
    if value.reading not in ("an integer", "a float"):
        return None
    octal = value.reading == "an integer" and re.match(r"[-+]?0[0-9_]", value.text)
    if ":" in value.text or octal:  # (00.5 is a float, 0.5)
        return None  # base 60 (1:20 is 80) or octal (0755 is 493): surely not what was meant
    if value.reading == "a float":
        if integer:
            return None  # a float where an integer is expected: no spelling of it will do
        # Its exact digits: `00.00001` is 0.00001 (a binary float would say 1e-05).
        return _plain_decimal(value.text.replace("_", ""), integer)
    import yaml  # only for a file with such a problem: 0x10, 0b101, +7, 1_000

    number = yaml.safe_load(value.text)
    return str(number) if type(number) is int else None


def _plain_decimal(written: str | int | Decimal, integer: bool) -> str | None:
    """The plain spelling of a decimal number (`1.5e3`, `+00.50`): 1500, 0.5."""
    try:
        number = Decimal(written)
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    if not number:
        return "0"  # 0e999999, 0e-11: not as many zeros
    if abs(number.adjusted()) >= MAX_NUMBER_CHARS:  # 1e400: none will write its digits
        return None
    if integer and number != number.to_integral_value():
        return None  # 1.5e0 where an integer is expected
    plain = str(int(number)) if integer else format(number, "f")
    if "." in plain:  # exactly its value (normalize() would round to 28 digits)
        plain = plain.rstrip("0").rstrip(".")
    return plain if len(plain) <= MAX_NUMBER_CHARS else None  # 1e-39: 41 characters


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _is_iso_date(value: Any) -> bool:
    """A string that would read as a date unquoted (not "2024-02-30")."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def describe(value: Any) -> str:
    """Say what a typed YAML value is, in the words of an error message."""
    if isinstance(value, Ambiguous) and value.reading == "a string":  # 1e3
        return f"{quoted(value.text)}, a number in YAML 1.2 but a string to YAML 1.1 parsers"
    if isinstance(value, Ambiguous):
        return f"{quoted(value.text)}, which YAML 1.1 parsers read as {value.reading}"
    if isinstance(value, Unreadable):
        return f"{quoted(value.text)}, {value.reason}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | Decimal):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
