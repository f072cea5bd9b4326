"""diff and sync end to end through the CLI, on SQLite and PostgreSQL.

Every test starts from the shipped registry files (SHIPPED_ROWS rows: providers and
models) and edits a copy of them the way a person would: by changing the YAML text.
"""

from __future__ import annotations

import json
import logging
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    SHIPPED_MODELS,
    SHIPPED_ROWS,
    Cli,
    create_postgres_database,
    drop_postgres_database,
    dump_tables,
    model_block,
    provider_path,
    replace_once,
)
from sqlalchemy import select, text, update

from radiant_registry.db import make_engine
from radiant_registry.errors import Stopped
from radiant_registry.tables import sync_runs
from radiant_registry.urls import resolve_url

NOTE = "list price changes, but an admin price override still masks it"
GROK_4 = """\
  - id: grok-4
    display_name: Grok 4
    context_window: 256000
    max_output_tokens: 16384
    pricing:
      input_per_1m: 3.00
      output_per_1m: 15.00
    capabilities: [chat, reasoning]
"""


# --- helpers -------------------------------------------------------------------------------


def edit(data_dir: Path, pid: str, old: str, new: str) -> None:
    """Replace `old`, which must occur exactly once in the provider's file, with `new`."""
    replace_once(provider_path(data_dir, pid), old, new)


def edit_model(data_dir: Path, pid: str, model_id: str, old: str, new: str) -> None:
    """Replace `old`, which must occur exactly once in the model's entry, with `new`."""
    path = provider_path(data_dir, pid)
    content = path.read_text()
    block = model_block(content, model_id)
    assert block.count(old) == 1, f"{old!r} occurs {block.count(old)} times in {model_id}"
    path.write_text(content.replace(block, block.replace(old, new)))


def remove_models(data_dir: Path, pid: str, *model_ids: str) -> None:
    for model_id in model_ids:
        path = provider_path(data_dir, pid)
        content = path.read_text()
        path.write_text(content.replace(model_block(content, model_id), ""))


