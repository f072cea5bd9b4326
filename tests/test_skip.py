"""Skipping unchanged files by content key, on SQLite and PostgreSQL.

A sync records in providers.file_sha256 the content key of every file it applied in full;
the next diff or sync does not even parse a file whose key matches, and counts its provider
and active models as unchanged. `--full` reads and compares every file. Every test starts
from the shipped registry files (SHIPPED_ROWS rows: providers and models) and edits a copy.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from conftest import (
    SHIPPED_DATA,
    SHIPPED_ROWS,
    Cli,
    dump_tables,
    model_block,
    provider_path,
    replace_once,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from radiant_registry import loader, migrations, yamlstrict
from radiant_registry.db import make_engine
from radiant_registry.loader import Registry, load_registry
from radiant_registry.state import skip_applied
from radiant_registry.urls import resolve_url

SHIPPED_IDS = sorted(p.stem for p in (SHIPPED_DATA / "providers").glob("*.yaml"))
EMPTY_PLAN = {
    "changes": [], "summary": {"create": 0, "update": 0, "retire": 0, "unchanged": SHIPPED_ROWS}
}


# --- helpers -------------------------------------------------------------------------------


def remove_model(data_dir: Path, pid: str, model_id: str) -> None:
    path = provider_path(data_dir, pid)
    content = path.read_text()
    content = content.replace(model_block(content, model_id), "")
    if "\n  - id: " not in content:
        content = content.replace("\nmodels:\n", "\nmodels: []\n")
    path.write_text(content)


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def plan_of(cli: Cli, *args: str) -> dict[str, Any]:
    """The plan `registry diff --format json` prints."""
    return json.loads(ok(cli("diff", "--format", "json", *args, data=True)).stdout)


def grok_3_update(field: str, old: Any, new: Any) -> dict[str, Any]:
    """The plan that changes one field of xai/grok-3 and nothing else."""
    return {
        "changes": [
            {
                "action": "update",
                "kind": "model",
                "key": "xai/grok-3",
                "fields": {field: {"old": old, "new": new}},
            }
        ],
        "summary": {"create": 0, "update": 1, "retire": 0, "unchanged": SHIPPED_ROWS - 1},
    }


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    engine = make_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def execute(url: str, statement: str) -> None:
    with connection(url) as conn, conn.begin():
        conn.execute(text(statement))


def stored_keys(url: str) -> dict[str, str | None]:
    """providers.file_sha256 by provider id, read with plain SQL."""
    with connection(url) as conn:
        return dict(conn.execute(text("SELECT id, file_sha256 FROM providers")).all())


def load_skipping(
    url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Registry, list[str]]:
    """Load as a sync would, with the keys the database holds; return the registry and the
    provider files that were checked. (Valid files only: YAML is read once for the vocabulary
    and once for each file checked, never for a file skipped.)"""
    parsed: list[str] = []
    reads: list[bytes] = []
    check_file, read = loader.check_file, yamlstrict.read

    def recording_check(path: Path, *args: Any) -> Any:
        parsed.append(path.stem)
        return check_file(path, *args)

    def recording_read(data: bytes, *args: Any) -> Any:
        reads.append(data)
        return read(data, *args)

    monkeypatch.setattr(loader, "check_file", recording_check)
    monkeypatch.setattr(yamlstrict, "read", recording_read)
    with connection(url) as conn:
        registry = load_registry(data_dir, skip=skip_applied(conn))
    monkeypatch.setattr(loader, "check_file", check_file)
    monkeypatch.setattr(yamlstrict, "read", read)
    assert len(reads) == 1 + len(parsed)
    return registry, parsed


DEEPSEEK = {
    "id": "deepseek",
    "display_name": "DeepSeek",
    "auth_type": "api_key",
    "api_base": "https://api.deepseek.com",
}


def provider_listing(cli: Cli, pid: str) -> list[dict[str, Any]]:
    providers = json.loads(ok(cli("providers", "--format", "json")).stdout)
    return [p for p in providers if p["id"] == pid]


def model_records(cli: Cli) -> dict[str, dict[str, Any]]:
    records = json.loads(ok(cli("list", "--format", "json", "--all")).stdout)
    return {f"{r['provider']}/{r['id']}": r for r in records}


# --- skipping -------------------------------------------------------------------------------


def test_after_a_sync_every_file_is_skipped_unparsed(cli, database_url, monkeypatch):
    ok(cli.sync())
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == []
    assert registry.files == {}
    assert sorted(registry.skipped) == SHIPPED_IDS
    assert len(SHIPPED_IDS) == 16
    assert registry.skipped == stored_keys(database_url)


def test_after_a_sync_diff_counts_the_skipped_rows_as_unchanged(cli):
    ok(cli.sync())
    assert plan_of(cli) == EMPTY_PLAN
    assert plan_of(cli, "--full") == EMPTY_PLAN


def test_a_new_database_skips_nothing(cli, database_url, monkeypatch):
    ok(cli("db", "upgrade"))
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert sorted(parsed) == SHIPPED_IDS
    assert registry.skipped == {}
    assert stored_keys(database_url) == {}


def test_only_the_edited_file_is_parsed_and_the_plans_agree(cli, database_url, monkeypatch):
    ok(cli.sync())
    path = provider_path(cli.data_dir, "xai")
    replace_once(path, "input_per_1m: 3.00", "input_per_1m: 3.50")
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == ["xai"]
    assert list(registry.files) == ["xai"]
    assert sorted(registry.skipped) == [pid for pid in SHIPPED_IDS if pid != "xai"]

    expected = grok_3_update("input_per_1m", 3.0, 3.5)
    assert plan_of(cli) == expected
    assert plan_of(cli, "--full") == expected
    ok(cli.sync())
    assert stored_keys(database_url)["xai"] == registry.files["xai"].key
    assert plan_of(cli) == EMPTY_PLAN


def plan_refused(database_url: str, registry: Any, dry_run: bool) -> Any:
    """The ConcurrentChange that `diff` (dry_run) or `sync` raises planning `registry`."""
    from radiant_registry import apply
    from radiant_registry.errors import ConcurrentChange
    from radiant_registry.log import EventLog

    engine = make_engine(resolve_url(database_url))
    try:
        with engine.connect() as conn, pytest.raises(ConcurrentChange) as stale:
            if dry_run:
                apply.preview(conn, registry, apply.SyncOptions())
            else:
                apply.sync(conn, registry, apply.SyncOptions(), EventLog(quiet=True))
    finally:
        engine.dispose()
    return stale.value


@pytest.mark.parametrize("dry_run", [True, False], ids=["diff", "sync"])
def test_files_another_sync_applies_while_these_are_read_stop_the_plan(
    cli, database_url, monkeypatch, dry_run
):
    """A file skipped by its key, whose provider another sync changed before the plan:
    the rows are no longer what the key promised, so no plan is made from them (75)."""
    from radiant_registry.errors import ExitCode

    ok(cli.sync())
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == [] and "xai" in registry.skipped
    replace_once(provider_path(cli.data_dir, "xai"), "input_per_1m: 3.00", "input_per_1m: 3.50")
    ok(cli.sync())  # the other sync, between this one's reading and its plan
    before = dump_tables(database_url)
    stale = plan_refused(database_url, registry, dry_run)
    assert stale.exit_code == ExitCode.TEMPFAIL == 75
    assert "run the command again" in str(stale)
    after = dump_tables(database_url)
    assert {k: v for k, v in after.items() if k != "sync_runs"} == {
        k: v for k, v in before.items() if k != "sync_runs"}


@pytest.mark.parametrize("dry_run", [True, False], ids=["diff", "sync"])
def test_a_database_emptied_while_the_files_are_read_stops_the_plan(
    cli, database_url, monkeypatch, dry_run
):
    """Files skipped as applied, then `db downgrade base` before the plan: planned as a
    new database, the skipped files' rows would be missing from the plan (diff said so
    silently)."""
    ok(cli.sync())
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == [] and "xai" in registry.skipped
    ok(cli("db", "downgrade", "base", "--yes"))
    before = dump_tables(database_url)
    stale = plan_refused(database_url, registry, dry_run)
    assert "a downgrade emptied it" in str(stale)
    assert dump_tables(database_url) == before


def test_a_file_touched_without_a_change_is_still_skipped(cli, database_url, monkeypatch):
    ok(cli.sync())
    path = provider_path(cli.data_dir, "openai")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == []
    assert sorted(registry.skipped) == SHIPPED_IDS


def test_a_comment_changes_the_key_but_not_the_plan(cli, database_url, monkeypatch):
    ok(cli.sync())
    before = stored_keys(database_url)
    path = provider_path(cli.data_dir, "openai")
    path.write_text(path.read_text() + "# reviewed\n")
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == ["openai"]
    assert plan_of(cli) == EMPTY_PLAN
    ok(cli.sync())
    after = stored_keys(database_url)
    assert after["openai"] == registry.files["openai"].key != before["openai"]
    assert {pid: key for pid, key in after.items() if pid != "openai"} == {
        pid: key for pid, key in before.items() if pid != "openai"
    }


def test_database_drift_is_found_only_by_full(cli, database_url):
    """The designed trade-off: a row edited in the database behind the tool's back, under a
    file whose content key is recorded, is not compared by a plain diff or sync (the file is
    skipped, its rows counted as unchanged). `--full` reads every file and compares every
    row, and `sync --full` repairs the drift."""
    ok(cli.sync())
    execute(
        database_url,
        "UPDATE models SET display_name = 'Drifted' "
        "WHERE provider_id = 'xai' AND model_id = 'grok-3'",
    )
    drift = grok_3_update("display_name", "Drifted", "Grok 3")
    assert plan_of(cli) == EMPTY_PLAN
    assert plan_of(cli, "--full") == drift
    ok(cli.sync())  # a plain sync skips the file too: the drift stays
    assert model_records(cli)["xai/grok-3"]["display_name"] == "Drifted"
    assert plan_of(cli, "--full") == drift

    ok(cli.sync("--full"))
    assert model_records(cli)["xai/grok-3"]["display_name"] == "Grok 3"
    assert plan_of(cli) == EMPTY_PLAN
    assert plan_of(cli, "--full") == EMPTY_PLAN


def test_pending_retires_are_listed_until_pruned(cli, database_url, monkeypatch):
    ok(cli.sync())
    remove_model(cli.data_dir, "xai", "grok-realtime")
    pending = {
        "changes": [
            {"action": "retire", "kind": "model", "key": "xai/grok-realtime", "fields": {}}
        ],
        "summary": {"create": 0, "update": 0, "retire": 1, "unchanged": SHIPPED_ROWS - 1},
    }
    for _ in range(2):
        ok(cli.sync())
        assert plan_of(cli) == pending
        assert plan_of(cli, "--full") == pending
    ok(cli.sync("--full"))
    assert plan_of(cli) == pending
    assert cli("diff", "--exit-code", data=True).exit_code == 2  # a change not yet applied

    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == ["xai"]  # read again each time, to list the retire again
    assert stored_keys(database_url)["xai"] != registry.files["xai"].key

    ok(cli.sync("--prune"))
    pruned = {"changes": [], "summary": {**EMPTY_PLAN["summary"], "unchanged": SHIPPED_ROWS - 1}}
    assert plan_of(cli) == pruned
    assert plan_of(cli, "--full") == pruned
    assert cli("diff", "--exit-code", data=True).exit_code == 0
    assert model_records(cli)["xai/grok-realtime"]["retired"] is True

    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == []
    assert sorted(registry.skipped) == SHIPPED_IDS
    assert stored_keys(database_url)["xai"] == registry.skipped["xai"]


def test_a_provider_retired_by_prune_comes_back_with_its_file(cli, database_url):
    ok(cli.sync())
    path = provider_path(cli.data_dir, "deepseek")
    shipped = path.read_bytes()
    path.unlink()
    refused = cli.sync("--prune")
    assert refused.exit_code == 65, refused.output
    ok(cli.sync("--prune", "--force"))
    assert stored_keys(database_url)["deepseek"] is None  # cleared by the retire
    assert provider_listing(cli, "deepseek") == [{**DEEPSEEK, "models": 0, "retired": True}]
    assert {
        k: r["retired"] for k, r in model_records(cli).items() if k.startswith("deepseek/")
    } == {"deepseek/deepseek-v3": True, "deepseek/deepseek-r1": True}

    path.write_bytes(shipped)
    unretire = {
        "changes": [
            {
                "action": "update",
                "kind": "provider",
                "key": "deepseek",
                "fields": {"retired": {"old": True, "new": False}},
            },
            {
                "action": "update",
                "kind": "model",
                "key": "deepseek/deepseek-r1",
                "fields": {"retired": {"old": True, "new": False}},
            },
            {
                "action": "update",
                "kind": "model",
                "key": "deepseek/deepseek-v3",
                "fields": {"retired": {"old": True, "new": False}},
            },
        ],
        "summary": {"create": 0, "update": 3, "retire": 0, "unchanged": SHIPPED_ROWS - 3},
    }
    assert plan_of(cli) == unretire
    assert plan_of(cli, "--full") == unretire
    ok(cli.sync())
    assert provider_listing(cli, "deepseek") == [{**DEEPSEEK, "models": 2, "retired": False}]
    listed = json.loads(ok(cli("list", "--format", "json", "--provider", "deepseek")).stdout)
    assert sorted(r["id"] for r in listed) == ["deepseek-r1", "deepseek-v3"]
    assert stored_keys(database_url)["deepseek"] is not None
    assert plan_of(cli) == EMPTY_PLAN


def test_a_vocabulary_change_invalidates_every_key(cli, database_url):
    ok(cli.sync())
    before = dump_tables(database_url)
    replace_once(
        cli.data_dir / "capabilities.yaml",
        "  chain_of_thought: Produces an explicit step-by-step reasoning trace.\n",
        "",
    )
    path = provider_path(cli.data_dir, "deepseek")
    problem = (
        f"{path}:31:31: unknown capability 'chain_of_thought' (the vocabulary is capabilities.yaml)"
    )
    for args in (("sync", "--yes"), ("diff",)):
        result = cli(*args, data=True)
        assert result.exit_code == 65, result.output
        assert result.stdout == ""  # the problems are the error
        assert problem in result.stderr.splitlines()
    assert dump_tables(database_url) == before


def test_a_vocabulary_comment_keeps_every_key(cli, database_url, monkeypatch):
    ok(cli.sync())
    path = cli.data_dir / "capabilities.yaml"
    path.write_text(path.read_text() + "# reviewed\n")
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert parsed == []
    assert sorted(registry.skipped) == SHIPPED_IDS


def test_new_rules_read_every_file_again(cli, database_url, monkeypatch):
    ok(cli.sync())
    monkeypatch.setattr(loader, "rules_digest", lambda: "a newer tool's")
    registry, parsed = load_skipping(database_url, cli.data_dir, monkeypatch)
    assert sorted(parsed) == SHIPPED_IDS
    assert registry.skipped == {}
    assert set(registry.content_keys.values()).isdisjoint(stored_keys(database_url).values())


def test_the_stored_keys_are_the_loaders_keys(cli, database_url):
    ok(cli.sync())
    keys = load_registry(cli.data_dir).content_keys
    assert sorted(keys) == SHIPPED_IDS
    assert stored_keys(database_url) == keys
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in keys.values())
    assert len(set(keys.values())) == len(keys)


def test_a_file_restored_after_a_sync_with_pending_retires_is_read_again(cli):
    ok(cli.sync())
    path = provider_path(cli.data_dir, "xai")
    shipped = path.read_bytes()
    remove_model(cli.data_dir, "xai", "grok-realtime")
    replace_once(path, "input_per_1m: 3.00", "input_per_1m: 3.50")
    ok(cli.sync())  # applies the price; the retire stays pending
    path.write_bytes(shipped)
    restore = grok_3_update("input_per_1m", 3.5, 3.0)
    assert plan_of(cli, "--full") == restore
    # The sync above applied part of the file: its key must not claim the file is applied.
    assert plan_of(cli) == restore


# --- property: skipping never changes a plan -----------------------------------------------

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ACTIONS = (
    "price",
    "rename",
    "remove_model",
    "add_model",
    "remove_file",
    "comment",
    "touch",
    "restore",
    "sync",
    "sync_prune",
)
NEW_MODEL = """\
  - id: {id}
    display_name: Added {n}
    context_window: 128000
    max_output_tokens: 4096
    pricing:
      input_per_1m: 1.{n}
      output_per_1m: 2.00
    capabilities: [chat]
