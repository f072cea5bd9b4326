"""Inputs that once produced a traceback, a wrong exit code or a leaked secret."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    SHIPPED_DATA,
    SHIPPED_ROWS,
    XAI_MODELS,
    Cli,
    create_postgres_database,
    drop_postgres_database,
    dump_tables,
    model_block,
    replace_once,
)
from sqlalchemy import text
from typer.testing import CliRunner

from radiant_registry.cli import app
from radiant_registry.db import make_engine
from radiant_registry.errors import ConfigError
from radiant_registry.fetch import UNREADABLE
from radiant_registry.urls import parse_url, resolve_url, scrub


def test_json_log_of_a_sync_with_an_invalid_file(cli):
    replace_once(cli.data_dir / "providers" / "xai.yaml", "input_per_1m: 3.00", "input_per_1m: abc")
    result = cli("sync", "--yes", "--log-format", "json", data=True)
    assert result.exit_code == 65
    records = [json.loads(line) for line in result.stderr.splitlines()]
    errors = [r for r in records if r["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["file"].endswith("xai.yaml")
    assert errors[0]["message"] == "expected a number, got the string 'abc'"
    line = (cli.data_dir / "providers" / "xai.yaml").read_text().splitlines()[errors[0]["line"] - 1]
    assert "input_per_1m: abc" in line


def test_a_sqlite_path_with_an_at_sign(tmp_path, data_dir):
    from typer.testing import CliRunner

    from radiant_registry.cli import app

    url = f"sqlite:///{tmp_path / 'a@b.db'}"
    result = CliRunner().invoke(
        app, ["sync", "--yes", "-q", "--data-dir", str(data_dir), "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a@b.db").exists()


def test_a_password_without_a_user_name_is_kept_and_hidden():
    db = parse_url("postgresql://:s3cr3t@db.internal/registry", "test")
    assert (db.url.username, db.url.password) == (None, "s3cr3t")
    assert "s3cr3t" not in db.display and "s3cr3t" not in str(db)


def test_any_spelling_of_a_password_parameter_is_hidden():
    """?sslpassword= is a secret too; ?PASSWORD= is no libpq parameter (its names are lower
    case) and is refused by its name, its value a secret all the same."""
    db = parse_url("postgresql://u@h/db?sslpassword=k3y&sslmode=require", "t")
    assert "k3y" not in str(db) and "k3y" in db.secrets
    with pytest.raises(ConfigError) as refused:
        parse_url("postgresql://u@h/db?PASSWORD=s3cr3t&sslmode=require", "t")
    assert 'invalid connection option "PASSWORD"' in str(refused.value)
    assert "s3cr3t" not in str(refused.value)


def test_a_password_from_pgpassword_is_a_secret_too(monkeypatch):
    """libpq sends it where the URL has none: a server's error could quote it."""
    monkeypatch.setenv("PGPASSWORD", "Env-S3cr3t")
    db = parse_url("postgresql://u@h/db", "test")
    assert scrub(db, "bad password 'Env-S3cr3t'") == "bad password '***'"
    assert "Env-S3cr3t" not in parse_url("sqlite:///Env-S3cr3t.db", "test").secrets
    # libpq ignores it where the URL has a password: no text is hidden for nothing.
    assert "Env-S3cr3t" not in parse_url("postgresql://u:pw@h/db", "test").secrets


def test_a_password_in_the_query_string_is_hidden():
    db = parse_url("postgresql://u@h/db?password=s3cr3t&sslmode=require", "test")
    assert "s3cr3t" not in db.display
    assert db.url.password == "s3cr3t"
    assert db.url.query == {"sslmode": "require"}


@pytest.mark.parametrize(("url", "host", "password"), [
    ("postgresql://u:Sec?ret@Word9@db.internal/db", "db.internal", "Sec?ret@Word9"),
    ("postgresql://u:p?w@db.internal?sslmode=require", "db.internal", "p?w"),
    ("postgresql://u:pa/ss@db.internal/db?sslmode=require", "db.internal", "pa/ss"),
    ("postgresql://u:pw@db.internal/db?options=a@b", "db.internal", "pw"),
    ("postgresql://u:pw@db.internal?sslrootcert=/certs/a@b", "db.internal", "pw"),
])
def test_the_user_part_ends_at_the_last_at_sign_before_the_query(url, host, password):
    db = parse_url(url, "test")
    assert (db.url.host, db.url.password) == (host, password)
    assert password not in db.display