def add_model(data_dir: Path, pid: str, block: str) -> None:
    path = provider_path(data_dir, pid)
    path.write_text(path.read_text() + block)


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def models_by_key(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    records = as_json(cli("list", "--format", "json", *args))
    return {f"{r['provider']}/{r['id']}": r for r in records}


def catalogue(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the log of sync runs."""
    tables = dump_tables(url)
    del tables["sync_runs"]
    return tables


def history(cli: Cli) -> list[dict[str, Any]]:
    return as_json(cli("history", "--format", "json"))


def execute(url: str, *statements: str) -> None:
    engine = make_engine(resolve_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


# --- diff ---------------------------------------------------------------------------------


def test_diff_shows_an_edit_field_by_field(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    edit(cli.data_dir, "xai", "display_name: Grok 3\n", "display_name: Grok 3 Beta\n")
    edit(cli.data_dir, "xai", "capabilities: [chat, reasoning, analysis, realtime_info]",
         "capabilities: [realtime_info, chat, analysis, reasoning, vision]")
    result = ok(cli("diff", data=True))
    assert result.stdout.splitlines() == [
        "~ update model xai/grok-3",
        "    display_name: Grok 3 -> Grok 3 Beta",
        "    input_per_1m: 3.00 -> 3.50",
        "    capabilities: [analysis, chat, realtime_info, reasoning] -> "
        "[analysis, chat, realtime_info, reasoning, vision]",
        f"Plan: 0 to create, 1 to update, 0 to retire, {SHIPPED_ROWS - 1} unchanged.",
    ]


def test_diff_shows_a_change_of_spaces_at_the_edges_of_a_text(cli):
    """`"Bearer "` -> `Bearer` breaks the header consumers build: it must read as a change."""
    ok(cli.sync())
    edit(cli.data_dir, "xai", 'auth_prefix: "Bearer "', "auth_prefix: Bearer")
    edit(cli.data_dir, "xai", "display_name: Grok 3\n", 'display_name: "Grok 3 "\n')
    result = ok(cli("diff", data=True))
    assert result.stdout.splitlines() == [
        "~ update provider xai",
        '    auth_prefix: "Bearer " -> Bearer',
        "~ update model xai/grok-3",
        '    display_name: Grok 3 -> "Grok 3 "',
        f"Plan: 0 to create, 2 to update, 0 to retire, {SHIPPED_ROWS - 2} unchanged.",
    ]
    ok(cli.sync())
    shown = ok(cli("show", "xai/grok-3")).stdout
    fields = [line.rstrip().split(None, 1) for line in shown.splitlines()]
    assert ["display_name", '"Grok 3 "'] in fields
    # A space that is not the plain one, a character that shows as nothing, a dash.
    edit(cli.data_dir, "xai", "auth_prefix: Bearer", 'auth_prefix: "Bearer\\u00a0"')
    edit(cli.data_dir, "xai", 'display_name: "Grok 3 "\n', 'display_name: "Grok 3\\u200b"\n')
    ok(cli.sync())
    edit(cli.data_dir, "xai", 'auth_prefix: "Bearer\\u00a0"', 'auth_prefix: "-"')
    result = ok(cli("diff", data=True))
    assert result.stdout.splitlines()[:2] == [
        "~ update provider xai",
        '    auth_prefix: "Bearer\\u00a0" -> "-"',
    ]
    shown = ok(cli("show", "xai/grok-3")).stdout
    fields = [line.rstrip().split(None, 1) for line in shown.splitlines()]
    assert ["display_name", '"Grok 3\\u200b"'] in fields


def test_diff_exit_code_is_2_with_changes_and_0_without(cli):
    assert cli("diff", "--exit-code", data=True).exit_code == 2  # brand-new database
    ok(cli.sync())
    result = cli("diff", "--exit-code", data=True)
    assert result.exit_code == 0, result.output
    unchanged = SHIPPED_ROWS
    assert result.stdout == f"Plan: 0 to create, 0 to update, 0 to retire, {unchanged} unchanged.\n"
    edit(cli.data_dir, "xai", "output_per_1m: 15.00", "output_per_1m: 15.0")  # same price
    assert cli("diff", "--exit-code", data=True).exit_code == 0
    edit(cli.data_dir, "xai", "output_per_1m: 15.0", "output_per_1m: 16")
    assert cli("diff", "--exit-code", data=True).exit_code == 2
    assert cli("diff", data=True).exit_code == 0  # without --exit-code, changes are no failure


def test_diff_json(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    edit(cli.data_dir, "xai", "display_name: Grok 2\n", "display_name: Grok 2 Legacy\n")
    add_model(cli.data_dir, "xai", GROK_4)
    remove_models(cli.data_dir, "xai", "grok-coder")
    result = cli("diff", "--format", "json", "--exit-code", data=True)
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout) == {
        "changes": [
            {"action": "update", "kind": "model", "key": "xai/grok-2",
             "fields": {"display_name": {"old": "Grok 2", "new": "Grok 2 Legacy"}}},
            {"action": "update", "kind": "model", "key": "xai/grok-3",
             "fields": {"input_per_1m": {"old": 3.0, "new": 3.5}}},
            {"action": "create", "kind": "model", "key": "xai/grok-4",
             "fields": {
                 "display_name": {"old": None, "new": "Grok 4"},
                 "model_type": {"old": None, "new": "chat"},
                 "category": {"old": None, "new": "general"},
                 "context_window": {"old": None, "new": 256000},
                 "max_output_tokens": {"old": None, "new": 16384},
                 "input_modalities": {"old": None, "new": ["text"]},
                 "output_modalities": {"old": None, "new": ["text"]},
                 "input_per_1m": {"old": None, "new": 3.0},
                 "output_per_1m": {"old": None, "new": 15.0},
                 "capabilities": {"old": None, "new": ["chat", "reasoning"]},
                 "is_novel": {"old": None, "new": False},
                 "status": {"old": None, "new": "active"},
             }},
            {"action": "retire", "kind": "model", "key": "xai/grok-coder", "fields": {}},
        ],
        "summary": {"create": 1, "update": 2, "retire": 1, "unchanged": SHIPPED_ROWS - 3},
    }


@pytest.mark.parametrize("output", ["table", "json"])
def test_diff_of_invalid_files_says_the_problems_on_stderr(cli, output):
    """A plan's reader finds the plan on stdout, or nothing: the problems are the error."""
    edit_model(cli.data_dir, "xai", "grok-3", "context_window: 131072", "context_window: lots")
    result = cli("diff", "--format", output, data=True)
    assert result.exit_code == 65, result.output
    assert result.stdout == ""
    where = str(provider_path(cli.data_dir, "xai"))
    if output == "json":
        # Beside the `Registry files:` line every command says
        [problem] = [json.loads(line) for line in result.stderr.splitlines() if line[0] == "{"]
        assert problem["error"] == "expected an integer, got the string 'lots'"
        assert problem["file"] == where and problem["line"] > 1 and problem["column"] > 1
    else:
        assert f"{where}:" in result.stderr and "expected an integer" in result.stderr


def test_force_without_prune_is_a_usage_error(cli):
    result = cli.sync("--force")
    assert result.exit_code == 64
    assert result.stderr.splitlines()[-1] == (
        "error: --force goes with --prune: pass both to allow a large prune"
    )
    assert "sync_runs" not in dump_tables(cli.database_url)  # refused before connecting


def test_diff_of_one_provider(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    edit(cli.data_dir, "anthropic", "display_name: Anthropic\n", "display_name: Anthropic PBC\n")
    plan = as_json(cli("diff", "--provider", "anthropic", "--format", "json", data=True))
    assert plan == {
        "changes": [{"action": "update", "kind": "provider", "key": "anthropic",
                     "fields": {"display_name": {"old": "Anthropic", "new": "Anthropic PBC"}}}],
        "summary": {"create": 0, "update": 1, "retire": 0, "unchanged": 4},
    }


# --- what writes nothing --------------------------------------------------------------------


def test_dry_run_writes_nothing(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    remove_models(cli.data_dir, "xai", "grok-2")
    before = dump_tables(cli.database_url)
    result = ok(cli("sync", "--dry-run", "--prune", data=True))  # no --yes needed
    assert result.stdout.splitlines() == [
        "~ update model xai/grok-3",
        "    input_per_1m: 3.00 -> 3.50",
        "- retire model xai/grok-2",
        f"Plan: 0 to create, 1 to update, 1 to retire, {SHIPPED_ROWS - 2} unchanged.",
    ]
    assert "Dry run: nothing written" in result.stderr
    assert dump_tables(cli.database_url) == before


def test_dry_run_predicts_a_prune_refusal_and_writes_nothing(cli):
    ok(cli.sync())
    remove_models(cli.data_dir, "xai", "grok-2", "grok-2-mini", "grok-coder")  # 3 of 10
    before = dump_tables(cli.database_url)
    result = cli("sync", "--dry-run", "--prune", data=True)
    assert result.exit_code == 65, result.output
    assert ("refusing to prune: xai retires 3 of its 10 models not yet retired. "
            "Re-run with --force if intended") in result.stderr
    forced = ok(cli("sync", "--dry-run", "--prune", "--force", data=True))
    assert forced.stdout.splitlines()[-1] == (
        f"Plan: 0 to create, 0 to update, 3 to retire, {SHIPPED_ROWS - 3} unchanged."
    )
    assert dump_tables(cli.database_url) == before  # not even a run in the history


def test_dry_run_on_a_brand_new_database_creates_not_even_the_schema(cli):
    result = ok(cli("sync", "--dry-run", data=True))
    last = result.stdout.splitlines()[-1]
    assert last == f"Plan: {SHIPPED_ROWS} to create, 0 to update, 0 to retire, 0 unchanged."
    assert dump_tables(cli.database_url) == {}


def test_sync_without_a_terminal_or_yes_exits_64_and_writes_nothing(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    before = dump_tables(cli.database_url)
    result = cli("sync", data=True)
    assert result.exit_code == 64
    assert result.stderr.splitlines()[-1] == (
        "error: no terminal to confirm on: pass --yes to apply without asking")
    assert result.stdout == ""
    assert dump_tables(cli.database_url) == before


@pytest.mark.parametrize(
    ("option", "shown_by"),
    [(("--quiet",), "--quiet"), (("--log-format", "json"), "--log-format json")],
)
def test_sync_that_shows_no_plan_asks_for_yes_not_a_confirmation(cli, option, shown_by):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    before = dump_tables(cli.database_url)
    result = cli("sync", *option, data=True)
    assert result.exit_code == 64
    assert f"{shown_by} shows no plan to confirm: pass --yes to apply it" in result.stderr
    assert dump_tables(cli.database_url) == before


def test_sync_without_yes_on_a_brand_new_database_creates_nothing(cli):
    result = cli("sync", "--log-format", "json", data=True)
    assert result.exit_code == 64
    [line] = result.stderr.splitlines()
    assert json.loads(line)["message"] == (
        "--log-format json shows no plan to confirm: pass --yes to apply it")
    assert dump_tables(cli.database_url) == {}


def test_invalid_files_exit_65_and_write_nothing(cli):
    ok(cli.sync())
    edit_model(cli.data_dir, "xai", "grok-2", "input_per_1m: 2.00", "input_per_1m: 2.25")  # valid
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: -3.00")  # invalid
    add_model(cli.data_dir, "xai", GROK_4)
    path = provider_path(cli.data_dir, "xai")
    line = path.read_text().splitlines().index("      input_per_1m: -3.00") + 1
    before = dump_tables(cli.database_url)
    result = cli.sync()
    assert result.exit_code == 65
    assert f"{path}:{line}:" in result.stderr
    assert "price must not be negative, got -3.00" in result.stderr
    assert dump_tables(cli.database_url) == before
    assert cli("diff", data=True).exit_code == 65


def test_sync_of_one_provider_leaves_the_others_alone(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    edit(cli.data_dir, "anthropic", "display_name: Anthropic\n", "display_name: Anthropic PBC\n")
    remove_models(cli.data_dir, "anthropic", "claude-3.5-haiku")
    ok(cli.sync("--provider", "xai", "--prune"))
    plan = as_json(cli("diff", "--format", "json", data=True))
    assert [(c["action"], c["key"]) for c in plan["changes"]] == [
        ("update", "anthropic"), ("retire", "anthropic/claude-3.5-haiku"),
    ]
    models = models_by_key(cli, "--all")
    assert models["xai/grok-3"]["list_pricing"]["input_per_1m"] == 3.5
    assert models["anthropic/claude-3.5-haiku"]["retired"] is False
    last = history(cli)[0]
    assert (last["outcome"], last["providers"]) == ("success", ["xai"])
    assert (last["created"], last["updated"], last["retired"], last["unchanged"]) == (0, 1, 0, 10)


# --- retire, prune, un-retire -------------------------------------------------------------


def test_a_model_removed_from_its_file_is_retired_only_with_prune_and_never_deleted(cli):
    ok(cli.sync())
    remove_models(cli.data_dir, "xai", "grok-2")
    result = ok(cli("diff", data=True))
    assert result.stdout.splitlines() == [
        "- retire model xai/grok-2  (missing from the files; left alone without --prune)",
        f"Plan: 0 to create, 0 to update, 1 to retire, {SHIPPED_ROWS - 1} unchanged.",
    ]
    edit(cli.data_dir, "xai", "display_name: Grok 3\n", "display_name: Grok 3 Beta\n")
    result = ok(cli.sync())
    assert result.stdout.splitlines() == [
        "~ update model xai/grok-3",
        "    display_name: Grok 3 -> Grok 3 Beta",
        "- retire model xai/grok-2  (missing from the files; left alone without --prune)",
        f"Plan: 0 to create, 1 to update, 1 to retire, {SHIPPED_ROWS - 2} unchanged.",
    ]
    assert history(cli)[0]["retired"] == 0
    assert models_by_key(cli, "--all")["xai/grok-2"]["retired"] is False
    assert "xai/grok-2" in models_by_key(cli)

    ok(cli.sync("--prune"))
    assert (history(cli)[0]["updated"], history(cli)[0]["retired"]) == (0, 1)
    everything = models_by_key(cli, "--all")
    assert len(everything) == SHIPPED_MODELS
    assert everything["xai/grok-2"]["retired"] is True
    assert everything["xai/grok-2"]["display_name"] == "Grok 2"
    assert "xai/grok-2" not in models_by_key(cli)
    assert len(models_by_key(cli)) == 30
    assert len(dump_tables(cli.database_url)["models"]) == SHIPPED_MODELS
    assert cli("diff", "--exit-code", data=True).exit_code == 0
    ok(cli.sync("--prune"))  # nothing left to do
    assert models_by_key(cli, "--all")["xai/grok-2"]["retired"] is True


def test_retiring_an_overridden_or_disabled_model_notes_that_it_keeps_that(cli):
    """A rename is a create and a retire: the plan says where the admin's override is."""
    ok(cli.sync())
    ok(cli("price", "set", "xai/grok-2", "--input", "1.50", "--reason", "deal"))
    edit(cli.data_dir, "xai", "- id: grok-2\n", "- id: grok-2-renamed\n")
    result = ok(cli("diff", data=True))
    lines = result.stdout.splitlines()
    retired = "- retire model xai/grok-2  (missing from the files; left alone without --prune)"
    retire = lines.index(retired)
    assert lines[retire + 1] == (
        "    note: has an admin price override, which stays with it: a model that replaces "
        "it starts at list price"
    )
    assert "+ create model xai/grok-2-renamed" in lines
    assert lines.count("    note: " + lines[retire + 1].removeprefix("    note: ")) == 1
    # A disable is the admin's too: the database says so, and the plan with it.
    ok(cli("disable", "xai/grok-2", "--reason", "broken"))
    lines = ok(cli("diff", data=True)).stdout.splitlines()
    assert lines[lines.index(retired) + 1] == (
        "    note: has an admin price override and is disabled, both of which stay with it: "
        "a model that replaces it starts at list price and enabled"
    )


def test_a_retired_model_put_back_in_its_file_is_unretired(cli):
    ok(cli.sync())
    original = provider_path(cli.data_dir, "xai").read_text()
    remove_models(cli.data_dir, "xai", "grok-2")
    ok(cli.sync("--prune"))
    assert models_by_key(cli, "--all")["xai/grok-2"]["retired"] is True
    provider_path(cli.data_dir, "xai").write_text(original)
    assert ok(cli("diff", data=True)).stdout.splitlines() == [
        "~ update model xai/grok-2",
        "    retired: True -> False",
        f"Plan: 0 to create, 1 to update, 0 to retire, {SHIPPED_ROWS - 1} unchanged.",
    ]
    plan = as_json(cli("diff", "--format", "json", data=True))
    assert plan["changes"] == [{"action": "update", "kind": "model", "key": "xai/grok-2",
                                "fields": {"retired": {"old": True, "new": False}}}]
    ok(cli.sync())
    assert models_by_key(cli, "--all")["xai/grok-2"]["retired"] is False
    assert "xai/grok-2" in models_by_key(cli)
    assert cli("diff", "--exit-code", data=True).exit_code == 0


def test_pruning_over_a_quarter_of_a_provider_needs_force(cli):
    ok(cli.sync())
    remove_models(cli.data_dir, "xai", "grok-2", "grok-2-mini", "grok-coder")  # 3 of 10
    before = catalogue(cli.database_url)
    result = cli.sync("--prune")
    assert result.exit_code == 65
    assert ("refusing to prune: xai retires 3 of its 10 models not yet retired. "
            "Re-run with --force if intended") in result.stderr
    assert catalogue(cli.database_url) == before
    ok(cli.sync())  # without --prune the retires are left alone, and that is allowed
    assert catalogue(cli.database_url) == before
    ok(cli.sync("--prune", "--force"))
    retired = sorted(k for k, r in models_by_key(cli, "--all").items() if r["retired"])
    assert retired == ["xai/grok-2", "xai/grok-2-mini", "xai/grok-coder"]


def test_pruning_exactly_a_quarter_of_a_provider_is_allowed(cli):
    ok(cli.sync())
    remove_models(cli.data_dir, "anthropic", "claude-3.5-haiku")  # 1 of 4
    ok(cli.sync("--prune"))
    assert models_by_key(cli, "--all")["anthropic/claude-3.5-haiku"]["retired"] is True


def test_pruning_a_whole_provider_file_needs_force(cli):
    ok(cli.sync())
    provider_path(cli.data_dir, "deepseek").unlink()
    before = catalogue(cli.database_url)
    result = cli.sync("--prune")
    assert result.exit_code == 65
    assert ("refusing to prune: deepseek retires the whole provider, with its 2 models. "
            "Re-run with --force if intended") in result.stderr
    assert catalogue(cli.database_url) == before
    ok(cli.sync("--prune", "--force"))
    providers = {p["id"]: p for p in as_json(cli("providers", "--format", "json"))}
    assert len(providers) == 16
    assert providers["deepseek"]["retired"] is True
    assert providers["deepseek"]["models"] == 0
    assert sum(p["retired"] for p in providers.values()) == 1
    everything = models_by_key(cli, "--all")
    assert [everything[k]["retired"] for k in ("deepseek/deepseek-v3", "deepseek/deepseek-r1")] == [
        True, True
    ]
    assert cli("diff", "--exit-code", data=True).exit_code == 0


# --- admin-owned state -----------------------------------------------------------------------


def test_an_override_of_one_price_notes_only_a_change_of_that_price(cli):
    """Which prices an override sets is read from the database, not assumed."""
    ok(cli.sync())
    ok(cli("price", "set", "xai/grok-3", "--output", "12.00", "--reason", "r"))
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.25")  # not overridden
    [change] = as_json(cli("diff", "--format", "json", data=True))["changes"]
    assert (change["key"], "note" in change) == ("xai/grok-3", False)
    ok(cli("price", "set", "xai/grok-3", "--input", "2.00", "--reason", "r"))  # now both
    [change] = as_json(cli("diff", "--format", "json", data=True))["changes"]
    assert change["note"] == NOTE


def test_a_price_override_survives_a_sync_that_changes_the_list_price(cli):
    ok(cli.sync())
    ok(cli("price", "set", "xai/grok-3", "--input", "2.50", "--output", "12.00", "--reason", "r",
           "--by", "tester"))
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.25")
    diff = ok(cli("diff", data=True)).stdout.splitlines()
    assert diff == [
        "~ update model xai/grok-3",
        "    input_per_1m: 3.00 -> 3.25",
        f"    note: {NOTE}",
        f"Plan: 0 to create, 1 to update, 0 to retire, {SHIPPED_ROWS - 1} unchanged.",
    ]
    assert as_json(cli("diff", "--format", "json", data=True))["changes"][0]["note"] == NOTE
    ok(cli.sync())
    grok3 = models_by_key(cli, "--provider", "xai")["xai/grok-3"]
    assert grok3["pricing"]["input_per_1m"] == 2.5
    assert grok3["pricing"]["output_per_1m"] == 12.0
    assert grok3["list_pricing"]["input_per_1m"] == 3.25
    assert grok3["list_pricing"]["output_per_1m"] == 15.0
    override = grok3["override"]
    assert (override["input_per_1m"], override["output_per_1m"], override["reason"],
            override["set_by"]) == (2.5, 12.0, "r", "tester")
    table = ok(cli("list", "--provider", "xai")).stdout
    assert any(line.split()[:6] == ["xai", "grok-3", "131,072", "8,192", "2.50*", "12.00*"]
               for line in table.splitlines())
    assert cli("diff", "--exit-code", data=True).exit_code == 0

    ok(cli("price", "clear", "xai/grok-3"))
    grok3 = models_by_key(cli, "--provider", "xai")["xai/grok-3"]
    assert grok3["override"] is None
    assert (grok3["pricing"]["input_per_1m"], grok3["pricing"]["output_per_1m"]) == (3.25, 15.0)
    assert as_json(cli("price", "list", "--format", "json")) == []


def test_a_disabled_model_stays_disabled_through_syncs_that_change_it(cli):
    ok(cli.sync())
    ok(cli("disable", "xai/grok-2", "--reason", "x"))
    ok(cli.sync())
    edit(cli.data_dir, "xai", "display_name: Grok 2\n", "display_name: Grok 2 Legacy\n")
    ok(cli.sync())
    edit_model(cli.data_dir, "xai", "grok-2", "input_per_1m: 2.00", "input_per_1m: 2.20")
    ok(cli.sync())
    ok(cli.sync("--prune"))
    grok2 = models_by_key(cli, "--all")["xai/grok-2"]
    assert (grok2["enabled"], grok2["switch_reason"], grok2["retired"]) == (False, "x", False)
    assert grok2["display_name"] == "Grok 2 Legacy"
    assert grok2["list_pricing"]["input_per_1m"] == 2.2
    assert "xai/grok-2" not in models_by_key(cli)
    xai = next(p for p in as_json(cli("providers", "--format", "json")) if p["id"] == "xai")
    assert xai["models"] == 9
    assert cli("diff", "--exit-code", data=True).exit_code == 0


# --- history and failures --------------------------------------------------------------------


def test_history_lists_runs_by_when_they_started(cli):
    """A sync records its run as it commits: one that ran long gets a later id than a run
    that started after it and failed meanwhile. History goes by start."""
    ok(cli.sync())
    remove_models(cli.data_dir, "xai", "grok-2", "grok-2-mini", "grok-coder")
    assert cli.sync("--prune").exit_code == 65  # run 2, failed
    engine = make_engine(resolve_url(cli.database_url))
    try:
        with engine.begin() as conn:  # run 1 as the long one: started after run 2
            runs = sync_runs.c
            started = conn.execute(select(runs.started_at).where(runs.id == 2)).scalar_one()
            conn.execute(update(sync_runs).where(runs.id == 1).values(
                started_at=started + timedelta(seconds=1)))
    finally:
        engine.dispose()
    assert [run["id"] for run in history(cli)] == [1, 2]


def test_history_records_successful_and_failed_runs(cli):
    ok(cli.sync())
    remove_models(cli.data_dir, "xai", "grok-2", "grok-2-mini", "grok-coder")
    assert cli.sync("--prune").exit_code == 65
    ok(cli.sync("--prune", "--force"))
    runs = history(cli)
    outcomes = [(r["id"], r["outcome"]) for r in runs]
    assert outcomes == [(3, "success"), (2, "failed"), (1, "success")]
    counts = [(r["created"], r["updated"], r["retired"], r["unchanged"]) for r in runs]
    assert counts == [(0, 0, 3, SHIPPED_ROWS - 3), (0, 0, 0, 0), (SHIPPED_ROWS, 0, 0, 0)]
    assert runs[1]["error"] == (
        "refusing to prune: xai retires 3 of its 10 models not yet retired. "
        "Re-run with --force if intended"
    )
    assert runs[0]["error"] is None and runs[2]["error"] is None
    assert runs[0]["files_sha256"] == runs[1]["files_sha256"] != runs[2]["files_sha256"]
    assert len(runs[0]["files_sha256"]) == 64
    table = ok(cli("history")).stdout
    assert "failed" in table and "refusing to prune" in table
    # A run limited to some providers says which, in the table as in JSON.
    ok(cli.sync("--provider", "xai", "--provider", "groq"))
    assert history(cli)[0]["providers"] == ["groq", "xai"]
    lines = ok(cli("history")).stdout.splitlines()
    assert lines[0].split()[:5] == ["id", "started_at", "outcome", "providers", "created"]
    assert lines[1].split()[2:5] == ["success", "groq,", "xai"]
    assert lines[2].split()[2:4] == ["success", "(all)"]


def install_failure(url: str, model_id: str) -> None:
    """A trigger that makes any insert or update of `model_id` fail."""
    if url.startswith("sqlite"):
        execute(url, *(
            f"CREATE TRIGGER inject_{when} BEFORE {when} ON models "
            f"WHEN NEW.model_id = '{model_id}' "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            for when in ("INSERT", "UPDATE")
        ))
    else:
        execute(
            url,
            "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.model_id = '{model_id}' THEN RAISE EXCEPTION 'injected failure'; "
            "END IF; RETURN NEW; END $$",
            "CREATE TRIGGER inject_failure BEFORE INSERT OR UPDATE ON models "
            "FOR EACH ROW EXECUTE FUNCTION inject_failure()",
        )


def remove_failure(url: str) -> None:
    if url.startswith("sqlite"):
        execute(url, "DROP TRIGGER inject_INSERT", "DROP TRIGGER inject_UPDATE")
    else:
        execute(url, "DROP TRIGGER inject_failure ON models", "DROP FUNCTION inject_failure()")


def test_a_failure_midway_leaves_the_database_exactly_as_it_was(cli):
    ok(cli.sync())
    ok(cli("disable", "xai/grok-2-mini", "--reason", "x"))
    ok(cli("price", "set", "xai/grok-2", "--input", "1.50", "--reason", "deal"))
    # Creates of a provider and a model, then updates before and after the failing one.
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3: fails
    add_model(cli.data_dir, "xai", GROK_4)
    edit(cli.data_dir, "xai", "display_name: Grok 2\n", "display_name: Grok 2 Legacy\n")
    edit(cli.data_dir, "xai", "display_name: Grok Realtime\n", "display_name: Grok Live\n")
    edit(cli.data_dir, "anthropic", "display_name: Anthropic\n", "display_name: Anthropic PBC\n")
    new_provider = provider_path(cli.data_dir, "deepseek").read_text().replace(
        "id: deepseek\n", "id: deepseek_two\n"
    )
    provider_path(cli.data_dir, "deepseek_two").write_text(new_provider)
    plan = as_json(cli("diff", "--format", "json", data=True))
    assert plan["summary"] == {"create": 4, "update": 4, "retire": 0, "unchanged": SHIPPED_ROWS - 4}
    install_failure(cli.database_url, "grok-3")
    before = dump_tables(cli.database_url)

    result = cli.sync()
    assert result.exit_code == 74, result.output
    assert "injected failure" in result.stderr

    after = dump_tables(cli.database_url)
    assert after.keys() == before.keys()
    for table in before:
        if table != "sync_runs":
            assert after[table] == before[table], table
    new_runs = [row for row in after["sync_runs"] if row not in before["sync_runs"]]
    assert len(after["sync_runs"]) == len(before["sync_runs"]) + 1 == 2
    assert len(new_runs) == 1 and "'failed'" in new_runs[0]
    last = history(cli)[0]
    assert (last["id"], last["outcome"], last["error"]) == (2, "failed", "injected failure")
    assert (last["created"], last["updated"], last["retired"], last["unchanged"]) == (0, 0, 0, 0)
    assert as_json(cli("diff", "--format", "json", data=True)) == plan

    remove_failure(cli.database_url)
    ok(cli.sync())
    assert history(cli)[0]["outcome"] == "success"
    assert cli("diff", "--exit-code", data=True).exit_code == 0
    models = models_by_key(cli, "--all")
    assert models["xai/grok-3"]["list_pricing"]["input_per_1m"] == 3.5
    assert models["xai/grok-2"]["pricing"]["input_per_1m"] == 1.5
    assert models["xai/grok-2-mini"]["enabled"] is False


def test_a_sync_ended_by_a_bug_is_recorded_as_failed(cli, monkeypatch):
    """Not only the errors foreseen: every sync that reached the database is in history,
    with no password its message may quote."""
    from radiant_registry import apply

    ok(cli.sync())
    edit(cli.data_dir, "xai", "display_name: Grok 2\n", "display_name: Grok 2 Legacy\n")
    before = dump_tables(cli.database_url)

    def bug(*args: Any) -> None:
        raise ValueError("a bug near postgresql://bob:hunter2@elsewhere/db")

    monkeypatch.setattr(apply, "_record_file_keys", bug)
    result = cli.sync()
    assert result.exit_code == 70, result.output
    said = "unexpected error (ValueError: a bug near postgresql://bob:***@elsewhere/db)"
    assert said in result.stderr
    after = dump_tables(cli.database_url)
    assert {t: rows for t, rows in after.items() if t != "sync_runs"} == {
        t: rows for t, rows in before.items() if t != "sync_runs"
    }
    last = history(cli)[0]
    assert (last["id"], last["outcome"], last["error"]) == (2, "failed", said)


@pytest.mark.postgres
def test_a_failed_run_records_its_error_without_the_password(postgres_admin, data_dir):
    """The error stored in sync_runs is scrubbed like every error shown (here a trigger's
    message that happens to hold the password; the server trusts any password)."""
    secret = "s3cr3t-Pa55"
    url = create_postgres_database(postgres_admin)
    try:
        cli = Cli(url.replace("postgres@", f"postgres:{secret}@"), data_dir)
        ok(cli.sync())
        edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
        execute(
            url,
            "CREATE FUNCTION leak() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION 'failed with {secret} in it'; END $$",
            "CREATE TRIGGER leak BEFORE UPDATE ON models FOR EACH ROW EXECUTE FUNCTION leak()",
        )
        result = cli.sync()
        assert result.exit_code == 74, result.output
        assert secret not in result.output
        [failed, _] = history(cli)
        assert (failed["outcome"], failed["error"]) == ("failed", "failed with *** in it")
    finally:
        drop_postgres_database(postgres_admin, url)


# Ctrl-C, and SIGTERM as the CLI turns it into an exception (systemd stop, timeout(1)).
INTERRUPTIONS = [
    pytest.param(KeyboardInterrupt, "interrupted (Ctrl-C)", 130, id="ctrl-c"),
    pytest.param(Stopped, "stopped (SIGTERM)", 143, id="sigterm"),
]


@pytest.mark.parametrize(("interruption", "said", "code"), INTERRUPTIONS)
def test_a_sync_stopped_by_ctrl_c_writes_nothing_and_is_recorded(
    cli, monkeypatch, interruption, said, code
):
    import radiant_registry.write

    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    before = dump_tables(cli.database_url)
    update = radiant_registry.write._update

    def interrupted_update(*args: Any) -> None:
        update(*args)  # the rows are written, then Ctrl-C before the commit
        raise interruption

    monkeypatch.setattr(radiant_registry.write, "_update", interrupted_update)
    result = cli.sync()
    assert result.exit_code == code, result.output
    assert result.stderr.rstrip().endswith(f"error: {said}")
    after = dump_tables(cli.database_url)
    runs = after.pop("sync_runs")
    assert after == {name: rows for name, rows in before.items() if name != "sync_runs"}
    assert len(runs) == len(before["sync_runs"]) + 1
    [failed, _] = history(cli)
    assert (failed["outcome"], failed["error"]) == ("failed", f"{said}: nothing written")


@pytest.mark.parametrize("where", ["_summary_text", "SyncResult"])
@pytest.mark.parametrize(("interruption", "said", "code"), INTERRUPTIONS)
def test_ctrl_c_after_the_commit_does_not_record_a_failed_run(
    cli, monkeypatch, interruption, said, code, where
):
    """The transaction has committed; the summary is next, then the result returned."""
    import radiant_registry.apply

    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise interruption

    monkeypatch.setattr(radiant_registry.apply, where, interrupted)
    result = cli.sync()
    assert result.exit_code == code, result.output
    assert f"{said} after the sync committed: its changes are applied (run 2)" in (
        result.stderr
    )
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.5
    assert [run["outcome"] for run in history(cli)] == ["success", "success"]


@pytest.mark.parametrize(("interruption", "said", "code"), [
    (KeyboardInterrupt(), "interrupted (Ctrl-C)", 130), (Stopped(), "stopped (SIGTERM)", 143),
])
def test_a_stop_as_the_connection_closes_after_the_commit_says_the_changes_are_in(
    cli, monkeypatch, interruption, said, code
):
    """The sync has returned; its database connection is being closed."""
    from sqlalchemy.engine import Engine

    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    dispose = Engine.dispose

    def interrupted_dispose(self: Any, *args: Any, **kwargs: Any) -> None:
        dispose(self, *args, **kwargs)
        raise interruption

    monkeypatch.setattr(Engine, "dispose", interrupted_dispose)
    result = cli.sync()
    monkeypatch.undo()
    assert result.exit_code == code, result.output
    assert result.stderr.splitlines()[-1] == (
        f"error: {said} after the sync committed: its changes are applied (run 2)")
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.5
    assert [run["outcome"] for run in history(cli)] == ["success", "success"]


def sync_interrupted_at_the_commit(cli: Cli, monkeypatch: Any, *, committed: bool) -> Any:
    """A sync of grok-3's input price edited, that Ctrl-C stops as its transaction block
    ends: once COMMIT has returned, or just before it, with the run id known."""
    from contextlib import contextmanager

    import radiant_registry.apply

    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    committing = radiant_registry.apply.write_transaction

    @contextmanager
    def interrupted(conn: Any) -> Any:
        with committing(conn):
            yield
            if not committed:
                raise KeyboardInterrupt
        raise KeyboardInterrupt

    monkeypatch.setattr(radiant_registry.apply, "write_transaction", interrupted)
    return cli.sync()


def test_ctrl_c_in_the_instant_after_the_commit_does_not_record_a_failed_run(cli, monkeypatch):
    """The interrupt lands once COMMIT has returned, before the sync has left its
    transaction block: the run's own row shows that its changes are in."""
    ok(cli.sync())
    result = sync_interrupted_at_the_commit(cli, monkeypatch, committed=True)
    assert result.exit_code == 130, result.output
    assert "interrupted (Ctrl-C) after the sync committed: its changes are applied (run 2)" in (
        result.stderr
    )
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.5
    assert [run["outcome"] for run in history(cli)] == ["success", "success"]


def test_a_sigterm_inside_a_write_statement_is_recorded_and_writes_nothing(cli, monkeypatch):
    """SIGTERM lands while the driver runs the models' UPDATE: SQLAlchemy closes that
    connection, whose statement the exception's frames still held, so on SQLite it kept its
    write lock and the failed run could not be recorded ("database is locked")."""
    from sqlalchemy import event

    import radiant_registry.db

    ok(cli.sync())
    before = dump_tables(cli.database_url)
    for model in ("grok-3", "grok-2"):
        edit_model(cli.data_dir, "xai", model, "input_per_1m: ", "input_per_1m: 1")
    making = radiant_registry.db._make_engine

    def make_engine_cut_short(*args: Any) -> Any:
        engine = making(*args)

        @event.listens_for(engine, "do_executemany")
        def cut_short(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
            if not statement.startswith("UPDATE models"):
                return False

            def rows() -> Any:
                yield parameters[0]
                raise Stopped  # SIGTERM, as interrupts.install makes it

            cursor.executemany(statement, rows())
            return True

        return engine

    monkeypatch.setattr(radiant_registry.db, "_make_engine", make_engine_cut_short)
    result = cli.sync("--log-format", "json")
    assert result.exit_code == 143, result.output
    events = json_log(result)
    assert not [e for e in events if e["event"] == "change"]  # only changes made are logged
    assert events[-1]["message"].startswith("stopped (SIGTERM)")
    after = dump_tables(cli.database_url)
    after.pop("sync_runs")
    assert after == {name: rows for name, rows in before.items() if name != "sync_runs"}
    [failed, _] = history(cli)
    assert (failed["outcome"], failed["error"]) == ("failed", "stopped (SIGTERM): nothing written")


def test_a_sigterm_while_the_commit_waits_for_a_reader_stops_the_sync(cli, monkeypatch):
    """SQLite's commit waits for readers of the file. A SIGTERM meanwhile is held back (a
    commit is never cut), and once the wait gives up it is what ends the run: 143 and
    "stopped", not 75 as if the stop had not been asked for."""
    import sqlite3

    from sqlalchemy import event

    import radiant_registry.db
    from radiant_registry import interrupts

    if not cli.database_url.startswith("sqlite"):
        pytest.skip("only SQLite's commit waits for the readers of a file")
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    making = radiant_registry.db._make_engine
    signalled = []

    def make_engine_signalled(*args: Any) -> Any:
        engine = making(*args)

        @event.listens_for(engine, "commit")
        def sigterm_as_it_commits(conn: Any) -> None:
            if interrupts._holding and not signalled:  # the sync's commit, held
                signalled.append(True)
                interrupts._on_signal(signal.SIGTERM, None)

        return engine

    monkeypatch.setattr(radiant_registry.db, "_make_engine", make_engine_signalled)
    reader = sqlite3.connect(cli.database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM models").fetchone()
        result = cli.sync("--lock-timeout", "0.5")
    finally:
        reader.close()
    assert signalled
    assert result.exit_code == 143, result.output
    assert result.stderr.splitlines()[-1] == "error: stopped (SIGTERM)"
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.0
    # The failed run could not be recorded either: the reader kept every commit waiting.
    assert [run["outcome"] for run in history(cli)] == ["success"]


def test_a_log_that_cannot_be_written_after_the_commit_says_the_changes_are_applied(
    cli, monkeypatch
):
    """The change events follow the commit: a full disk under the log, or its reader gone,
    is exit 74 then, and the message (where it can still be written) says the sync took."""
    import errno

    import radiant_registry.apply

    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3

    def disk_full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(radiant_registry.apply, "log_changes", disk_full)
    result = cli.sync("--log-format", "json")
    assert result.exit_code == 74, result.output
    assert json_log(result)[-1]["message"] == (
        "input/output error: No space left on device after the sync committed: its changes "
        "are applied (run 2)"
    )
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.5
    assert [run["outcome"] for run in history(cli)] == ["success", "success"]


def test_a_sigterm_once_the_sync_command_returned_says_the_changes_are_applied(cli):
    """SIGTERM lands as the committed command's objects are freed, after it returned: it
    said "stopped (SIGTERM)" alone, which reads as nothing written."""
    from typer.core import TyperGroup

    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    invoking = TyperGroup.invoke

    def invoke_then_stop(self: Any, ctx: Any) -> Any:
        invoking(self, ctx)
        raise Stopped

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(TyperGroup, "invoke", invoke_then_stop)
        result = cli.sync()
    assert result.exit_code == 143, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: stopped (SIGTERM) after the sync committed: its changes are applied (run 2)"
    )
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.5
    assert [run["outcome"] for run in history(cli)] == ["success", "success"]


def test_ctrl_c_once_the_run_is_recorded_but_before_the_commit_writes_nothing(cli, monkeypatch):
    """The body of the sync's transaction is done, its run id known; the commit is next.
    The interrupt rolls everything back, and the run is recorded as failed."""
    ok(cli.sync())
    before = dump_tables(cli.database_url)
    result = sync_interrupted_at_the_commit(cli, monkeypatch, committed=False)
    assert result.exit_code == 130, result.output
    assert "changes are applied" not in result.stderr
    after = dump_tables(cli.database_url)
    after.pop("sync_runs")
    assert after == {name: rows for name, rows in before.items() if name != "sync_runs"}
    [failed, _] = history(cli)
    assert (failed["outcome"], failed["error"]) == (
        "failed", "interrupted (Ctrl-C): nothing written"
    )


@pytest.mark.parametrize(("signum", "said", "code"), [
    (signal.SIGTERM, "stopped (SIGTERM)", 143), (signal.SIGINT, "interrupted (Ctrl-C)", 130),
])
def test_a_signal_during_the_commit_waits_for_its_end(cli, monkeypatch, signum, said, code):
    """Raised inside SQLAlchemy's commit, the interruption would turn a committed sync into
    a traceback; it is held back until the commit is done, and said as after the commit."""
    from sqlalchemy.engine import base

    import radiant_registry.runs
    from radiant_registry import interrupts

    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    recording, committing = radiant_registry.runs.record_run, base.RootTransaction._do_commit
    recorded: list[int] = []

    def record_run(*args: Any) -> int:
        recorded.append(recording(*args))
        return recorded[-1]

    def signalled_commit(self: Any) -> None:
        if recorded:  # the sync's own commit: the signal arrives as it starts
            recorded.clear()
            interrupts._on_signal(signum, None)
        committing(self)

    monkeypatch.setattr(radiant_registry.runs, "record_run", record_run)
    monkeypatch.setattr(base.RootTransaction, "_do_commit", signalled_commit)
    result = cli.sync()
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert f"{said} after the sync committed: its changes are applied (run 2)" in result.stderr
    assert models_by_key(cli)["xai/grok-3"]["pricing"]["input_per_1m"] == 3.5
    assert [run["outcome"] for run in history(cli)] == ["success", "success"]


def test_the_drivers_log_lines_stay_out_of_the_json_log(cli, monkeypatch):
    """When a statement fails inside psycopg's pipeline (an executemany), psycopg may log a
    second error it ignores while it cleans up ("error ignored terminating <Pipeline>"):
    it must not reach stderr as a bare line in the middle of the JSON log. (Whether psycopg
    logs it depends on timing, so the test logs it as psycopg does.)"""
    import radiant_registry.write

    # As in a real run, no handler on the root logger (pytest installs one to capture logs).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    update = radiant_registry.write._update

    def failing_update(*args: Any) -> None:
        logging.getLogger("psycopg").warning("error ignored terminating %s", "<Pipeline>")
        update(*args)

    monkeypatch.setattr(radiant_registry.write, "_update", failing_update)
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")  # grok-3
    install_failure(cli.database_url, "grok-3")

    result = cli("sync", "--yes", "--log-format", "json", data=True)
    assert result.exit_code == 74, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records[-1]["level"] == "error"
    assert "injected failure" in records[-1]["message"]


def test_a_failure_in_the_bulk_insert_of_new_models_is_a_failed_run(cli):
    """New rows go in through the driver (COPY, or executemany on SQLite); its errors are
    translated, recorded and rolled back like any other."""
    ok(cli.sync())
    add_model(cli.data_dir, "xai", GROK_4)
    install_failure(cli.database_url, "grok-4")
    before = dump_tables(cli.database_url)

    result = cli.sync()
    assert result.exit_code == 74, result.output
    assert "injected failure" in result.stderr
    assert "Traceback" not in result.output

    after = dump_tables(cli.database_url)
    assert {t: rows for t, rows in after.items() if t != "sync_runs"} == {
        t: rows for t, rows in before.items() if t != "sync_runs"
    }
    last = history(cli)[0]
    assert (last["outcome"], last["error"]) == ("failed", "injected failure")


# --- JSON logs ------------------------------------------------------------------------------


def json_log(result: Any) -> list[dict[str, Any]]:
    lines = result.stderr.splitlines()
    assert lines
    events = [json.loads(line) for line in lines]
    assert all(isinstance(event, dict) for event in events)
    return events


def test_json_log_has_a_start_event_one_event_per_change_and_a_summary(cli):
    first = cli.sync("--log-format", "json")  # a brand-new database: migrations run too
    assert first.exit_code == 0, first.output
    assert first.stdout == ""
    events = json_log(first)
    assert events[0]["event"] == "sync.start"
    assert len([e for e in events if e["event"] == "change"]) == SHIPPED_ROWS
    assert events[-1]["event"] == "sync.summary"
    assert (events[-1]["created"], events[-1]["unchanged"]) == (SHIPPED_ROWS, 0)

    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    add_model(cli.data_dir, "xai", GROK_4)
    result = cli.sync("--log-format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    events = json_log(result)
    assert events[0]["event"] == "sync.start"
    start = events[0]
    assert (start["dry_run"], start["prune"], start["providers"]) == (False, False, None)
    assert all({"ts", "level", "event", "message"} <= event.keys() for event in events)
    assert {event["level"] for event in events} == {"info"}
    changes = [e for e in events if e["event"] == "change"]
    assert [(c["action"], c["kind"], c["key"]) for c in changes] == [
        ("update", "model", "xai/grok-3"), ("create", "model", "xai/grok-4"),
    ]
    assert changes[0]["fields"] == {"input_per_1m": {"old": 3.0, "new": 3.5}}
    summary = events[-1]
    assert summary["event"] == "sync.summary"
    assert (summary["created"], summary["updated"], summary["retired"], summary["unchanged"]) == (
        1, 1, 0, SHIPPED_ROWS - 1
    )
    assert summary["run_id"] == 2
    assert summary["retire_pending"] == 0
    assert isinstance(summary["duration_s"], float) and 0 <= summary["duration_s"] < 60
    assert summary["message"].endswith(f" in {summary['duration_s']:.2f}s")  # one reading

    remove_models(cli.data_dir, "xai", "grok-2")
    result = cli.sync("--log-format", "json")
    summary = json_log(result)[-1]
    assert (summary["retired"], summary["retire_pending"]) == (0, 1)
    assert summary["message"].endswith("; 1 retire pending (--prune applies them)")


def test_a_dry_run_logs_the_change_events_the_sync_then_logs(cli):
    ok(cli.sync())
    edit(cli.data_dir, "xai", "input_per_1m: 3.00", "input_per_1m: 3.50")
    add_model(cli.data_dir, "xai", GROK_4)
    remove_models(cli.data_dir, "xai", "grok-2")  # a retire, pending without --prune
    dry = json_log(ok(cli("sync", "--dry-run", "--log-format", "json", data=True)))
    applied = json_log(ok(cli.sync("--log-format", "json")))

    def changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "ts"} for e in events if e["event"] == "change"]

    assert [(c["action"], c["key"]) for c in changes(dry)] == [
        ("update", "xai/grok-3"), ("create", "xai/grok-4")]
    assert changes(dry) == changes(applied)
    summary, done = dry[-1], applied[-1]
    assert (summary["event"], done["event"]) == ("sync.dry_run", "sync.summary")
    # The counts the sync then logs, under the same keys: the pending retire counted once.
    counts = ("created", "updated", "retired", "unchanged", "retire_pending")
    assert {k: summary[k] for k in counts} == {k: done[k] for k in counts}
    assert (summary["created"], summary["updated"], summary["retired"]) == (1, 1, 0)
    assert summary["retire_pending"] == 1


def test_json_log_of_a_failed_sync_ends_with_an_error_event(cli):
    ok(cli.sync())
    remove_models(cli.data_dir, "xai", "grok-2", "grok-2-mini", "grok-coder")
    result = cli.sync("--prune", "--log-format", "json")
    assert result.exit_code == 65
    events = json_log(result)
    assert events[0]["event"] == "sync.start"
    assert (events[-1]["level"], events[-1]["event"]) == ("error", "error")
    assert events[-1]["message"].startswith("refusing to prune: xai retires 3 of its 10")
    assert not [e for e in events if e["event"] in ("change", "sync.summary")]


def test_ctrl_c_while_reading_the_files_is_an_error_event_in_json_logs(cli, monkeypatch):
    import radiant_registry.loader

    def interrupted(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(radiant_registry.loader, "check_file", interrupted)
    result = cli.sync("--log-format", "json")
    assert result.exit_code == 130, result.output
    last = json.loads(result.stderr.splitlines()[-1])
    assert (last["level"], last["event"], last["message"]) == (
        "error", "error", "interrupted (Ctrl-C)"
    )
