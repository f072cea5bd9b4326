"""How fast `registry` validates and syncs a large registry, against two references.

    python benchmarks/sync_scale.py --models 100000 --files 500 \
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

It generates a deterministic registry (benchmarks/generate.py) in a temporary folder and
measures, each as a whole `registry` process, the median of --repeat runs:

- `registry validate`;
- the first `registry sync`, each repetition on a new empty database;
- a no-op re-sync (nothing changed);
- a re-sync after 1% of the models were edited (in every tenth file, and, as the worst
  case, spread over every file).

Rows written are counted by the database (PostgreSQL's table statistics; on SQLite, rows
whose updated_at moved), peak memory is the process's maximum resident set size.

On the same data and server it times two references: the per-row baseline of the design
document (PyYAML's CSafeLoader, then one INSERT ... ON CONFLICT DO UPDATE per model in one
transaction) and the floor (json.loads of the same data plus COPY into an empty table of
the same shape; on SQLite one executemany insert). The --database-url names a server: the
benchmark creates and drops databases of its own there (for SQLite, files in a temp dir).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate

from radiant_registry.rows import MODEL_FIELDS

REGISTRY = shutil.which("registry", path=str(Path(sys.executable).parent)) or "registry"
# The models table's columns, in the order the reference tables are written.
MODEL_COLUMNS = (
    "provider_id",
    "model_id",
    *MODEL_FIELDS,
    "retired_at",
    "enabled",
    "switch_reason",
    "switched_by",
    "switched_at",
    "created_at",
    "updated_at",
)
_JSON_COLUMNS = {"input_modalities", "output_modalities", "price_tiers", "capabilities", "aliases"}


@dataclass
class Run:
    seconds: float
    peak_mib: float
    rows: int | None = None


@dataclass
class Measure:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mib(self) -> float:
        return max(r.peak_mib for r in self.runs)

    @property
    def rows(self) -> str:
        counts = {r.rows for r in self.runs}
        return "-" if counts == {None} else "/".join(str(c) for c in sorted(counts, key=str))


# --- databases -------------------------------------------------------------------------


class Server:
    """Creates empty databases on a PostgreSQL server, or SQLite files in a folder."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.workdir = workdir
        self.created: list[str] = []

    def new_database(self) -> str:
        if self.sqlite:
            path = self.workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
            self.created.append(str(path))
            return f"sqlite:///{path}"
        import psycopg

        name = f"rr_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{self.url.rsplit('/', 1)[0]}/{name}"

    def settle(self) -> None:
        """Start each measured run on a quiet machine: the previous run's writes flushed
        (a CHECKPOINT needs a superuser or pg_checkpoint; without one, this is skipped)."""
        os.sync()
        if self.sqlite:
            return
        import psycopg

        with (
            psycopg.connect(_libpq(self.url), autocommit=True) as conn,
            suppress(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("CHECKPOINT")

    def drop_all(self) -> None:
        if self.sqlite:
            return
        import psycopg

        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def connect(self, url: str) -> Iterator[Any]:
        if self.sqlite:
            import sqlite3

            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            try:
                yield conn
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(_libpq(url), autocommit=True) as conn:
                yield conn


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgres://", "postgresql://"
    )


def rows_written(server: Server, url: str, since: datetime) -> Callable[[], int]:
    """Returns a function that counts the rows a run wrote to the models table.

    (A sync also writes one providers row per changed file, to remember its content key,
    and one sync_runs row: bookkeeping, not catalogue rows.)
    """
    if server.sqlite:

        def count_sqlite() -> int:
            with server.connect(url) as conn:
                stamp = since.strftime("%Y-%m-%d %H:%M:%S.%f")
                query = "SELECT count(*) FROM models WHERE updated_at >= ?"
                return int(conn.execute(query, (stamp,)).fetchone()[0])

        return count_sqlite

    def stats() -> int:
        with server.connect(url) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                "FROM pg_stat_user_tables WHERE relname = 'models'"
            ).fetchone()
            return int(row[0])

    before = _table_exists(server, url) and stats()
    return lambda: stats() - int(before or 0)