def test_an_ssl_key_password_is_hidden_like_the_password():
    db = parse_url("postgresql://u:pw@h/db?sslpassword=KeyPass123&sslmode=require", "test")
    assert db.display == "postgresql://u:***@h/db?sslmode=require&sslpassword=***"
    assert set(db.secrets) >= {"pw", "KeyPass123"}


@pytest.mark.parametrize("url", [
    "postgresql://u:Sec?ret@Word9@127.0.0.1:1/db",
    "postgresql://u@127.0.0.1:1/db?sslpassword=KeyPass123",
])
def test_secrets_of_odd_urls_are_never_shown(data_dir, url):
    result = CliRunner().invoke(app, [
        "sync", "--yes", "--log-format", "json", "--data-dir", str(data_dir),
        "--database-url", url,
    ])
    assert result.exit_code == 69, result.output
    for secret in ("Sec?ret", "Word9", "KeyPass123"):
        assert secret not in result.output
    assert "Connection refused" in result.output


def test_values_too_long_for_their_columns_are_refused_by_validate(cli):
    long_id = "p" * 65
    path = cli.data_dir / "providers" / "cohere.yaml"
    replace_once(path, "id: cohere", f"id: {long_id}")
    path.rename(path.with_name(f"{long_id}.yaml"))
    result = cli("validate", data=True, db=False)
    assert result.exit_code == 65
    assert "invalid provider id" in result.stdout


# ESC, CSI, NEL, NUL, line separator, right-to-left override
@pytest.mark.parametrize("escape", ["\\e[31m", "\\x9b31m", "\\N", "\\0", "\\L", "\\u202e"])
@pytest.mark.parametrize(("key", "old", "new"), [
    ("display_name", "display_name: Grok 3\n", 'display_name: "Grok {escape}3"\n'),
    ("auth_prefix", 'auth_prefix: "Bearer "\n', 'auth_prefix: "Bearer {escape}"\n'),
    ("source_url", "display_name: Grok 3\n",
     'display_name: Grok 3\n    source_url: "https://x.ai/{escape}"\n'),
])
def test_control_characters_in_text_that_is_shown_are_refused(cli, escape, key, old, new):
    """NUL too: PostgreSQL refuses it in text, so the sync would fail where validate passed."""
    path = cli.data_dir / "providers" / "xai.yaml"
    replace_once(path, old, new.format(escape=escape))
    result = cli("validate", data=True, db=False)
    assert result.exit_code == 65
    [problem] = result.stdout.splitlines()
    line = int(problem.split(":")[1])
    assert path.read_text().splitlines()[line - 1].strip().startswith(f"{key}:")
    # NEL and the line separator are spaces too, which no URL holds.
    url_space = key == "source_url" and escape in ("\\N", "\\L")
    expected = "invalid source_url" if url_space else "control characters are not allowed"
    assert expected in problem


@pytest.mark.parametrize(("text", "said"), [
    ("display_name: >\n      Grok 3\n", "got U+000A (a line break); if a '>' or '|' block: "
                                       "it keeps its last line break, '>-' and '|-' do not"),
    ("display_name: |\n      Grok\n      3\n", "got U+000A (a line break)"),  # not only the last
    ('display_name: "Grok\\t3"\n', "got U+0009 (a tab)"),
    ('display_name: "Grok\\e3"\n', "got U+001B (an escape)"),
    ('display_name: "Grok\\u202e3"\n', "got U+202E (right-to-left override)"),
])
def test_a_control_character_is_named(cli, text, said):
    path = cli.data_dir / "providers" / "xai.yaml"
    replace_once(path, "display_name: Grok 3\n", text)
    result = cli("validate", data=True, db=False)
    [problem] = result.stdout.splitlines()
    assert problem.endswith(f": control characters are not allowed, {said}")


def test_out_of_range_options_are_usage_errors(cli):
    assert cli.sync().exit_code == 0
    assert cli("history", "--limit", "99999999999999999999").exit_code == 64
    for seconds in ("inf", "nan", "-0.5", "3600.5", "3600.0000001", "-5"):
        result = cli("sync", "--yes", "--lock-timeout", seconds, data=True)
        assert result.exit_code == 64, seconds
        # The value, not rounded to the bound it exceeds (3600.0000001 is not 3600).
        assert f"seconds from 0 to 3600, not {seconds}" in " ".join(result.stderr.split())


