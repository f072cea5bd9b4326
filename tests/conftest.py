"""Shared fixtures: a real SQLite file and a real PostgreSQL database for every database test.

PostgreSQL tests use the server at $REGISTRY_TEST_POSTGRES_URL (default: the local one with
trust authentication). Each test gets a database of its own, dropped afterwards. Without a
server they are skipped with the reason, unless REGISTRY_REQUIRE_POSTGRES=1 (set by
.ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from radiant_registry.cli import app

REPO = Path(__file__).resolve().parent.parent
SHIPPED_DATA = REPO / "registry_data"


# The models of each shipped provider file, read by PyYAML itself: the tests that sync the
# shipped files expect what they hold, not figures written down once.
SHIPPED_BY_PROVIDER = {
    path.stem: len(yaml.safe_load(path.read_text())["models"] or [])
    for path in sorted((SHIPPED_DATA / "providers").glob("*.yaml"))
}
SHIPPED_PROVIDERS = len(SHIPPED_BY_PROVIDER)
SHIPPED_MODELS = sum(SHIPPED_BY_PROVIDER.values())
SHIPPED_ROWS = SHIPPED_PROVIDERS + SHIPPED_MODELS  # what a first sync creates
XAI_MODELS = SHIPPED_BY_PROVIDER["xai"]
ADMIN_URL = os.environ.get(
    "REGISTRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# COLUMNS too: piped tables are as wide as it says (a shell that exports it would narrow them).
_ENV_VARS = ("REGISTRY_DATABASE_URL", "DATABASE_URL", "REGISTRY_DATA_DIR", "COLUMNS")


def _postgres_problem() -> str | None:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {ADMIN_URL.split('@')[-1]}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    problem = _postgres_problem()
    if problem:
        if os.environ.get("REGISTRY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL tests are mandatory here: {problem}")
        pytest.skip(problem)
    return ADMIN_URL


def create_postgres_database(admin_url: str) -> str:
    import psycopg

    name = f"rr_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, as the URL a user would pass."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    url = create_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the shipped registry files that a test may edit."""
    target = tmp_path / "registry_data"
    shutil.copytree(SHIPPED_DATA, target, ignore=shutil.ignore_patterns("*.md"))
    return target


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's database or data settings, or writes into the checkout."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


class Cli:
    """Runs `registry` in-process against one database and one data folder."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.runner = CliRunner()

    def __call__(
        self, *args: str, data: bool = False, db: bool = True, input: str | None = None
    ) -> Any:
        argv = list(args)
        if data:
            argv += ["--data-dir", str(self.data_dir)]
        if db:
            argv += ["--database-url", self.database_url]
        return self.runner.invoke(app, argv, input=input, catch_exceptions=False)

    def sync(self, *args: str) -> Any:
        return self("sync", "--yes", *args, data=True)


@pytest.fixture
def cli(database_url: str, data_dir: Path) -> Cli:
    return Cli(database_url, data_dir)


def provider_path(data_dir: Path, pid: str) -> Path:
    return data_dir / "providers" / f"{pid}.yaml"


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace `old`, which must occur exactly once in the file, with `new`."""
    content = path.read_text()
    assert content.count(old) == 1, f"{old!r} occurs {content.count(old)} times in {path}"
    path.write_text(content.replace(old, new))


def model_block(content: str, model_id: str) -> str:
    """The lines of one model's entry in a provider file's text."""
    start = content.index(f"  - id: {model_id}\n")
    end = content.find("\n  - id: ", start)
    return content[start:] if end == -1 else content[start : end + 1]


def dump_tables(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: compared before and after a failed sync."""
    from sqlalchemy import MetaData, select

    from radiant_registry.db import make_engine
    from radiant_registry.urls import resolve_url

    engine = make_engine(resolve_url(database_url))
    try:
        meta = MetaData()
        with engine.connect() as conn:
            meta.reflect(conn)
            return {
                name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
                for name, table in meta.tables.items()
            }
    finally:
        engine.dispose()


# --- what registry files say, as `registry list --format json --all` should show it ---------


def num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def expected_record(pid: str, model: dict[str, Any]) -> dict[str, Any]:
    """The `list --format json --all` record of a model just synced from `model`."""
    pricing = model["pricing"]
    modalities = model.get("modalities", {"input": ["text"], "output": ["text"]})
    list_pricing = {
        "input_per_1m": num(pricing["input_per_1m"]),
        "output_per_1m": num(pricing["output_per_1m"]),
        "cache_read_per_1m": num(pricing.get("cache_read_per_1m")),
        "cache_write_per_1m": num(pricing.get("cache_write_per_1m")),
        "tiers": [
            {"above_tokens": t["above_tokens"], "input_per_1m": num(t["input_per_1m"]),
             "output_per_1m": num(t.get("output_per_1m"))}
            for t in pricing.get("tiers", [])
        ],
    }
    iso = {name: None if model.get(name) is None else model[name].isoformat()
           for name in ("release_date", "deprecation_date", "verified_at")}
    return {
        "provider": pid,
        "id": model["id"],
        "display_name": model["display_name"],
        "model_type": model.get("model_type", "chat"),
        "category": model.get("category", "general"),
        "context_window": model["context_window"],
        "max_output_tokens": model["max_output_tokens"],
        "modalities": {
            name: sorted(modalities.get(name, ["text"])) for name in ("input", "output")
        },
        "capabilities": sorted(model.get("capabilities", [])),
        "is_novel": model.get("is_novel", False),
        "status": model.get("status", "active"),
        **iso,
        "aliases": sorted(model.get("aliases", [])),
        "source_url": model.get("source_url"),
        "enabled": True,
        "switch_reason": None,
        "retired": False,
        "list_pricing": list_pricing,
        "override": None,
        "pricing": list_pricing,
    }


def listed(url: str, folder: Path) -> dict[str, dict[str, Any]]:
    result = Cli(url, folder)("list", "--format", "json", "--all")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    for record in records:
        del record["created_at"], record["updated_at"]
    return {f"{r['provider']}/{r['id']}": r for r in records}


def all_expected(registry: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{pid}/{model['id']}": expected_record(pid, model)
        for pid, content in registry.items()
        for model in content["models"]
    }


def on_a_terminal(
    argv: list[str],
    when: bytes,
    keys: bytes = b"",
    signum: int | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> tuple[int, bytes]:
    """Run `argv` on a pseudo-terminal and type `keys` (or send it `signum`) once it has
    shown `when` (b"\\x03" is Ctrl-C: the terminal sends SIGINT), after calling `meanwhile`.
    Its exit code and all it wrote."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        os.execv(argv[0], argv)
    shown, typed, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal: it has ended
                break
            if not chunk:
                break
            shown += chunk
        if not typed and when in shown:
            meanwhile()
            if signum is None:
                os.write(fd, keys)
            else:
                os.kill(pid, signum)
            typed = True
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert typed, shown[-500:]
    return os.waitstatus_to_exitcode(status), shown


def same(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (1 == True == Decimal(1) in Python)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, Decimal):  # also the digits as written: 3.00 is not 3
        return left.as_tuple() == right.as_tuple()
    return bool(left == right)