def _table_exists(server: Server, url: str) -> bool:
    with server.connect(url) as conn:
        return bool(conn.execute("SELECT to_regclass('models') IS NOT NULL").fetchone()[0])


# --- running registry ------------------------------------------------------------------


def run_registry(args: Sequence[str]) -> tuple[float, float]:
    """Run one `registry` process; return (seconds, peak RSS in MiB). Fails loudly."""
    # Output goes to files, not pipes: a full pipe would block the child while we wait.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        command = [REGISTRY, *args]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        process.returncode = code
        if code != 0:
            out.seek(0)
            err.seek(0)
            output = (out.read() + err.read()).decode(errors="replace")
            raise SystemExit(f"registry {' '.join(args)} exited {code}:\n{output}")
    return seconds, usage.ru_maxrss / 1024


def measure_sync(
    server: Server, data_dir: Path, url: str, name: str, extra: Sequence[str] = ()
) -> Run:
    since = datetime.now(UTC)
    counter = rows_written(server, url, since)
    server.settle()
    seconds, peak = run_registry(
        ["sync", "--yes", "--quiet", "--data-dir", str(data_dir), "--database-url", url, *extra]
    )
    return Run(seconds, peak, counter())


# --- references ------------------------------------------------------------------------


def _file_rows(doc: dict[str, Any], now: datetime) -> list[tuple[Any, ...]]:
    pid = doc["provider"]["id"]
    rows = []
    for m in doc.get("models") or []:
        pricing = m["pricing"]
        modalities = m.get("modalities") or {}
        values = {
            "provider_id": pid,
            "model_id": m["id"],
            "display_name": m["display_name"],
            "model_type": m.get("model_type", "chat"),
            "category": m.get("category", "general"),
            "context_window": m["context_window"],
            "max_output_tokens": m["max_output_tokens"],
            "input_modalities": modalities.get("input", ["text"]),
            "output_modalities": modalities.get("output", ["text"]),
            "input_per_1m": pricing["input_per_1m"],
            "output_per_1m": pricing.get("output_per_1m"),
            "cache_read_per_1m": pricing.get("cache_read_per_1m"),
            "cache_write_per_1m": pricing.get("cache_write_per_1m"),
            "price_tiers": pricing.get("tiers", []),
            "capabilities": m.get("capabilities", []),
            "is_novel": m.get("is_novel", False),
            "status": m.get("status", "active"),
            "release_date": m.get("release_date"),
            "deprecation_date": m.get("deprecation_date"),
            "aliases": m.get("aliases", []),
            "source_url": m.get("source_url"),
            "verified_at": m.get("verified_at"),
            "retired_at": None,
            "enabled": True,
            "switch_reason": None,
            "switched_by": None,
            "switched_at": None,
            "created_at": now,
            "updated_at": now,
        }
        rows.append(
            tuple(
                json.dumps(values[c], default=str) if c in _JSON_COLUMNS else values[c]
                for c in MODEL_COLUMNS
            )
        )
    return rows


def _create_like(server: Server, url: str, table: str, primary_key: bool) -> None:
    with server.connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        if server.sqlite:
            key = ", PRIMARY KEY (provider_id, model_id)" if primary_key else ""
            conn.execute(f"CREATE TABLE {table} ({', '.join(MODEL_COLUMNS)}{key})")
            conn.commit()
        else:
            conn.execute(f"CREATE TABLE {table} (LIKE models INCLUDING DEFAULTS)")
            if primary_key:
                conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (provider_id, model_id)")