def test_a_registry_loaded_for_some_providers_syncs_and_prunes_only_those(cli, data_dir):
    """The scope travels with the registry: a library caller cannot retire the others."""
    from radiant_registry import apply, db, loader, urls
    from radiant_registry.log import EventLog

    assert cli.sync().exit_code == 0
    before = dump_tables(cli.database_url)
    registry = loader.load_registry(data_dir, providers=["xai"])
    assert registry.scope == ("xai",)
    engine = db.make_engine(urls.resolve_url(cli.database_url))
    try:
        with engine.connect() as conn:
            options = apply.SyncOptions(prune=True, force=True)
            result = apply.sync(conn, registry, options, EventLog(quiet=True))
    finally:
        engine.dispose()
    assert result.applied and result.plan.summary["retire"] == 0
    after = dump_tables(cli.database_url)
    assert after["models"] == before["models"] and after["providers"] == before["providers"]
    [last, _] = json.loads(cli("history", "--format", "json").stdout)
    assert last["providers"] == ["xai"]


def test_declining_the_confirmation_writes_nothing(database_url, data_dir):
    from sqlalchemy import inspect

    from radiant_registry import apply, db, loader, urls
    from radiant_registry.log import EventLog

    registry = loader.load_registry(data_dir)
    engine = db.make_engine(urls.resolve_url(database_url))
    shown = []
    try:
        with engine.connect() as conn:
            result = apply.sync(
                conn,
                registry,
                apply.SyncOptions(),
                EventLog(quiet=True),
                confirm=lambda plan: shown.append(plan.summary) is not None,
            )
            assert result.applied is False
            assert shown == [{"create": SHIPPED_ROWS, "update": 0, "retire": 0, "unchanged": 0}]
            again = apply.preview(conn, registry, apply.SyncOptions())
            assert again.summary == shown[0]  # nothing was written
            # Not even the schema: the first sync creates it in its own transaction.
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def test_a_json_column_edited_into_invalid_json_is_a_database_error(tmp_path, data_dir):
    """SQLite keeps JSON as text, so a hand edit can break it (PostgreSQL's jsonb cannot)."""
    path = tmp_path / "registry.db"
    cli = Cli(f"sqlite:///{path}", data_dir)
    assert cli.sync().exit_code == 0

    def rows(table: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(path) as conn:
            return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()

    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE models SET capabilities = '[chat' "
            "WHERE provider_id = 'xai' AND model_id = 'grok-3'"
        )
    before = {table: rows(table) for table in ("providers", "models", "sync_runs")}
    for args in (("sync", "--yes", "--full"), ("diff", "--full"), ("list",), ("show", "grok-3")):
        result = cli(*args, data=args[0] in ("sync", "diff"))
        assert result.exit_code == 74, (args, result.output)
        assert "Expecting value" in result.stderr, (args, result.stderr)  # json's own words
    assert f"{UNREADABLE}: model xai/grok-3, capabilities: Expecting value" in cli(
        "sync", "--yes", "--full", data=True).stderr
    assert rows("providers") == before["providers"]
    assert rows("models") == before["models"]
    failed = rows("sync_runs")[len(before["sync_runs"]):]
    assert len(failed) == 2 and all("failed" in run for run in failed)

    # JSON that is not what a sync writes there, or too deep to read, is refused the same way.
    bad_tier = '[{"above_tokens": 1000, "input_per_1m": "abc", "output_per_1m": null}]'
    for column, value in (("capabilities", "null"), ("capabilities", '[1, "a"]'),
                          ("price_tiers", "[1]"), ("price_tiers", "[{}]"),
                          ("price_tiers", bad_tier), ("aliases", "[" * 100_000),
                          # The text of a good capabilities list, in the tiers column.
                          ("price_tiers", '["text"]'),
                          # A tier without its output price key: list and show read it.
                          ("price_tiers", '[{"above_tokens": 1000, "input_per_1m": "1"}]'),
                          ("price_tiers", '[{"above_tokens": 1000, "input_per_1m": "1", '
                                          '"output_per_1m": null, "extra": 1}]')):
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE models SET {column} = ? WHERE model_id = 'grok-3'", (value,))
        commands = (("diff", "--full"), ("list",), ("show", "xai/grok-3"))
        results = [cli(*args, data=args[0] == "diff") for args in commands]
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE models SET {column} = '[]' WHERE model_id = 'grok-3'")
        for (command, *_), result in zip(commands, results, strict=True):
            assert result.exit_code == 74, (value, result.output)
            # list and show: too deep for SQLAlchemy's own decoder, as it fetches, and
            # found again after.
            expected = f"{UNREADABLE}: model xai/grok-3, {column}"
            assert expected in result.stderr, (command, value, result.stderr)


