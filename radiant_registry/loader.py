"""Read a registry folder into the desired state, or into the list of every problem in it."""

from __future__ import annotations

import copy
import ctypes
import functools
import gc
import hashlib
import itertools
import multiprocessing
import os
import re
import signal
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from radiant_registry import interrupts, yamlstrict
from radiant_registry.errors import InvalidRegistry, Problem, UsageError, WorkerDied, quoted
from radiant_registry.messages import credential_key, describe, problem_message
from radiant_registry.printable import CONTROL_CHARACTERS, blank
from radiant_registry.rows import Row, desired_model, desired_provider
from radiant_registry.schema import (
    PROVIDER_ID,
    Model,
    ModelNames,
    ProviderFile,
    rule_problems,
    semantic_problems,
)
from radiant_registry.suggest import did_you_mean
from radiant_registry.yamlscalars import Ambiguous, resolve_plain

CAPABILITIES_FILE = "capabilities.yaml"
PROVIDERS_DIR = "providers"
# Below this many bytes to check, worker processes cost more than they save.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024

# Capability names and descriptions; None when capabilities.yaml cannot be read as a
# vocabulary: that is reported once, not again at every capability a model lists.
Vocabulary = dict[str, str] | None


@functools.cache
def rules_digest() -> str:
    """Part of every file's content key: the code that reads and checks a file and makes
    its rows. Any change to it (an upgrade of the tool) reads every file again once, rather
    than a sync skipping a file that older rules checked. The whole package is hashed, so
    that no module can be forgotten; pydantic and PyYAML decide types too, and Python
    (its Unicode database says which characters are blank)."""
    import platform

    import pydantic
    import yaml

    versions = f"{platform.python_version()}:{pydantic.VERSION}:{yaml.__version__}"
    return sources_digest(Path(__file__).parent, versions)