def per_row_baseline(server: Server, url: str, data_dir: Path) -> Run:
    """Section 30.4: CSafeLoader, then one INSERT ... ON CONFLICT DO UPDATE per model."""
    import yaml

    _create_like(server, url, "baseline_models", primary_key=True)
    placeholders = ", ".join(["?" if server.sqlite else "%s"] * len(MODEL_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in MODEL_COLUMNS[2:] if c != "created_at")
    sql = (
        f"INSERT INTO baseline_models ({', '.join(MODEL_COLUMNS)}) VALUES ({placeholders}) "
        f"ON CONFLICT (provider_id, model_id) DO UPDATE SET {updates}"
    )
    server.settle()
    start = time.perf_counter()
    now = datetime.now(UTC)
    rows = []
    for path in sorted((data_dir / "providers").glob("*.yaml")):
        with path.open("rb") as handle:
            rows += _file_rows(yaml.load(handle, Loader=yaml.CSafeLoader), now)
    with server.connect(url) as conn:
        if server.sqlite:
            for row in rows:
                conn.execute(sql, [float(v) if hasattr(v, "as_tuple") else v for v in row])
            conn.commit()
        else:
            with conn.transaction():
                cursor = conn.cursor()
                for row in rows:
                    cursor.execute(sql, row)
    return Run(time.perf_counter() - start, _self_peak_mib(), len(rows))


def floor(server: Server, url: str, json_dir: Path) -> Run:
    """json.loads of the same data, then COPY (SQLite: one executemany) into an empty table."""
    _create_like(server, url, "floor_models", primary_key=False)
    server.settle()
    start = time.perf_counter()
    now = datetime.now(UTC)
    rows = []
    for path in sorted(json_dir.glob("*.json")):
        rows += _file_rows(json.loads(path.read_bytes()), now)
    with server.connect(url) as conn:
        if server.sqlite:
            marks = ", ".join("?" * len(MODEL_COLUMNS))
            conn.executemany(
                f"INSERT INTO floor_models VALUES ({marks})",
                [[str(v) if isinstance(v, date | datetime) else v for v in row] for row in rows],
            )
            conn.commit()
        else:
            with (
                conn.transaction(),
                conn.cursor().copy(
                    f"COPY floor_models ({', '.join(MODEL_COLUMNS)}) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
    return Run(time.perf_counter() - start, _self_peak_mib(), len(rows))


def _self_peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save_as_json(data_dir: Path, target: Path) -> None:
    """The same data as JSON files, for the floor (written once, outside any timing)."""
    import yaml

    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((data_dir / "providers").glob("*.yaml")):
        doc = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
        (target / f"{path.stem}.json").write_text(json.dumps(doc, default=str))


# --- the run ---------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="rr-bench-"))
    server = Server(args.database_url, workdir)
    repeat = args.repeat
    results: dict[str, Measure] = {}
    try:
        gen = generate.generate(workdir / "registry", args.models, args.files)
        small = generate.generate(
            workdir / "registry-small", max(1, args.models // 10), max(1, args.files // 10)
        )
        save_as_json(gen.data_dir, workdir / "json")

        results["validate"] = Measure("registry validate")
        for _ in range(repeat):
            server.settle()
            results["validate"].runs.append(
                Run(*run_registry(["validate", "--data-dir", str(gen.data_dir)]))
            )
        first = Measure("first sync (empty database)")
        small_first = Measure(f"first sync, {small.models:,} models")
        for _ in range(repeat):
            first.runs.append(measure_sync(server, gen.data_dir, server.new_database(), "first"))
            small_first.runs.append(
                measure_sync(server, small.data_dir, server.new_database(), "small")
            )
        results["first"], results["small_first"] = first, small_first

        url = server.new_database()
        measure_sync(server, gen.data_dir, url, "seed")
        results["noop"] = Measure(
            "no-op re-sync",
            [measure_sync(server, gen.data_dir, url, "noop") for _ in range(repeat)],
        )
        edit_some = Measure("re-sync, 1% edited in 10% of the files")
        edit_all = Measure("re-sync, 1% edited across all files")
        rounds = iter(range(1, 2 * repeat + 1))
        for measure, file_step in ((edit_some, 10), (edit_all, 1)):
            for _ in range(repeat):
                edited = generate.edit(gen, 0.01, next(rounds), file_step=file_step)
                run = measure_sync(server, gen.data_dir, url, "edit")
                measure.runs.append(run)
                assert run.rows == edited, (
                    f"{measure.name}: expected {edited} rows written, "
                    f"the database counted {run.rows}"
                )
            if measure is edit_some:
                results["edited_models"] = edited  # type: ignore[assignment]
        results["edit_some"], results["edit_all"] = edit_some, edit_all

        ref_url = server.new_database()
        measure_sync(
            server, small.data_dir, ref_url, "schema"
        )  # creates the tables to copy the shape of
        results["baseline"] = Measure(
            "per-row baseline (CSafeLoader + 1 upsert per model)",
            [per_row_baseline(server, ref_url, gen.data_dir) for _ in range(args.baseline_repeat)],
        )
        results["floor"] = Measure(
            "floor (json.loads + COPY)"
            if not server.sqlite
            else "floor (json.loads + one executemany)",
            [floor(server, ref_url, workdir / "json") for _ in range(repeat)],
        )
        return report(args, results, small.models)
    finally:
        server.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def _met(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "NO"


def report(args: argparse.Namespace, r: dict[str, Any], small_models: int) -> dict[str, Any]:
    first, noop, some, every = r["first"], r["noop"], r["edit_some"], r["edit_all"]
    per_model_large = first.seconds / args.models
    per_model_small = r["small_first"].seconds / small_models
    ratios = [
        (
            "first sync vs per-row baseline",
            r["baseline"].seconds / first.seconds,
            ">= 10x faster",
            r["baseline"].seconds / first.seconds >= 10,
        ),
        (
            "first sync vs floor",
            first.seconds / r["floor"].seconds,
            "<= 3x the floor",
            first.seconds / r["floor"].seconds <= 3,
        ),
        (
            "no-op re-sync / first sync",
            noop.seconds / first.seconds,
            "<= 0.20",
            noop.seconds / first.seconds <= 0.2,
        ),
        (
            "1% edited (10% of files) / first sync",
            some.seconds / first.seconds,
            "<= 0.25",
            some.seconds / first.seconds <= 0.25,
        ),
        (
            "1% edited (all files) / first sync",
            every.seconds / first.seconds,
            "(worst case, no target)",
            None,
        ),
        (
            f"time per model at {args.models:,} / at {small_models:,}",
            per_model_large / per_model_small,
            "<= 1.5",
            per_model_large / per_model_small <= 1.5,
        ),
    ]
    measures = [m for m in r.values() if isinstance(m, Measure)]
    peak = max(m.peak_mib for m in measures if not m.name.startswith(("per-row", "floor")))
    print(
        f"\n## {args.models:,} models in {args.files} files, "
        f"{'SQLite' if args.database_url.startswith('sqlite') else 'PostgreSQL'}, "
        f"{datetime.now(UTC):%Y-%m-%d}, median of {args.repeat}\n"
    )
    print("| step | seconds | model rows written | peak memory (MiB) |")
    print("|---|---:|---:|---:|")
    for m in measures:
        print(f"| {m.name} | {m.seconds:.2f} | {m.rows} | {m.peak_mib:.0f} |")
    print("\n| ratio | value | target | met |")
    print("|---|---:|---|---|")
    for name, value, target, met in ratios:
        print(f"| {name} | {value:.2f} | {target} | {_met(met)} |")
    print(
        f"| peak memory of any registry process | {peak:.0f} MiB | <= 1024 MiB | "
        f"{'yes' if peak <= 1024 else 'NO'} |"
    )
    noop_met = "yes" if noop.rows == "0" else "NO"
    print(f"| rows written by the no-op re-sync | {noop.rows} | 0 | {noop_met} |")
    print(
        f"| rows written after editing {r['edited_models']} models | {some.rows} | "
        f"{r['edited_models']} | {'yes' if some.rows == str(r['edited_models']) else 'NO'} |"
    )
    return {
        "models": args.models,
        "files": args.files,
        "measures": {
            m.name: {"seconds": m.seconds, "rows": m.rows, "peak_mib": m.peak_mib} for m in measures
        },
        "ratios": {name: value for name, value, _, _ in ratios},
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument(
        "--database-url",
        default="sqlite:///bench.db",
        help="a PostgreSQL server (databases are created and dropped), or sqlite:///",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measure; the median is reported"
    )
    parser.add_argument(
        "--baseline-repeat", type=int, default=1, help="runs of the slow per-row baseline"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.files > args.models:
        parser.error("--files must not exceed --models")
    result = bench(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
