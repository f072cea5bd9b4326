"""benchmarks/sync_scale.py runs end to end at a small size, on SQLite and PostgreSQL.

The timings and ratios at this size mean nothing; what is checked is that every step runs,
is reported, and writes exactly the model rows it should.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO

BENCHMARKS = REPO / "benchmarks"
MODELS, FILES = 200, 4


def _generate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCHMARKS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def edited_counts(tmp: Path) -> tuple[int, int]:
    """How many models the benchmark's two 1% edits change (--repeat 1: rounds 1 and 2)."""
    generate = _generate_module()
    generated = generate.generate(tmp / "registry", MODELS, FILES)
    some = generate.edit(generated, 0.01, 1, file_step=10)
    every = generate.edit(generated, 0.01, 2, file_step=1)
    return some, every


def tables(output: str) -> list[dict[str, list[str]]]:
    """Each markdown table printed: its rows as {first cell: the other cells}."""
    found: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    for line in output.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if current is None:  # the header
            current = {}
            found.append(current)
        elif set(cells[0]) <= set("-:"):
            continue  # the rule under the header
        else:
            current[cells[0]] = cells[1:]
    return found


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def benchmark(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One run of the benchmark at a small size; its kind of database, output and tables."""
    tmp = tmp_path_factory.mktemp("bench")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'b.db'}"
    else:
        url = request.getfixturevalue("postgres_admin")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REGISTRY_DATABASE_URL", "DATABASE_URL", "REGISTRY_DATA_DIR")
    }
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "sync_scale.py"),
            "--models",
            str(MODELS),
            "--files",
            str(FILES),
            "--repeat",
            "1",
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=120,
        check=False,
    )
    return request.param, result, tables(result.stdout), edited_counts(tmp)


def test_the_benchmark_exits_0_and_prints_two_tables(benchmark):
    kind, result, found, _ = benchmark
    assert result.returncode == 0, result.stdout + result.stderr
    title = "SQLite" if kind == "sqlite" else "PostgreSQL"
    assert f"## {MODELS} models in {FILES} files, {title}, " in result.stdout
    assert len(found) == 2, result.stdout


def test_every_step_is_measured(benchmark):
    kind, result, found, _ = benchmark
    steps = found[0]
    floor = (
        "floor (json.loads + one executemany)" if kind == "sqlite" else "floor (json.loads + COPY)"
    )
    assert list(steps) == [
        "registry validate",
        "first sync (empty database)",
        f"first sync, {MODELS // 10} models",
        "no-op re-sync",
        "re-sync, 1% edited in 10% of the files",
        "re-sync, 1% edited across all files",
        "per-row baseline (CSafeLoader + 1 upsert per model)",
        floor,
    ], result.stdout
    for name, (seconds, _, peak) in steps.items():
        assert float(seconds) >= 0, name
        assert float(peak) > 0, name


def test_each_step_writes_exactly_its_rows(benchmark):
    kind, result, found, (some, every) = benchmark
    # At this size the two edits change different numbers of models: a row that reported
    # one edit's count with the other's rows would show (the last test).
    assert some != every
    rows = {name: cells[1] for name, cells in found[0].items()}
    assert rows == {
        "registry validate": "-",
        "first sync (empty database)": str(MODELS),
        f"first sync, {MODELS // 10} models": str(MODELS // 10),
        "no-op re-sync": "0",
        "re-sync, 1% edited in 10% of the files": str(some),
        "re-sync, 1% edited across all files": str(every),
        "per-row baseline (CSafeLoader + 1 upsert per model)": str(MODELS),
        "floor (json.loads + one executemany)"
        if kind == "sqlite"
        else "floor (json.loads + COPY)": str(MODELS),
    }, result.stdout
    ratios = found[1]
    assert ratios["rows written by the no-op re-sync"] == ["0", "0", "yes"]


def test_the_summary_row_compares_the_rows_of_the_same_edit(benchmark):
    _, result, found, (some, _) = benchmark
    assert result.returncode == 0, result.stdout + result.stderr
    summary = {
        name: cells
        for name, cells in found[1].items()
        if name.startswith("rows written after editing ")
    }
    assert summary == {f"rows written after editing {some} models": [str(some), str(some), "yes"]}


def test_the_generator_writes_a_valid_registry_from_its_command_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "generate.py"), str(tmp_path / "made"),
         "--models", "20", "--files", "3"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    from radiant_registry.loader import load_registry

    registry = load_registry(tmp_path / "made")
    assert (len(registry.files), registry.model_count) == (3, 20)


def test_the_generator_refuses_a_folder_that_holds_files(tmp_path: Path) -> None:
    (tmp_path / "made").mkdir()
    (tmp_path / "made" / "capabilities.yaml").write_text("capabilities: {}\n")
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "generate.py"), str(tmp_path / "made"),
         "--models", "20", "--files", "3"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "is not empty" in proc.stderr
    assert [p.name for p in (tmp_path / "made").iterdir()] == ["capabilities.yaml"]