def test_a_value_for_the_database_that_is_not_utf8_is_refused(cli, monkeypatch, tmp_path):
    """Python hands such bytes over as lone surrogates, which no database driver can send.
    Paths are another matter: a data folder whose name is not UTF-8 still works."""
    assert cli.sync().exit_code == 0
    for args in (("show", "gro\udcffk"), ("list", "--provider", "x\udcffai"),
                 ("disable", "gro\udcffk", "--reason", "r")):
        result = cli(*args)
        assert result.exit_code == 64, (args, result.output)
        assert "an argument for the database is not valid UTF-8" in result.stderr

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/lat\udce9.db")
    result = cli("list", db=False)
    assert result.exit_code == 78, result.output
    assert "the database URL from $DATABASE_URL is not valid UTF-8" in result.stderr


def test_a_data_folder_whose_name_is_not_utf8_works(data_dir, tmp_path):
    """A POSIX path is bytes: the folder is read, and its name printed escaped."""
    odd = tmp_path / "lat\udce9"
    shutil.copytree(data_dir, odd)
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = Path(sys.executable).parent / "registry"
    for argv in (["validate"], ["sync", "--yes", "--database-url", url],
                 ["diff", "--exit-code", "--database-url", url]):
        done = subprocess.run([registry, *argv, "--data-dir", odd], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        assert done.returncode == 0, (argv, done.stderr)


def test_output_an_encoding_cannot_hold_is_replaced_not_a_traceback(data_dir, tmp_path):
    """A terminal or cron mail in Latin-1, say, and a value it has no character for."""
    path = data_dir / "providers" / "xai.yaml"
    replace_once(path, "category: flagship  # 30.3", "category: \u65d7\u8230")
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = Path(sys.executable).parent / "registry"
    env = {"PATH": os.environ["PATH"], "PYTHONIOENCODING": "latin-1"}
    for argv, code in ((["validate"], 65), (["sync", "--yes", "--database-url", url], 65)):
        done = subprocess.run([registry, *argv, "--data-dir", data_dir], capture_output=True,
                              stdin=subprocess.DEVNULL, env=env, timeout=120)
        output = done.stdout + done.stderr
        assert done.returncode == code, (argv, output)
        assert b"got the string '\\u65d7\\u8230'" in output
        assert b"Traceback" not in output


def test_a_typed_column_edited_into_nonsense_is_a_database_error(tmp_path, data_dir):
    """SQLite keeps dates and decimals as text too."""
    path = tmp_path / "registry.db"
    cli = Cli(f"sqlite:///{path}", data_dir)
    assert cli.sync().exit_code == 0
    assert cli("price", "set", "grok-3", "--input", "2", "--reason", "r").exit_code == 0
    # Integers and text too: SQLite keeps text in an integer column, bytes in a text one.
    for column, value, valid in (("release_date", "yesterday", None),
                                 ("input_per_1m", "abc", "3.00"),
                                 ("context_window", "abc", 131072),
                                 ("max_output_tokens", 1.5, 8192),
                                 ("display_name", b"\xff", "Grok 3")):
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE models SET {column} = ? WHERE model_id = 'grok-3'", (value,))
        for args in (("diff", "--full"), ("list",), ("list", "--sort", column),
                     ("show", "xai/grok-3"), ("price", "list")):
            if args[0] == "price" and column != "input_per_1m":
                continue  # price list reads only prices
            if args[1:2] == ("--sort",) and column not in ("context_window", "max_output_tokens"):
                continue
            result = cli(*args, data=args[0] == "diff")
            assert result.exit_code == 74, (column, args, result.output)
            assert f"{UNREADABLE}: model xai/grok-3, {column}" in result.stderr, args
            if column == "input_per_1m":
                assert "'abc' is not a price" in result.stderr  # not decimal's own words
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE models SET {column} = ? WHERE model_id = 'grok-3'", (valid,))
    with sqlite3.connect(path) as conn:  # bytes where text belongs: read back by sqlite3
        conn.execute("UPDATE models SET capabilities = X'ff' WHERE model_id = 'grok-3'")
    for args in (("diff", "--full"), ("list",)):
        result = cli(*args, data=args[0] == "diff")
        assert result.exit_code == 74, (args, result.output)
        assert "the database holds a value its column cannot hold" in result.stderr
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE models SET capabilities = '[]' WHERE model_id = 'grok-3'")
        conn.execute("UPDATE sync_runs SET providers = '[oops'")
    result = cli("history")
    assert result.exit_code == 74, result.output
    assert f"{UNREADABLE}: sync run 1, providers: Expecting value" in result.stderr


def test_a_hint_that_cannot_be_worked_out_leaves_the_error_unhinted(tmp_path, data_dir):
    """A provider id edited by hand into bytes (SQLite keeps them) broke the "did you mean"
    of `show`, which then printed a traceback."""
    path = tmp_path / "registry.db"
    cli = Cli(f"sqlite:///{path}", data_dir)
    assert cli.sync().exit_code == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE models SET provider_id = CAST('xai' AS BLOB) "
                     "WHERE model_id = 'grok-3'")
    result = cli("show", "xai/grok-3")
    assert result.exit_code == 64, result.output
    assert result.stderr.splitlines()[-1] == "error: no model 'xai/grok-3' in the database"