def sources_digest(package: Path, versions: str) -> str:
    digest = hashlib.sha256(versions.encode())
    sources = sorted(path for path in package.iterdir() if path.suffix in (".py", ".pyc"))
    assert sources, f"no source of the package in {package}"  # a digest that never changes
    for source in sources:
        digest.update(f"\0{source.name}\0".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadedFile:
    """One provider file that passed every check, as the rows it asks the database for."""

    path: Path
    key: str  # the content key: rules digest, vocabulary and file bytes, hashed
    provider_id: str
    provider: Row
    models: dict[str, Row]  # by model id


@dataclass
class Registry:
    """The desired state: every provider file of a folder, valid.

    A file whose content key a caller already trusts (a sync's record of the file it last
    applied) is not parsed at all; it is listed in `skipped` with its key.
    """

    capabilities: dict[str, str]
    files: dict[str, LoadedFile] = field(default_factory=dict)  # by provider id
    skipped: dict[str, str] = field(default_factory=dict)  # provider id -> content key
    # The provider ids it was limited to (--provider), or None for all: a sync plans,
    # retires and records within this scope only.
    scope: tuple[str, ...] | None = None

    @property
    def model_count(self) -> int:
        return sum(len(loaded.models) for loaded in self.files.values())

    @property
    def content_keys(self) -> dict[str, str]:
        """The content key of every provider file read, parsed or skipped."""
        return {**self.skipped, **{pid: f.key for pid, f in self.files.items()}}

    @property
    def digest(self) -> str:
        """One hash over every file read, recorded with each sync run."""
        h = hashlib.sha256()
        for provider_id, key in sorted(self.content_keys.items()):
            h.update(f"{provider_id}:{key}\n".encode())
        return h.hexdigest()

    def desired(self) -> tuple[dict[str, Row], dict[tuple[str, str], Row]]:
        """Desired provider rows by id and model rows by (provider id, model id)."""
        providers = {pid: loaded.provider for pid, loaded in self.files.items()}
        models = {
            (pid, model_id): row
            for pid, loaded in self.files.items()
            for model_id, row in loaded.models.items()
        }
        return providers, models


Skip = Callable[[str, str], bool]  # (provider id, content key) -> already known good


def load_registry(
    data_dir: Path,
    providers: Iterable[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    skip: Skip | None = None,
) -> Registry:
    """Load and check every file under `data_dir`; raise `InvalidRegistry` with all problems.

    `providers` limits the provider files read (the vocabulary is always read);
    `progress(done, total)` is called after each file, for progress displays; `skip` says
    which files need no checking because their content key is known to be good. Large
    registries are checked in parallel, one worker process per core (up to 8).
    """
    problems: list[Problem] = []
    capabilities = _load_capabilities(data_dir / CAPABILITIES_FILE, problems)
    vocabulary = hashlib.sha256(repr(sorted((capabilities or {}).items())).encode()).hexdigest()
    wanted = set(providers) if providers is not None else None
    registry = Registry(
        capabilities=capabilities or {},
        scope=tuple(sorted(wanted)) if wanted is not None else None,
    )
    entries = _provider_entries(data_dir / PROVIDERS_DIR, problems)
    paths = [path for path in entries or () if path.suffix == ".yaml"]
    # Anything else there is a problem, so that a misnamed file cannot go unnoticed; with
    # --provider, only one named as a provider asked for (`xai.yml`): the rest is not read.
    strays = [
        path
        for path in entries or ()
        if path.suffix != ".yaml" and (wanted is None or path.stem in wanted)
    ]
    problems.extend(Problem(str(path), 1, 1, _NOT_A_PROVIDER_FILE) for path in strays)
    if wanted is not None:
        present = {path.stem for path in [*paths, *strays]}
        missing = sorted(wanted - present)
        if missing and entries is not None:  # a mistyped --provider, not a file's fault
            names = ", ".join(repr(name) for name in missing)
            hint = did_you_mean(missing[0], present) if len(missing) == 1 else ""
            raise UsageError(f"no provider file for {names} in {data_dir / PROVIDERS_DIR}{hint}")
        paths = [path for path in paths if path.stem in wanted]
    done = 0

    def one_more() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(paths))

    to_check: list[tuple[Path, bytes, str]] = []
    for path in paths:
        raw, read_problems = _read_bytes(path)
        if raw is None:
            problems.extend(read_problems)
            one_more()
            continue
        key = hashlib.sha256(f"{rules_digest()}:{vocabulary}:".encode() + raw).hexdigest()
        if skip is not None and skip(path.stem, key):
            registry.skipped[path.stem] = key
            one_more()
        else:
            to_check.append((path, raw, key))
    for loaded, file_problems in _check_all(to_check, capabilities, one_more):
        problems.extend(file_problems)
        if loaded is not None:
            registry.files[loaded.provider_id] = loaded
    if problems:
        raise InvalidRegistry(sorted(problems))
    return registry


Checked = tuple[LoadedFile | None, list[Problem]]


def _check_all(
    files: list[tuple[Path, bytes, str]],
    capabilities: Vocabulary,
    on_file: Callable[[], None],
) -> Iterator[Checked]:
    """Check files in order, in worker processes when there is enough to share out."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or sum(len(raw) for _, raw, _ in files) < PARALLEL_MIN_BYTES:
        for path, raw, key in files:
            yield check_file(path, raw, key, capabilities)
            on_file()
        return
    # fork: the workers start with every module already imported, in milliseconds.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    )
    try:
        with interrupts.held():  # the workers are forked here, at the first task queued
            checked = pool.map(
                check_file,
                [p for p, _, _ in files],
                [r for _, r, _ in files],
                [k for _, _, k in files],
                itertools.repeat(capabilities),
                chunksize=max(1, len(files) // (workers * 8)),
            )
        for result in checked:
            yield result
            on_file()
    except BaseException as exc:
        if isinstance(exc, BrokenProcessPool):
            # A worker died (the OOM killer, say). The pool stops the others with SIGTERM,
            # which they ignore: killed here, or the run would wait for them for ever.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
            manager = getattr(pool, "_executor_manager_thread", None)
            pool.shutdown(wait=False, cancel_futures=True)
            if manager is not None:
                # It closes its wake-up pipe as it ends; at exit, Python (before 3.12) may
                # write to that pipe as it closes, and print a traceback: let it end first.
                manager.join(timeout=10)
            raise WorkerDied(
                "a worker process reading the files ended abruptly (killed, or out of "
                "memory?); nothing was written"
            ) from None
        # Ctrl-C, or an error: do not wait for the work queued (a `with` block would). The
        # workers finish the file at hand and stop, or end with this process (Linux).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _start_worker(parent: int) -> None:
    """Set up a worker process: no collector, no Ctrl-C or SIGTERM, and no life after its
    parent's.

    The collector is off, whatever the caller's: what a worker builds (parsed files, schema
    objects, rows) holds no cycles, and it ends with the load. Ctrl-C reaches the whole
    process group: it is the parent's to handle (a worker interrupted mid-write to its
    result pipe could leave the parent waiting on it). A worker waits for work on a pipe
    whose write end it holds too, so it would wait forever once `registry` is killed (a
    cron `timeout`, kill -9): on Linux, the kernel ends it with its parent.
    """
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # systemd stops the whole group too
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as a closing terminal does
    with suppress(OSError, AttributeError):  # no prctl: not Linux
        asked = ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0
        if asked and os.getppid() != parent:
            os._exit(1)  # the parent died before the request took effect


_NOT_A_PROVIDER_FILE = "not a provider file: expected <provider id>.yaml"


def _provider_entries(folder: Path, problems: list[Problem]) -> list[Path] | None:
    """The folder's entries but hidden ones (`.gitkeep`, `.git/`); None if it cannot be
    read (said in `problems`). `_read_bytes` reports a `.yaml` that is a folder or a
    broken link."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        problems.append(Problem(str(folder), 1, 1, f"cannot read folder: {exc.strerror or exc}"))
        return None
    return [path for path in entries if not path.name.startswith(".")]


