"""The installed tool: light imports, where it finds its files, and help for every command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import SHIPPED_BY_PROVIDER, SHIPPED_MODELS, SHIPPED_PROVIDERS, XAI_MODELS
from typer.testing import CliRunner

from radiant_registry.cli import app
from radiant_registry.config import bundled_path

REGISTRY = Path(sys.executable).parent / "registry"

# Runs the CLI in a fresh interpreter, then reports its exit code and the heavy modules loaded.
PROBE = """
import json, sys
sys.argv = ["registry", *json.loads(sys.argv[1])]
from radiant_registry.cli import main
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic", "psycopg"))
print("PROBE " + json.dumps({"code": int(code or 0), "heavy": heavy}))
"""


def probe(argv: list[str], cwd: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)], cwd=cwd, env={"PATH": os.environ["PATH"]},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.rsplit("PROBE ", 1)[1])


def copy_data(target: Path, *drop: str) -> Path:
    shutil.copytree(bundled_path("registry_data"), target)
    for provider in drop:
        (target / "providers" / f"{provider}.yaml").unlink()
    return target


def test_help_and_validate_do_not_import_the_database_stack(tmp_path):
    broken = copy_data(tmp_path / "broken")
    (broken / "providers" / "xai.yaml").write_text("schema_version: 1\nprovider: [\n")
    cases = [
        (["--help"], 0), (["sync", "--help"], 0), (["list", "--help"], 0),
        (["validate"], 0), (["validate", "--format", "json"], 0),
        (["validate", "--data-dir", str(broken)], 65),
    ]
    for argv, code in cases:
        assert probe(argv, tmp_path) == {"code": code, "heavy": []}, argv
    # The probe can see them: a database command does load them.
    assert probe(["db", "current", "--database-url", "sqlite:///x.db"], tmp_path)["heavy"]


def test_validate_from_an_unrelated_directory_reads_the_bundled_files(tmp_path):
    proc = subprocess.run(
        [str(REGISTRY), "validate"], cwd=tmp_path, env={"PATH": os.environ["PATH"]},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"OK: {SHIPPED_PROVIDERS} providers, {SHIPPED_MODELS} models" in proc.stdout
    bundled = bundled_path("registry_data")
    assert f"Registry files: {bundled} (bundled with radiant-registry)" in proc.stderr
    assert len(list((bundled / "providers").glob("*.yaml"))) == 16
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def validate(*argv: str) -> Any:
    return CliRunner().invoke(app, ["validate", *argv], catch_exceptions=False)


def test_data_dir_option_and_environment_choose_the_folder(tmp_path, monkeypatch):
    by_option = copy_data(tmp_path / "by_option", "perplexity")
    by_env = copy_data(tmp_path / "by_env", "perplexity", "deepseek")
    without_perplexity = SHIPPED_MODELS - SHIPPED_BY_PROVIDER["perplexity"]
    without_two = without_perplexity - SHIPPED_BY_PROVIDER["deepseek"]

    result = validate("--data-dir", str(by_option))
    assert result.exit_code == 0, result.output
    assert f"OK: {SHIPPED_PROVIDERS - 1} providers, {without_perplexity} models" in result.stdout
    assert f"Registry files: {by_option} (--data-dir)" in result.stderr

    monkeypatch.setenv("REGISTRY_DATA_DIR", str(by_env))
    result = validate()
    assert result.exit_code == 0, result.output
    assert f"OK: {SHIPPED_PROVIDERS - 2} providers, {without_two} models" in result.stdout
    assert f"Registry files: {by_env} ($REGISTRY_DATA_DIR)" in result.stderr

    result = validate("--data-dir", str(by_option))  # the option beats the environment
    assert f"OK: {SHIPPED_PROVIDERS - 1} providers, {without_perplexity} models" in result.stdout
    assert "(--data-dir)" in result.stderr

    monkeypatch.delenv("REGISTRY_DATA_DIR")
    copy_data(tmp_path / "registry_data", "xai")  # ./registry_data, as in a checkout
    result = validate()
    assert result.exit_code == 0, result.output
    assert f"OK: {SHIPPED_PROVIDERS - 1} providers, {SHIPPED_MODELS - XAI_MODELS} models" in (
        result.stdout)
    assert "Registry files: registry_data (current directory)" in result.stderr


def test_a_data_dir_without_providers_exits_78(tmp_path):
    result = validate("--data-dir", str(tmp_path))
    assert result.exit_code == 78
    assert f"no registry data in {tmp_path} (--data-dir): expected a 'providers' folder" in (
        result.stderr)


def test_an_incomplete_registry_data_folder_exits_78_instead_of_using_the_bundled_copy(tmp_path):
    (tmp_path / "registry_data").mkdir()  # here, not yet (or no longer) complete
    result = validate()
    assert result.exit_code == 78
    assert "no registry data in registry_data (current directory)" in result.stderr
    assert "bundled" not in result.stderr


@pytest.mark.parametrize("kind", ["file", "link to a file", "dangling link"])
def test_a_registry_data_that_is_no_folder_exits_78_instead_of_using_the_bundled_copy(
    tmp_path, kind
):
    """A symlink checked out as a file (core.symlinks=false), or a link to a removed release:
    no reason to sync the bundled, older, catalogue."""
    if kind == "file":
        (tmp_path / "registry_data").write_text("../releases/current/registry_data\n")
    elif kind == "link to a file":
        (tmp_path / "data.yaml").write_text("schema_version: 1\n")
        (tmp_path / "registry_data").symlink_to(tmp_path / "data.yaml")
    else:
        (tmp_path / "registry_data").symlink_to(tmp_path / "releases" / "gone")
    result = validate()
    assert result.exit_code == 78
    problem = "is a link to nothing" if kind == "dangling link" else "is not a folder"
    assert f"no registry data: registry_data (current directory) {problem}" in result.stderr
    assert "bundled" not in result.stderr


def test_a_data_dir_that_is_a_file_exits_78_from_the_option_as_from_the_variable(
    tmp_path, monkeypatch
):
    (tmp_path / "data.yaml").write_text("schema_version: 1\n")
    result = validate("--data-dir", str(tmp_path / "data.yaml"))
    assert result.exit_code == 78, result.output
    assert f"no registry data: {tmp_path / 'data.yaml'} (--data-dir) is not a folder" in (
        result.stderr)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "data.yaml"))
    result = validate()
    assert result.exit_code == 78, result.output
    assert "($REGISTRY_DATA_DIR) is not a folder" in result.stderr


def _without_file_permissions() -> list[str] | None:
    """A command prefix under which file modes stop reading: none needed but for root,
    who is given one without the capabilities that bypass them (util-linux's setpriv)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    caps = "-dac_override,-dac_read_search"
    return None if setpriv is None else [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]


@pytest.mark.skipif(_without_file_permissions() is None, reason="root, and no setpriv")
@pytest.mark.parametrize("chosen_by", ["--data-dir", "$REGISTRY_DATA_DIR"])
def test_a_data_dir_that_cannot_be_read_exits_78_saying_so(tmp_path, chosen_by):
    """From the option as from the variable (the option said "not readable", exit 64;
    the variable "expected a 'providers' folder", which is there)."""
    data_dir = copy_data(tmp_path / "data")
    data_dir.chmod(0)
    argv = ["--data-dir", str(data_dir)] if chosen_by == "--data-dir" else []
    env = {"PATH": os.environ["PATH"]} | (
        {"REGISTRY_DATA_DIR": str(data_dir)} if chosen_by != "--data-dir" else {}
    )
    try:
        result = subprocess.run(
            [*(_without_file_permissions() or []), str(REGISTRY), "validate", *argv],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
        )
    finally:
        data_dir.chmod(0o755)
    assert result.returncode == 78, result.stderr
    assert result.stderr == (
        f"error: no registry data: {data_dir} ({chosen_by}) cannot be read (Permission denied)\n"
    )


@pytest.mark.skipif(_without_file_permissions() is None, reason="root, and no setpriv")
def test_a_providers_folder_that_cannot_be_read_exits_78_saying_so(tmp_path):
    """As its data folder: the machine's set-up, not an invalid file (65)."""
    data_dir = copy_data(tmp_path / "data")
    (data_dir / "providers").chmod(0)
    try:
        result = subprocess.run(
            [*(_without_file_permissions() or []), str(REGISTRY), "validate", "--data-dir",
             str(data_dir)],
            capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, cwd=tmp_path,
            timeout=60,
        )
    finally:
        (data_dir / "providers").chmod(0o755)
    assert result.returncode == 78, result.stderr
    assert result.stderr == (
        f"error: no registry data: its 'providers' folder in {data_dir} (--data-dir) cannot be "
        "read (Permission denied)\n"
    )


@pytest.mark.skipif(_without_file_permissions() is None, reason="root, and no setpriv")
def test_a_data_folder_that_may_be_searched_but_not_listed_is_read(tmp_path):
    """Its entries are opened by name (mode 111 will do): only `providers/` must list."""
    data_dir = copy_data(tmp_path / "data")
    data_dir.chmod(0o111)  # its owner too: the tests run as root
    try:
        result = subprocess.run(
            [*(_without_file_permissions() or []), str(REGISTRY), "validate", "--data-dir",
             str(data_dir)],
            capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, cwd=tmp_path,
            timeout=60,
        )
    finally:
        data_dir.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "\nOK: " in result.stdout, result.stdout


def command_paths() -> list[tuple[str, ...]]:
    """Every command a user can run, e.g. ('price', 'set'); groups lead to their commands."""
    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, (*path, name))
        else:
            paths.append(path)

    walk(typer.main.get_command(app), ())
    return paths


def test_the_command_list_is_complete():
    assert sorted(" ".join(p) for p in command_paths()) == [
        "db current", "db downgrade", "db upgrade", "diff", "disable", "enable", "history",
        "list", "price clear", "price list", "price set", "providers", "show", "sync", "validate",
    ]


@pytest.mark.parametrize("path", [(), *command_paths()], ids=lambda p: " ".join(p) or "registry")
def test_every_command_help_has_an_example(path):
    result = CliRunner().invoke(app, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    # A flag takes no value: newer typers show one as <bool> unless told otherwise, their
    # own --help included.
    assert [line for line in result.stdout.splitlines() if "<bool>" in line] == []
    # An option's value is named for what it is (<url>, <usd>, <field>), not for its
    # Python type (an argument's name, MODEL, says it already: typer adds <str>).
    lines = result.stdout.splitlines()
    assert [line for line in lines if "<str>" in line and " --" in line] == []