@pytest.mark.parametrize(("column", "value"), [
    ("enabled", "false"), ("enabled", 2), ("is_novel", "no"), ("is_novel", 0.5),
])
def test_a_flag_edited_into_nonsense_is_a_database_error(tmp_path, data_dir, column, value):
    """SQLite keeps 'false' in a boolean column; read with bool() it would be true to the
    tool and false to SQL's `enabled IS 1`, which hides the model from `list`."""
    path = tmp_path / "registry.db"
    cli = Cli(f"sqlite:///{path}", data_dir)
    assert cli.sync().exit_code == 0
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE models SET {column} = ? WHERE model_id = 'grok-3'", (value,))
    for args in (("show", "xai/grok-3"), ("list", "--all"), ("diff", "--full"),
                 ("list",), ("list", "--novel"), ("list", "--not-novel"),
                 ("enable", "xai/grok-3")):
        if args[0] == "enable" and column != "enabled":
            continue  # it reads the switch only
        if args[1:] == ("--novel",) and column != "is_novel":
            continue  # grok-3 is not novel: rightly not read
        result = cli(*args, data=args[0] == "diff")
        assert result.exit_code == 74, (args, result.output)
        assert f"model xai/grok-3, {column}: {str(value)!r} is not a boolean" in result.stderr, args
    if column == "enabled":  # `providers` counts, reading no flag: the model is not lost
        providers = json.loads(cli("providers", "--format", "json").stdout)
        assert {p["id"]: p["models"] for p in providers}["xai"] == XAI_MODELS


@pytest.mark.parametrize("price", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "-2"])
def test_a_price_edited_into_no_price_is_a_database_error(tmp_path, data_dir, price):
    """SQLite keeps prices as text; a hand edit must not print NaN, nor crash a sort, nor
    serve a negative price."""
    path = tmp_path / "registry.db"
    cli = Cli(f"sqlite:///{path}", data_dir)
    assert cli.sync().exit_code == 0
    assert cli("price", "set", "grok-2", "--input", "2", "--reason", "r").exit_code == 0
    for table in ("models", "price_overrides"):
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE {table} SET input_per_1m = ? WHERE model_id = 'grok-2'", (price,))
        for args in (("list", "--format", "json"), ("list", "--sort", "input_price"),
                     ("show", "xai/grok-2"), ("price", "list"), ("diff", "--full")):
            if (table, args[0]) == ("price_overrides", "diff"):
                continue  # a plan reads which models have an override, not its prices
            result = cli(*args, data=args[0] == "diff")
            assert result.exit_code == 74, (table, args, result.output)
            row = "model" if table == "models" else "price override of model"
            assert f"{UNREADABLE}: {row} xai/grok-2, input_per_1m: " in result.stderr, args
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE {table} SET input_per_1m = '2' WHERE model_id = 'grok-2'")
    assert cli("list", "--format", "json").exit_code == 0