def check_file(path: Path, raw: bytes, key: str, capabilities: Vocabulary) -> Checked:
    """Check one provider file's bytes; return its rows, or the problems found in it."""
    content, problems = _validate(path, raw, capabilities)
    if content is None:
        return None, problems
    models = {model.id: desired_model(model) for model in content.models}
    return LoadedFile(path, key, content.provider.id, desired_provider(content), models), []


def _validate(
    path: Path, raw: bytes, capabilities: Vocabulary
) -> tuple[ProviderFile | None, list[Problem]]:
    data, problems = _parse(path, raw)
    if problems:
        return None, problems
    try:
        content = ProviderFile.model_validate(data)
    except ValidationError as exc:
        # The rules across fields still apply to every part that is well typed: one run
        # reports every problem, not the type errors first and the rest after their fix.
        found = [(_error_loc(err), problem_message(err)) for err in exc.errors()]
        provider_id, models, names = _well_typed_parts(data)
        found += rule_problems(provider_id, models, path.stem, capabilities, names)
        located = _Locator(path, raw)
        return None, sorted(located.problem(loc, message) for loc, message in found)
    semantic = semantic_problems(content, path.stem, capabilities)
    if semantic:
        located = _Locator(path, raw)
        return None, [located.problem(loc, message) for loc, message in semantic]
    return content, []


def _error_loc(err: ErrorDetails) -> yamlstrict.Loc:
    """Where a schema error is: a value listed twice at its repeat, not at its list."""
    loc = tuple(err["loc"])
    if err["type"] == "unique":
        return (*loc, err["ctx"]["index"])
    return loc


def _well_typed_parts(
    data: Any,
) -> tuple[str | None, list[tuple[int, Model]], list[tuple[int, Model | ModelNames]]]:
    """The provider id and the models of a file that fails the schema, each that passes it
    on its own (the id whatever the provider's other fields; models with their index in
    the file), and the names (id, aliases) of every model whose names pass it, whatever its
    other fields."""
    if not isinstance(data, dict):
        return None, [], []
    block = data.get("provider")
    given = block.get("id") if isinstance(block, dict) else None
    provider_id = given if isinstance(given, str) and PROVIDER_ID.match(given) else None
    models = data.get("models")
    passing: list[tuple[int, Model]] = []
    names: list[tuple[int, Model | ModelNames]] = []
    for index, model in enumerate(models if isinstance(models, list) else []):
        checked = _well_typed(Model, model)
        if checked is not None:
            passing.append((index, checked))
            names.append(passing[-1])
        else:
            named = ModelNames.read(model)
            if named is not None:
                names.append((index, named))
    return provider_id, passing, names


_Schema = TypeVar("_Schema", bound=BaseModel)


