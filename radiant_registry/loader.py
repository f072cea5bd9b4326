"""Read a registry folder into the desired state, or into the list of every problem in it."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from radiant_registry import yamlstrict
from radiant_registry.errors import InvalidRegistry, Problem
from radiant_registry.schema import (
    Modalities,
    Model,
    PriceTier,
    Pricing,
    Provider,
    ProviderFile,
    semantic_problems,
)
from radiant_registry.suggest import did_you_mean

CAPABILITIES_FILE = "capabilities.yaml"
PROVIDERS_DIR = "providers"


@dataclass(frozen=True)
class LoadedFile:
    """One provider file that passed every check."""

    path: Path
    sha256: str
    content: ProviderFile


@dataclass
class Registry:
    """The desired state: every provider file of a folder, valid."""

    data_dir: Path
    capabilities: dict[str, str]
    files: dict[str, LoadedFile] = field(default_factory=dict)  # by provider id

    @property
    def providers(self) -> list[ProviderFile]:
        return [loaded.content for loaded in self.files.values()]

    @property
    def model_count(self) -> int:
        return sum(len(loaded.content.models) for loaded in self.files.values())

    @property
    def digest(self) -> str:
        """One hash over every file read, recorded with each sync run."""
        h = hashlib.sha256()
        for provider_id in sorted(self.files):
            h.update(f"{provider_id}:{self.files[provider_id].sha256}\n".encode())
        return h.hexdigest()


def load_registry(
    data_dir: Path,
    providers: Iterable[str] | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> Registry:
    """Load and check every file under `data_dir`; raise `InvalidRegistry` with all problems.

    `providers` limits the provider files read (the vocabulary is always read);
    `on_file` is called after each file, for progress displays.
    """
    problems: list[Problem] = []
    capabilities = _load_capabilities(data_dir / CAPABILITIES_FILE, problems)
    registry = Registry(data_dir=data_dir, capabilities=capabilities)
    wanted = set(providers) if providers is not None else None
    for path in _provider_paths(data_dir / PROVIDERS_DIR, problems):
        if wanted is not None and path.stem not in wanted:
            continue
        loaded, file_problems = load_provider_file(path, capabilities)
        problems.extend(file_problems)
        if loaded is not None:
            registry.files[loaded.content.provider.id] = loaded
        if on_file is not None:
            on_file(path)
    if wanted is not None:
        for missing in sorted(wanted - {p.stem for p in (data_dir / PROVIDERS_DIR).glob("*.yaml")}):
            problems.append(
                Problem(str(data_dir / PROVIDERS_DIR), 1, 1, f"no provider file for {missing!r}")
            )
    if problems:
        raise InvalidRegistry(sorted(problems))
    return registry


def _provider_paths(folder: Path, problems: list[Problem]) -> list[Path]:
    paths = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix != ".yaml":
            problems.append(
                Problem(str(path), 1, 1, "not a provider file: expected <provider id>.yaml")
            )
            continue
        paths.append(path)  # `_read` reports one that is a folder or a broken link
    return paths


def load_provider_file(
    path: Path, capabilities: dict[str, str]
) -> tuple[LoadedFile | None, list[Problem]]:
    """Check one provider file; return it, or the problems found in it."""
    data, problems = _read(path)
    if problems:
        return None, problems
    try:
        content = ProviderFile.model_validate(data[0])
    except ValidationError as exc:
        located = _Locator(path, data)
        return None, [located.problem(tuple(err["loc"]), _message(err)) for err in exc.errors()]
    semantic = semantic_problems(content, path.stem, capabilities)
    if semantic:
        located = _Locator(path, data)
        return None, [located.problem(loc, message) for loc, message in semantic]
    return LoadedFile(path, hashlib.sha256(data[1]).hexdigest(), content), []


def _read(path: Path, positions: yamlstrict.Positions | None = None) -> tuple[Any, list[Problem]]:
    where = str(path)
    try:
        info = path.stat()  # follows links: a broken one is "No such file or directory"
        if not stat.S_ISREG(info.st_mode):  # a folder, or a FIFO that would block the read
            return None, [Problem(where, 1, 1, "cannot read file: not a regular file")]
        if info.st_size > yamlstrict.MAX_FILE_BYTES:  # too big to read at all
            limit = yamlstrict.MAX_FILE_BYTES
            message = f"file is {info.st_size} bytes, over the {limit} byte limit"
            return None, [Problem(where, 1, 1, message)]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(where, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    try:
        return (yamlstrict.read(raw, positions), raw), []
    except yamlstrict.YamlProblem as exc:
        return None, [Problem(where, exc.line, exc.column, exc.message)]
    except yamlstrict.YamlProblems as exc:
        return None, [Problem(where, p.line, p.column, p.message) for p in exc.problems]


class _Locator:
    """Turns a location in the data into a line and column, reading the file again.

    Positions cost time and memory, so only a file with a problem pays for them.
    """

    def __init__(self, path: Path, data: tuple[Any, bytes]) -> None:
        self.path = path
        self.positions: yamlstrict.Positions = {}
        yamlstrict.read(data[1], self.positions)

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        # pydantic adds type names to some locations; keep the longest prefix the file has
        # (at least the empty one: the document itself).
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.positions:
                line, column = self.positions[loc[:end]]
                break
        else:
            line, column = 1, 1
        return Problem(str(self.path), line, column, message)


# The keys each mapping allows, by the key that holds it, for "did you mean" hints.
_FIELDS_BY_PARENT: dict[str | None, type[BaseModel]] = {
    None: ProviderFile,
    "provider": Provider,
    "models": Model,
    "pricing": Pricing,
    "tiers": PriceTier,
    "modalities": Modalities,
}


def _message(err: Any) -> str:
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "extra_forbidden":
        parent = next((part for part in reversed(loc[:-1]) if isinstance(part, str)), None)
        allowed = _FIELDS_BY_PARENT.get(parent, ProviderFile).model_fields
        return f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), allowed)}"
    expected = _EXPECTED.get(kind)
    if expected:
        # Quotes turn a value that YAML typed into text; a missing value (null) they do not.
        typed = value is not None and _is_scalar(value)
        hint = "; quote it" if kind == "string_type" and typed else ""
        return f"expected {expected}, got {describe(value)}{hint}"
    if kind == "literal_error":
        choices = err["ctx"]["expected"].replace("'", "")
        return f"expected one of {choices}, got {describe(value)}"
    if err["type"] in _BOUNDS:
        return f"{err['msg'].replace('Input should', 'must')}, got {describe(value)}"
    return err["msg"].removeprefix("Value error, ")


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "decimal_type": "a number",
    "date_type": "a date (YYYY-MM-DD)",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
    "is_instance_of": "a number",
    "finite_number": "a finite number",
}
_BOUNDS = {"greater_than", "greater_than_equal", "less_than_equal", "too_short", "too_long",
           "string_too_short", "string_too_long", "string_pattern_mismatch"}


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _clip(text: str, limit: int = 40) -> str:
    """`text` quoted, cut short: a message must not repeat a 5000-digit value."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


def describe(value: Any) -> str:
    """Say what a typed YAML value is, in the words of an error message."""
    if isinstance(value, yamlstrict.Ambiguous):
        return f"{_clip(value.text)}, which YAML 1.1 parsers read as {value.reading}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | Decimal):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return f"the string {_clip(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _load_capabilities(path: Path, problems: list[Problem]) -> dict[str, str]:
    """The controlled vocabulary: `capabilities: {name: one-line description}`."""
    data, read_problems = _read(path)
    if read_problems:
        problems.extend(read_problems)
        return {}
    document, _ = data
    terms = document.get("capabilities") if isinstance(document, dict) else None
    if not isinstance(terms, dict) or set(document) != {"capabilities"}:
        message = "expected one key, 'capabilities', mapping each name to a description"
        problems.append(Problem(str(path), 1, 1, message))
        return {}
    bad = [
        name
        for name, text in terms.items()
        if not (isinstance(text, str) and text and name.isidentifier() and name == name.lower())
    ]
    if bad:
        locator = _Locator(path, data)
        for name in bad:
            message = f"capability {name!r} needs a lowercase snake_case name and a description"
            problems.append(locator.problem(("capabilities", name), message))
    return {name: text for name, text in terms.items() if name not in bad}