@pytest.mark.postgres
def test_a_nan_price_stored_in_postgresql_is_a_database_error(postgres_admin, data_dir):
    """PostgreSQL's numeric takes NaN, which no price is."""
    url = create_postgres_database(postgres_admin)
    try:
        cli = Cli(url, data_dir)
        assert cli.sync().exit_code == 0
        engine = make_engine(resolve_url(url))
        with engine.begin() as conn:
            conn.execute(text("UPDATE models SET output_per_1m = 'NaN' WHERE model_id = 'o1'"))
        engine.dispose()
        for args in (("list", "--format", "json"), ("list", "--sort", "output_price"),
                     ("show", "openai/o1")):
            result = cli(*args)
            assert result.exit_code == 74, (args, result.output)
            assert "model openai/o1, output_per_1m: 'NaN' is not a price" in result.stderr
    finally:
        drop_postgres_database(postgres_admin, url)


@pytest.mark.postgres
def test_jsonb_too_deep_to_decode_is_a_database_error_naming_its_row(postgres_admin, data_dir):
    """psycopg decodes JSONB itself: a hand edit nested past Python's recursion limit."""
    url = create_postgres_database(postgres_admin)
    deep = "(repeat('[', 5000) || repeat(']', 5000))::jsonb"
    try:
        cli = Cli(url, data_dir)
        assert cli.sync().exit_code == 0
        engine = make_engine(resolve_url(url))
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE models SET capabilities = {deep} WHERE model_id = 'o1'"))
            conn.execute(text(f"UPDATE sync_runs SET providers = {deep}"))
        engine.dispose()
        for args, place in ((("list", "--all"), "model openai/o1, capabilities"),
                            (("show", "openai/o1"), "model openai/o1, capabilities"),
                            (("history",), "sync run 1, providers")):
            result = cli(*args)
            assert result.exit_code == 74, (args, result.output)
            assert f"{UNREADABLE}: {place}: maximum recursion depth" in result.stderr, args
    finally:
        drop_postgres_database(postgres_admin, url)