"""


class Editor:
    """Edits a registry folder: each edit writes text never written before, but "restore",
    which puts back an earlier version of a file (whose key a sync may have recorded). Random
    draws rarely line up the one sequence a known bug needed (a retire and another edit in
    a file, a sync without --prune, then that file restored): the explicit test above is
    its guard."""

    def __init__(self, folder: Path, data: Any) -> None:
        self.folder = folder
        self.data = data
        self.count = 0
        self.versions = {path.name: [path.read_bytes()] for path in self.files()}

    def files(self, with_models: bool = False) -> list[Path]:
        paths = sorted((self.folder / "providers").glob("*.yaml"))
        if with_models:
            paths = [p for p in paths if "\n  - id: " in p.read_text()]
        return paths

    def pick_model(self) -> tuple[Path, str] | None:
        paths = self.files(with_models=True)
        if not paths:
            return None
        path = self.data.draw(st.sampled_from(paths), label="file")
        ids = [
            line.removeprefix("  - id: ")
            for line in path.read_text().splitlines()
            if line.startswith("  - id: ")
        ]
        return path, self.data.draw(st.sampled_from(ids), label="model")

    def edit_model(self, path: Path, model_id: str, prefix: str, value: str) -> None:
        content = path.read_text()
        block = model_block(content, model_id)
        lines = block.splitlines(keepends=True)
        index = next(i for i, line in enumerate(lines) if line.lstrip().startswith(prefix))
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = f"{indent}{prefix} {value}\n"
        path.write_text(content.replace(block, "".join(lines)))

    def apply(self, action: str, cli: Cli) -> None:
        self.count += 1
        n = self.count
        if action in ("price", "rename", "remove_model"):
            picked = self.pick_model()
            if picked is None:
                return
            path, model_id = picked
            if action == "price":
                self.edit_model(path, model_id, "input_per_1m:", f"{100 + n}.{n}5")
            elif action == "rename":
                self.edit_model(path, model_id, "display_name:", f"Renamed {n}")
            else:
                remove_model(self.folder, path.stem, model_id)
        elif action == "add_model":
            path = self.data.draw(st.sampled_from(self.files()), label="file")
            block = NEW_MODEL.format(id=f"added-{n}", n=n)
            content = path.read_text()
            if "\nmodels: []" in content:
                content = content.replace("\nmodels: []", "\nmodels:", 1)
            path.write_text(content.rstrip("\n") + "\n" + block)
        elif action == "remove_file":
            if len(self.files()) > 1:
                self.data.draw(st.sampled_from(self.files()), label="file").unlink()
        elif action == "comment":
            path = self.data.draw(st.sampled_from(self.files()), label="file")
            path.write_text(path.read_text() + f"# note {n}\n")
        elif action == "touch":
            path = self.data.draw(st.sampled_from(self.files()), label="file")
            os.utime(path, (1_000_000_000 + n, 1_000_000_000 + n))
        elif action == "restore":
            name = self.data.draw(st.sampled_from(sorted(self.versions)), label="restored")
            earlier = self.versions[name]
            (self.folder / "providers" / name).write_bytes(
                self.data.draw(st.sampled_from(earlier), label="version"))
        elif action == "sync":
            ok(cli.sync())
        else:
            ok(cli.sync("--prune", "--force"))
        for path in self.files():  # every version written, to be restored later
            versions = self.versions.setdefault(path.name, [])
            if path.read_bytes() not in versions:
                versions.append(path.read_bytes())


@pytest.fixture
def fresh(database_url: str) -> Any:
    """Per example: an empty database (its schema taken down to base) and a fresh copy of the
    shipped files."""

    @contextmanager
    def example() -> Iterator[Cli]:
        with connection(database_url) as conn, conn.begin():
            migrations.downgrade(conn, "base")
        with tempfile.TemporaryDirectory(prefix="registry-") as folder:
            target = Path(folder) / "registry_data"
            shutil.copytree(SHIPPED_DATA, target, ignore=shutil.ignore_patterns("*.md"))
            yield Cli(database_url, target)

    return example


@SETTINGS
@given(actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=5), data=st.data())
def test_skipping_plans_equal_full_plans(fresh, actions, data):
    with fresh() as cli:
        ok(cli.sync())
        editor = Editor(cli.data_dir, data)
        for action in actions:
            editor.apply(action, cli)
            assert plan_of(cli) == plan_of(cli, "--full"), action
        ok(cli.sync("--prune", "--force"))
        after = plan_of(cli)
        assert after["changes"] == []
        assert plan_of(cli, "--full") == after


def test_the_rules_digest_changes_with_any_module_of_the_package(tmp_path):
    """The rules are the code: no one has to remember to bump a version."""
    package = Path(loader.__file__).parent
    for source in package.glob("*.py"):
        shutil.copy(source, tmp_path)
    (tmp_path / "__pycache__").mkdir()  # not code that is read
    (tmp_path / "__pycache__" / "schema.cpython-311.pyc").write_bytes(b"\0")
    digest = loader.sources_digest(tmp_path, "2.11:6.0")
    assert digest == loader.sources_digest(package, "2.11:6.0")
    assert digest != loader.sources_digest(package, "2.12:6.0")
    with (tmp_path / "render.py").open("a") as source:
        source.write("# a comment\n")
    assert loader.sources_digest(tmp_path, "2.11:6.0") != digest
    versions = f"{platform.python_version()}:{pydantic.VERSION}:{yaml.__version__}"
    assert loader.rules_digest() == loader.sources_digest(package, versions)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssertionError, match="no source"):
        loader.sources_digest(tmp_path / "empty", versions)