def _well_typed(schema: type[_Schema], data: Any) -> _Schema | None:
    """`data` as `schema`, where its values are well typed: unknown keys aside (each is a
    problem of its own), so that a stray `cached_input` hides no rule across its fields."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if any(err["type"] != "extra_forbidden" for err in errors):
            return None
    known = copy.deepcopy(data)
    for err in errors:
        *path, key = err["loc"]
        holder = known
        for part in path:
            holder = holder[part]
        del holder[key]
    return schema.model_validate(known)


def _read_bytes(path: Path) -> tuple[bytes | None, list[Problem]]:
    where = str(path)
    try:
        info = path.stat()  # follows links: a broken one is "No such file or directory"
        if not stat.S_ISREG(info.st_mode):  # a folder, or a FIFO that would block the read
            return None, [Problem(where, 1, 1, "cannot read file: not a regular file")]
        if info.st_size > yamlstrict.MAX_FILE_BYTES:  # too big to read at all
            limit = yamlstrict.MAX_FILE_BYTES
            message = f"file is {info.st_size} bytes, over the {limit} byte limit"
            return None, [Problem(where, 1, 1, message)]
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Problem(where, 1, 1, f"cannot read file: {exc.strerror or exc}")]


def _parse(path: Path, raw: bytes) -> tuple[Any, list[Problem]]:
    where = str(path)
    try:
        return yamlstrict.read(raw), []
    except yamlstrict.YamlProblem as exc:
        return None, [Problem(where, exc.line, exc.column, exc.message)]
    except yamlstrict.YamlProblems as exc:
        return None, [Problem(where, p.line, p.column, p.message) for p in exc.problems]


class _Locator:
    """Turns a location in the data into a line and column, reading the file again.

    Positions cost time and memory, so only a file with a problem pays for them.
    """

    def __init__(self, path: Path, raw: bytes) -> None:
        self.path = path
        self.positions: yamlstrict.Positions = {}
        # The file was read once already. Should the strict reader refuse what the fast one
        # read (the two are tested to agree), the problems keep the positions found so far.
        with suppress(yamlstrict.YamlProblem, yamlstrict.YamlProblems):
            yamlstrict.read(raw, self.positions)

    def problem(self, loc: yamlstrict.Loc, message: str) -> Problem:
        # pydantic adds type names to some locations; keep the longest prefix the file has
        # (at least the empty one: the document itself).
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.positions:
                line, column = self.positions[loc[:end]]
                break
        else:
            line, column = 1, 1
        return Problem(str(self.path), line, column, message)


def _load_capabilities(path: Path, problems: list[Problem]) -> Vocabulary:
    """The controlled vocabulary: `capabilities: {name: one-line description}`; None if the
    file cannot be read as one (its problems say why)."""
    raw, read_problems = _read_bytes(path)
    if raw is None:
        problems.extend(read_problems)
        return None
    document, read_problems = _parse(path, raw)
    if read_problems:
        problems.extend(read_problems)
        return None
    terms = document.get("capabilities") if isinstance(document, dict) else None
    if not isinstance(terms, dict):
        message = "expected one key, 'capabilities', mapping each name to a description"
        problems.append(Problem(str(path), 1, 1, message))
        return None
    found: list[tuple[yamlstrict.Loc, str]] = [
        (("capabilities", name), message)
        for name, text in terms.items()
        for message in _capability_problems(str(name), text)
    ]
    found += [
        (
            (key,),
            credential_key(str(key))
            or f"unknown key {quoted(str(key))}; the file holds one key, 'capabilities'",
        )
        for key in document
        if key != "capabilities"
    ]
    if found:
        locator = _Locator(path, raw)
        problems.extend(locator.problem(loc, message) for loc, message in found)
    # A name with a bad description is still a name: the models that list it are not wrong.
    return {name: text for name, text in terms.items() if _SNAKE_CASE.fullmatch(str(name))}


_SNAKE_CASE = re.compile(r"[a-z_][a-z0-9_]*")


def _capability_problems(name: str, text: Any) -> list[str]:
    if (credential := credential_key(name, "capability name")) is not None:
        return [credential]  # nothing of its value said
    found = []
    shown = quoted(name, 120)  # a valid name is short; a long one shows why it is not
    # ASCII: isidentifier() takes letters that show as nothing (U+3164, a Hangul filler).
    if not _SNAKE_CASE.fullmatch(name):
        found.append(f"capability name {shown} is not lowercase snake_case")
    elif not isinstance(reading := resolve_plain(name), str):  # yes, on, null, true
        what = (
            f"{reading.reading} to YAML 1.1 parsers"
            if isinstance(reading, Ambiguous)
            else describe(reading)
        )
        found.append(
            f"capability name {shown} reads as {what} where a model lists it "
            "unquoted: choose another name"
        )
    if isinstance(text, str) and CONTROL_CHARACTERS.search(text):
        found.append(
            f"capability {shown} needs a one-line description: control characters "
            "(line breaks, escapes) are not allowed"
        )
    elif not isinstance(text, str) or blank(text):
        hint = "; quote it" if text is not None and not isinstance(text, str | dict | list) else ""
        found.append(f"capability {shown} needs a one-line description, got {describe(text)}{hint}")
    elif len(text) > MAX_DESCRIPTION:
        found.append(
            f"capability {shown} needs a one-line description, got {len(text)} "
            f"characters (at most {MAX_DESCRIPTION})"
        )
    return found


MAX_DESCRIPTION = 500