@pytest.mark.parametrize("zero", ["-0.0", "0.0e+999999999999", "-0.0E+20"])
def test_a_zero_price_however_written_is_synced_as_zero(cli, zero):
    path = cli.data_dir / "providers" / "xai.yaml"
    block = model_block(path.read_text(), "grok-3")
    replace_once(path, block, block.replace("input_per_1m: 3.00", f"input_per_1m: {zero}"))
    assert cli.sync().exit_code == 0
    result = cli("show", "xai/grok-3", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.dumps(json.loads(result.stdout)["list_pricing"]["input_per_1m"]) in ("0", "0.0")
    assert cli("diff", data=True).exit_code == 0


def test_a_negative_zero_already_stored_in_sqlite_reads_as_zero(tmp_path, data_dir):
    """Written by an earlier version (or by hand): SQLite keeps the text "-0.0"."""
    path = tmp_path / "registry.db"
    cli = Cli(f"sqlite:///{path}", data_dir)
    assert cli.sync().exit_code == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE models SET cache_read_per_1m = '-0.0' WHERE model_id = 'grok-3'")
    result = cli("show", "xai/grok-3", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.dumps(json.loads(result.stdout)["list_pricing"]["cache_read_per_1m"]) == "0.0"


@pytest.mark.parametrize(("api_base", "valid"), [
    ("https://{resource}.openai.azure.com", True),
    ("https://api.example.com/{version}/chat", True),
    ("https://{a", False),  # a placeholder never closed
    ("https://a}.example.com", False),
    ("https://{}.example.com", False),  # a placeholder with no name
    # Host names: labels with "-" inside only, one dot between them.
    ("https://bedrock-runtime.{region}.amazonaws.com:8443/v1", True),
    ("https://a--b.example.com", True),
    ("https://-api.example.com", False),
    ("https://api-.example.com", False),
    ("https://api..example.com", False),
    ("https://.example.com", False),
    ("https://api.example.com.", False),
])
def test_api_base_placeholders_are_whole_names_in_braces(data_dir, api_base, valid):
    replace_once(data_dir / "providers" / "xai.yaml",
                 "api_base: https://api.x.ai/v1", f"api_base: {api_base}")
    result = Cli("sqlite:///unused.db", data_dir)("validate", data=True, db=False)
    assert result.exit_code == (0 if valid else 65), result.output
    assert ("invalid api_base" in result.stdout) is not valid


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
@pytest.mark.parametrize("host", ["a." * 240 + "-", "a-" * 240 + "!", "{a}-" * 120 + "!"])
def test_an_api_base_that_does_not_match_fails_in_linear_time(host):
    """Not a timing test: a host pattern that could match a label two ways took 2^240 steps
    on the first of these. The alarm only turns a hang into a failure."""
    from radiant_registry.schema import API_BASE

    def hung(signum, frame):
        raise AssertionError("the api_base pattern backtracks without bound")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        assert API_BASE.match(f"https://{host}") is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_type_error_hides_no_rule_across_fields_of_the_other_models(tmp_path):
    """One run reports every problem: the schema's, and the rules across fields and models
    of every model whose own values are well typed."""
    folder = tmp_path / "data"
    (folder / "providers").mkdir(parents=True)
    shutil.copy(SHIPPED_DATA / "capabilities.yaml", folder)
    model = (
        "  - id: {id}\n    display_name: {id}\n    context_window: 1000\n"
        "    max_output_tokens: {output}\n    is_novel: {novel}\n"
        "    pricing: {{input_per_1m: 1, output_per_1m: 2}}\n"
    )
    text = (
        "schema_version: 1\n"
        "provider: {id: acme, display_name: Acme, api_base: 'https://api.acme.example',"
        " auth_type: api_key}\n"
        "models:\n"
        + model.format(id="typo", output=2000, novel="maybe")  # a type error, and a rule broken
        + model.format(id="big", output=2000, novel="false")  # a rule broken
        + model.format(id="BIG", output=10, novel="false")  # the same id as another model
    )
    (folder / "providers" / "acme.yaml").write_text(text)
    result = CliRunner().invoke(app, ["validate", "--data-dir", str(folder), "--format", "json"])
    assert result.exit_code == 65
    lines = text.splitlines()

    def line(model_id: str, key: str) -> int:
        start = lines.index(f"  - id: {model_id}")
        return next(n for n in range(start, len(lines)) if lines[n].strip().startswith(key)) + 1

    assert [(p["line"], p["message"]) for p in json.loads(result.stdout)] == [
        (line("typo", "is_novel"), "expected true or false, got the string 'maybe'"),
        (line("big", "max_output_tokens"), "max_output_tokens 2000 exceeds context_window 1000"),
        (line("BIG", "- id"), "duplicate model id 'BIG' (differs only in case from 'big')"),
    ]


def test_a_column_dropped_by_hand_is_a_database_error_on_sqlite_as_on_postgresql(
    database_url, data_dir
):
    """A statement that fails is exit 74 on both; 69 is for a database that cannot be used."""
    cli = Cli(database_url, data_dir)
    assert cli.sync().exit_code == 0
    engine = make_engine(resolve_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP VIEW effective_model_prices"))
            conn.execute(text("ALTER TABLE models DROP COLUMN verified_at"))
    finally:
        engine.dispose()
    for args in (("list",), ("sync", "--yes", "--full")):
        result = cli(*args, data=args[0] == "sync")
        assert result.exit_code == 74, (args, result.output)
        assert "verified_at" in result.stderr


def test_a_huge_explicit_key_is_reported_cut_short(cli):
    key = "1:" * 50_000 + "1"
    replace_once(cli.data_dir / "providers" / "xai.yaml", "provider:\n",
                 f"provider:\n  ? {key}\n  : x\n")
    result = cli("validate", data=True, db=False)
    assert result.exit_code == 65, result.output
    [problem] = result.stdout.splitlines()
    line = 1 + (cli.data_dir / "providers" / "xai.yaml").read_text().splitlines().index(
        f"  ? {key}")
    assert problem.endswith(f"xai.yaml:{line}:5: unknown key {key[:40]!r}..."), problem


def test_text_edited_into_the_database_reaches_the_terminal_escaped(cli):
    """The files and admin commands keep control characters out; a row edited by hand (or
    written by another tool) may hold a terminal escape, which every output shows as text."""
    assert cli.sync().exit_code == 0
    assert cli("price", "set", "xai/grok-3", "--input", "1", "--reason", "deal").exit_code == 0
    assert cli("disable", "xai/grok-2", "--reason", "old").exit_code == 0
    escape = "\x1b[2J\u202e\n"
    engine = make_engine(resolve_url(cli.database_url))
    try:
        with engine.begin() as conn:
            for statement in (
                "UPDATE providers SET display_name = :v WHERE id = 'xai'",
                "UPDATE models SET category = :v WHERE model_id = 'grok-3'",
                "UPDATE price_overrides SET reason = :v",
                "UPDATE price_overrides SET set_by = :v",
                "UPDATE models SET switch_reason = :v WHERE model_id = 'grok-2'",
            ):
                conn.execute(text(statement), {"v": f"evil{escape}"})
    finally:
        engine.dispose()
    shown = "evil\\x1b[2J\\u202e\\x0a"
    for argv in (("providers",), ("price", "list"), ("show", "xai/grok-3"),
                 ("list", "--provider", "xai"), ("disable", "xai/grok-2", "--reason", "x")):
        result = cli(*argv)
        assert result.exit_code == 0, (argv, result.output)
        assert shown in result.output, argv
        assert "\x1b" not in result.output and "\u202e" not in result.output, argv
    engine = make_engine(resolve_url(cli.database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": escape})
    finally:
        engine.dispose()
    current = cli("db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.startswith("\\x1b[2J\\u202e\\x0a (unknown to this version")


@pytest.mark.parametrize("log", [(), ("--log-format", "json")])
def test_a_usage_error_that_echoes_a_database_url_hides_its_password(log):
    """`--provider $P` with an empty $P makes the URL a stray argument, which click names."""
    argv = ["sync", "--yes", *log, "--provider", "--database-url",
            "postgresql://u:s3cret@127.0.0.1/db?sslpassword=k3y"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 64, result.output
    assert "postgresql://u:***@127.0.0.1/db?sslpassword=***" in result.output
    assert "s3cret" not in result.output and "k3y" not in result.output


@pytest.mark.parametrize("log", [(), ("--log-format", "json")])
def test_an_unforeseen_error_is_one_line_exit_70_with_no_password(cli, monkeypatch, log):
    """A bug must not print a traceback (whose frames could hold the URL) into a cron log."""
    from radiant_registry import loader

    def broken(*args, **kwargs):
        raise RuntimeError("cannot reach postgresql://u:s3cret@db.internal/registry\nmore")

    monkeypatch.setattr(loader, "load_registry", broken)
    result = cli("sync", "--yes", *log, data=True)
    assert result.exit_code == 70, result.output
    message = ("unexpected error (RuntimeError: cannot reach postgresql://u:***@db.internal/"
               "registry); this is a bug in radiant-registry: please report it")
    last = result.stderr.splitlines()[-1]
    assert (json.loads(last)["message"] if log else last) == (message if log else
                                                              f"error: {message}")
    assert "Traceback" not in result.output and "s3cret" not in result.output


def test_a_json_log_stays_json_when_a_value_looks_like_a_password(cli):
    """Values are redacted one by one: redacting the JSON text took a value's closing quote
    and the comma after it along with `password=…`, and the line no longer parsed."""
    xai = cli.data_dir / "providers" / "xai.yaml"
    assert cli.sync().exit_code == 0
    url = "https://example.com/faq?password=reset"
    replace_once(xai, "  - id: grok-3\n", f"  - id: grok-3\n    source_url: {url}\n")
    result = cli("sync", "--yes", "--log-format", "json", data=True)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    change = next(r for r in records if r["event"] == "change")
    assert change["fields"]["source_url"] == {
        "old": None, "new": "https://example.com/faq?password=***"
    }


@pytest.mark.parametrize(
    ("typed", "secret"),
    [
        ("postgresql://u:s3cr3t w0rd@127.0.0.1/db", "s3cr3t w0rd"),
        ("postgresql://u:s3cr3t w0rd/x?y@127.0.0.1/db", "s3cr3t w0rd/x?y"),
        ("postgresql://u:s3cr3t@p4ss phr4se@127.0.0.1/db", "s3cr3t p4ss phr4se"),
        ("host=127.0.0.1 password='k3y ph4se' user=u", "k3y ph4se"),
        ("postgresql://my us3r:s3cr3t@127.0.0.1/db", "s3cr3t"),
        ("postgresql://srv@us3r:s3cr3t@127.0.0.1/db", "s3cr3t"),
        ("postgresql://u@127.0.0.1/db?password=p4ss w0rd", "p4ss w0rd"),
        ("postgresql://u@127.0.0.1/db?sslpassword=k3y ph4se&sslmode=require", "k3y ph4se"),
    ],
)
@pytest.mark.parametrize("log", [(), ("--log-format", "json")])
def test_a_stray_argument_hides_a_password_that_holds_spaces(log, typed, secret):
    result = CliRunner().invoke(app, ["sync", "--yes", *log, typed])
    assert result.exit_code == 64, result.output
    assert "unexpected extra argument" in result.output
    assert "***" in result.output
    for word in secret.split():
        assert word not in result.output
