"""Reading the catalogue back (list, show, providers) and the admin commands, on both databases.

Every test runs the real CLI against a real SQLite file and a real PostgreSQL database.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import re
import sqlite3
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    SHIPPED_MODELS,
    dump_tables,
    model_block,
    on_a_terminal,
    provider_path,
    replace_once,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from radiant_registry import layout, render
from radiant_registry.cli import app
from radiant_registry.errors import Stopped

NOVEL = {
    "anthropic/claude-4-opus-agents", "azure_openai/phi-4", "deepseek/deepseek-r1",
    "google/gemini-2.0-pro-exp", "google/gemini-2.0-ultra", "openai/gpt-4o-realtime",
    "openai/o1-pro", "together/llama-3.3-70b", "together/qwen-2.5-coder",
    "xai/grok-2-vision", "xai/grok-analyst", "xai/grok-coder", "xai/grok-realtime",
}
CATEGORY_NOVEL = NOVEL - {"xai/grok-2-vision", "xai/grok-analyst", "xai/grok-coder",
                          "xai/grok-realtime"}
VISION = {
    "anthropic/claude-4-opus", "anthropic/claude-4-sonnet", "google/gemini-2.0-flash",
    "google/gemini-2.0-pro", "google/gemini-2.0-ultra", "openai/gpt-4o", "openai/gpt-4o-mini",
    "xai/grok-2-vision",
}
XAI = {f"xai/{m}" for m in ("grok-2", "grok-2-mini", "grok-2-vision", "grok-3", "grok-3-fast",
                             "grok-3-mini", "grok-analyst", "grok-coder", "grok-embed",
                             "grok-realtime")}
# The keys of a model in a provider file (registry_data/providers/*.yaml).
YAML_MODEL_FIELDS = {
    "id", "display_name", "model_type", "category", "context_window", "max_output_tokens",
    "modalities", "pricing", "capabilities", "is_novel", "status", "release_date",
    "deprecation_date", "aliases", "source_url", "verified_at",
}
CSV_HEADER = ["provider", "id", "display_name", "model_type", "category", "context_window",
              "max_output_tokens", "input_per_1m", "output_per_1m", "overridden", "is_novel",
              "capabilities", "enabled", "retired"]


@pytest.fixture
def synced(cli: Any) -> Any:
    result = cli.sync()
    assert result.exit_code == 0, result.output
    return cli


def keys(records: list[dict[str, Any]]) -> set[str]:
    return {f"{r['provider']}/{r['id']}" for r in records}


def list_json(cli: Any, *args: str) -> list[dict[str, Any]]:
    result = cli("list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def show_json(cli: Any, model: str) -> dict[str, Any]:
    result = cli("show", model, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def detail(stdout: str) -> dict[str, str]:
    """`show`'s table as {label: value}: labels and values are separated by 2+ spaces."""
    pairs = (re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in stdout.splitlines())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def utc(text: str) -> datetime:
    """An ISO time from the CLI; the tool writes UTC, and SQLite hands it back without zone."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def assert_recent(text: str, before: datetime) -> None:
    assert before - timedelta(seconds=2) <= utc(text) <= datetime.now(UTC) + timedelta(seconds=2)


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_every_active_model(synced):
    records = list_json(synced)
    assert len(records) == SHIPPED_MODELS
    assert keys(records) >= XAI | NOVEL | VISION


def test_list_and_show_never_cut_a_value_short(cli, data_dir, monkeypatch):
    """A terminal too narrow for the table wraps its text; it never drops the end of a
    model id, a price or its override mark (rich's default cut them with "…")."""
    long_id = "accounts/acme/models/" + "q" * 150  # no other text here holds a q
    xai = provider_path(data_dir, "xai")
    block = model_block(xai.read_text(), "grok-3")
    xai.write_text(xai.read_text() + block.replace("id: grok-3\n", f"id: {long_id}\n"))
    assert cli.sync().exit_code == 0
    assert cli("price", "set", "xai/grok-3", "--input", "2.125", "--reason", "deal").exit_code == 0
    assert cli("disable", "xai/grok-2", "--reason", "broken").exit_code == 0
    remove = model_block(xai.read_text(), "grok-2")
    xai.write_text(xai.read_text().replace(remove, ""))
    assert cli.sync("--prune", "--force").exit_code == 0
    for columns in ("240", "100", "60"):
        monkeypatch.setenv("COLUMNS", columns)  # the output is piped: it sets the width
        listed = cli("list", "--provider", "xai", "--all")
        assert listed.exit_code == 0, listed.output
        assert "…" not in listed.stdout
        # Nor wider than the terminal (whose own wrapping would scramble the rows).
        assert max(len(line.rstrip()) for line in listed.stdout.splitlines()) <= int(columns)
        if columns != "60":  # narrower still, every text column wraps
            rows = [line.split() for line in listed.stdout.splitlines()]
            grok_3 = ["xai", "grok-3", "131,072", "8,192", "2.125*", "15.00"]
            assert grok_3 in [r[:6] for r in rows]
        # The id whole, if folded over lines: every one of its q's is there.
        assert listed.stdout.count("q") == 150
        if columns == "240":  # narrower, the state column wraps too
            assert "retired, disabled" in listed.stdout
        shown = cli("show", f"xai/{long_id}")
        assert shown.exit_code == 0 and "…" not in shown.stdout
        assert max(len(line.rstrip()) for line in shown.stdout.splitlines()) <= int(columns)


@pytest.mark.parametrize("columns", ["40", "5"])
def test_a_table_too_wide_for_the_terminal_is_printed_whole_and_wider(synced, monkeypatch, columns):
    """Below the width its numbers need (about 50 columns here), rich narrowed the text
    columns to nothing and printed the numbers alone. Now every word is there, in lines
    wider than the terminal, which wraps them."""
    monkeypatch.setenv("COLUMNS", columns)
    listed = synced("list", "--provider", "xai")
    assert listed.exit_code == 0, listed.output
    # Folded, a value runs down its column: count characters, not substrings.
    shown = Counter("".join(listed.stdout.split()))
    values = [
        value
        for record in list_json(synced, "--provider", "xai")
        for value in (record["provider"], record["id"], record["category"],
                      *record["capabilities"])
    ]
    assert shown >= Counter("".join(values) + "providermodelcategorycapabilities")
    assert max(len(line.rstrip()) for line in listed.stdout.splitlines()) > int(columns)


@pytest.mark.parametrize("size", ["\u00b2", "\u0668\u0660", "80x", "-5", ""])
def test_a_size_in_the_environment_that_is_no_plain_number_is_ignored(synced, monkeypatch, size):
    """`²` and Arabic-Indic digits pass `str.isdigit`, with which rich read them and then
    failed to convert them: a traceback. A piped table is then as wide as unset makes it."""
    monkeypatch.setenv("COLUMNS", size)
    monkeypatch.setenv("LINES", size)
    listed = synced("providers")
    assert listed.exit_code == 0, listed.output
    monkeypatch.delenv("COLUMNS", raising=False)  # the command unset it
    monkeypatch.delenv("LINES", raising=False)
    assert listed.stdout == synced("providers").stdout


def test_a_terminal_with_columns_0_gets_its_own_width(synced, monkeypatch):
    """rich took COLUMNS=0 on a terminal as a width of 0: one character a line."""
    import sys

    monkeypatch.setenv("COLUMNS", "0")
    registry = str(Path(sys.executable).parent / "registry")
    code, shown = on_a_terminal(
        [registry, "providers", "--database-url", synced.database_url], when=b"active"
    )
    assert code == 0, shown[-500:]
    rows = [line.split() for line in re.sub(rb"\x1b\[[0-9;]*m", b"", shown).splitlines()]
    assert [b"anthropic", b"Anthropic", b"api_key"] in [row[:3] for row in rows], shown[-500:]


# 漢字: two cells each. Columns all of them, or mixed, narrow differently in rich.
_WORDS = st.one_of(
    st.text(alphabet, min_size=1, max_size=15) for alphabet in ("abcxyz-/.,", "漢字", "ab漢字-")
)


@given(
    spec=st.lists(st.booleans(), min_size=1, max_size=10),
    header=st.lists(_WORDS, min_size=10, max_size=10),
    cells=st.lists(st.lists(st.lists(_WORDS, max_size=4), min_size=10, max_size=10), max_size=3),
    width=st.integers(1, 140),
)
@example(  # rich alone drew the third column one cell narrower than its 字 (seen in fuzzing)
    spec=[False, True, False, False],
    header=["zb-y.xa.-axa", "b漢,字za漢xz/c-y", "字字漢字字漢字漢字字漢漢字", "yc,xb.z.bax.,",
            *"abcdef"],
    cells=[],
    width=22,
)
@settings(max_examples=300, deadline=None)
def test_print_table_never_loses_a_character_at_any_width(spec, header, cells, width):
    """`spec` says which columns are no_wrap (numbers): the others fold their text."""
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name, no_wrap in zip(header, spec, strict=False):
        table.add_column(name, no_wrap=no_wrap, overflow="fold")
    rows = [[" ".join(words) for words in row[: len(spec)]] for row in cells]
    for row in rows:
        table.add_row(*row)
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, markup=False, emoji=False)
    layout.print_table(console, table)
    written = [*header[: len(spec)], *(cell for row in rows for cell in row)]
    assert len("".join(out.getvalue().split())) == len("".join("".join(written).split()))


def test_an_empty_list_notes_the_retired_or_disabled_models_that_match(synced):
    (synced.data_dir / "providers" / "perplexity.yaml").unlink()
    assert synced.sync("--prune", "--force").exit_code == 0
    assert synced("disable", "xai/grok-2", "--reason", "old").exit_code == 0
    pruned = synced("list", "--provider", "perplexity")
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.endswith("\n0 models\n")
    hidden = len(list_json(synced, "--all", "--provider", "perplexity"))
    assert hidden == 1
    assert "note: --all also lists 1 retired or disabled model" in pruned.stderr
    one = synced("list", "--provider", "xai", "--capability", "chat", "--category", "economy")
    assert "retired or disabled" not in one.stderr  # not empty: nothing to note
    assert "note: " not in synced("list", "--provider", "perplexity", "--all").stderr


def test_list_filters_by_provider_repeatable(synced):
    assert keys(list_json(synced, "--provider", "xai")) == XAI
    both = keys(list_json(synced, "--provider", "xai", "-p", "deepseek"))
    assert both == XAI | {"deepseek/deepseek-r1", "deepseek/deepseek-v3"}
    assert list_json(synced, "--provider", "bedrock") == []  # a provider without models
    table = synced("list", "--provider", "azure_openai")  # a provider with one model
    assert table.stdout.rstrip().endswith("\n1 model"), table.stdout


def test_an_empty_list_names_the_filter_nothing_in_the_database_has(synced):
    result = synced("list", "--capability", "visoin", "-p", "xia", "-p", "nosuch", "-p", "xia")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("0 models")
    assert [line for line in result.stderr.splitlines() if line.startswith("note:")] == [
        "note: no provider 'xia' in the database; did you mean 'xai'?",
        "note: no provider 'nosuch' in the database",
        "note: no model with the capability 'visoin' in the database; did you mean 'vision'?",
    ]
    # Filters the database knows, that match nothing together: no note.
    quiet = synced("list", "-p", "bedrock", "--capability", "vision")
    assert (quiet.exit_code, "note:" in quiet.stderr) == (0, False)


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--category", "flagshp", "--category: no category 'flagshp'; did you mean 'flagship'? "
                              "(one of flagship, balanced, economy, specialized, novel, general)"),
    ("--capability", "", "--capability must not be blank"),
    ("--capability", "  ", "--capability must not be blank"),
    ("--capability", "\u200b", "--capability must not be blank"),
])
def test_list_refuses_a_filter_that_could_only_match_nothing(synced, option, value, message):
    result = synced("list", option, value)
    assert result.exit_code == 64
    assert message in result.stderr


def test_list_filters_by_capability_category_and_novelty(synced):
    assert keys(list_json(synced, "--capability", "vision")) == VISION
    assert keys(list_json(synced, "--category", "novel")) == CATEGORY_NOVEL
    assert keys(list_json(synced, "--novel")) == NOVEL
    not_novel = list_json(synced, "--not-novel")
    assert len(not_novel) == SHIPPED_MODELS - len(NOVEL)
    assert keys(not_novel).isdisjoint(NOVEL)
    combined = list_json(synced, "--provider", "xai", "--novel", "--capability", "code")
    assert keys(combined) == {"xai/grok-coder"}


def test_list_filters_repeated_take_every_capability_and_any_category(synced):
    """A model has many capabilities and one category: `--capability chat --capability
    vision` narrows to models with both, `--category a --category b` widens to either."""
    everything = list_json(synced)
    with_both = {f"{r['provider']}/{r['id']}" for r in everything
                 if {"vision", "reasoning"} <= set(r["capabilities"])}
    assert set() < with_both < VISION
    assert keys(list_json(synced, "--capability", "vision", "--capability", "reasoning")) \
        == with_both
    either = {f"{r['provider']}/{r['id']}" for r in everything
              if r["category"] in ("economy", "flagship")}
    economy = keys(list_json(synced, "--category", "economy"))
    assert set() < economy < either
    assert keys(list_json(synced, "--category", "economy", "--category", "flagship")) == either
    typos = synced("list", "--capability", "visoin", "--capability", "chat",
                   "--capability", "resoning")
    assert [line for line in typos.stderr.splitlines() if line.startswith("note:")] == [
        "note: no model with the capability 'visoin' in the database; did you mean 'vision'?",
        "note: no model with the capability 'resoning' in the database; did you mean "
        "'reasoning'?",
    ]
    refused = synced("list", "--category", "economy", "--category", "flagshp")
    assert refused.exit_code == 64
    assert "--category: no category 'flagshp'" in refused.stderr


def test_list_sorts_by_effective_input_price(synced):
    records = list_json(synced, "--sort", "input_price")
    prices = [r["pricing"]["input_per_1m"] for r in records]
    assert prices == sorted(prices)
    assert [f"{r['provider']}/{r['id']}" for r in records[:3]] == [
        "azure_openai/phi-4", "google/gemini-2.0-flash", "xai/grok-embed"]
    assert prices[:3] == [0.07, 0.075, 0.1]
    assert (records[-1]["provider"], records[-1]["id"]) == ("openai", "o1-pro")
    # The sort uses the effective price: an override moves the model.
    deal = synced("price", "set", "openai/o1-pro", "--input", "0.01", "--reason", "deal")
    assert deal.exit_code == 0
    first = list_json(synced, "--sort", "input_price")[0]
    assert (first["provider"], first["id"], first["pricing"]["input_per_1m"]) == (
        "openai", "o1-pro", 0.01)


@pytest.mark.parametrize("field", ["context_window", "max_output_tokens", "id", "category"])
def test_list_sorts_by_field(synced, field):
    values = [r[field] for r in list_json(synced, "--sort", field)]
    assert len(values) == SHIPPED_MODELS
    assert values == sorted(values)


def test_list_sorts_ids_whatever_their_case(cli):
    """`Grok-Zeta` among the grok- models, not before every lowercase id ('G' < 'a')."""
    path = cli.data_dir / "providers" / "xai.yaml"
    block = model_block(path.read_text(), "grok-3")
    replace_once(path, block, block + block.replace("id: grok-3", "id: Grok-Zeta"))
    assert cli.sync().exit_code == 0
    ids = [r["id"] for r in list_json(cli, "--sort", "id")]
    assert ids == sorted(ids, key=str.casefold)
    assert ids[ids.index("Grok-Zeta") - 1].startswith("grok-")


def test_list_sort_by_output_price_puts_embedding_without_output_price_first(synced):
    records = list_json(synced, "--sort", "output_price")
    assert (records[0]["provider"], records[0]["id"], records[0]["pricing"]["output_per_1m"]) == (
        "xai", "grok-embed", None)
    outputs = [r["pricing"]["output_per_1m"] for r in records[1:]]
    assert outputs == sorted(outputs)


def test_list_rejects_an_unknown_sort_field_with_usage_exit(synced):
    result = synced("list", "--sort", "price")
    assert result.exit_code == 64
    assert "cannot sort by 'price'" in result.stderr
    assert "input_price" in result.stderr
    assert result.stdout == ""


def test_list_json_has_yaml_fields_state_and_prices_as_numbers(synced):
    records = {f"{r['provider']}/{r['id']}": r for r in list_json(synced)}
    grok = records["xai/grok-3"]
    assert set(grok) >= YAML_MODEL_FIELDS | {"provider", "enabled", "retired", "list_pricing",
                                             "override", "pricing"}
    assert grok["provider"] == "xai"
    assert grok["display_name"] == "Grok 3"
    assert grok["category"] == "flagship"
    assert grok["context_window"] == 131072
    assert grok["max_output_tokens"] == 8192
    assert grok["modalities"] == {"input": ["text"], "output": ["text"]}
    assert grok["capabilities"] == ["analysis", "chat", "realtime_info", "reasoning"]
    assert grok["is_novel"] is False
    assert grok["enabled"] is True
    assert grok["retired"] is False
    assert grok["override"] is None
    assert grok["list_pricing"]["input_per_1m"] == 3.0
    assert grok["list_pricing"]["output_per_1m"] == 15.0
    assert grok["pricing"]["input_per_1m"] == 3.0
    assert grok["pricing"]["output_per_1m"] == 15.0
    for record in records.values():
        assert isinstance(record["pricing"]["input_per_1m"], int | float)
        assert isinstance(record["list_pricing"]["input_per_1m"], int | float)
    flash = records["google/gemini-2.0-flash"]["pricing"]
    assert (flash["input_per_1m"], flash["output_per_1m"]) == (0.075, 0.3)
    assert records["xai/grok-embed"]["pricing"]["output_per_1m"] is None


def test_list_json_shows_the_override_and_effective_price(synced):
    result = synced("price", "set", "xai/grok-3", "--input", "2.5", "--reason", "negotiated",
                    "--by", "alice")
    assert result.exit_code == 0, result.output
    grok = {r["id"]: r for r in list_json(synced, "--provider", "xai")}["grok-3"]
    assert grok["list_pricing"]["input_per_1m"] == 3.0
    assert grok["pricing"]["input_per_1m"] == 2.5
    assert grok["pricing"]["output_per_1m"] == 15.0  # not overridden: the list price
    override = grok["override"]
    assert {k: override[k] for k in ("input_per_1m", "output_per_1m", "reason", "set_by")} == {
        "input_per_1m": 2.5, "output_per_1m": None, "reason": "negotiated", "set_by": "alice"}
    table = synced("list", "--provider", "xai")
    assert table.exit_code == 0
    line = next(row for row in table.stdout.splitlines() if " grok-3 " in row)
    assert "2.50*" in line  # the overridden input price is marked, the list output price not
    assert " 15.00 " in f"{line} " and "15.00*" not in line
    assert "(* = admin price override, 1)" in table.stdout


def test_list_csv_parses_with_the_csv_module(synced):
    result = synced("list", "--format", "csv", "--all")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == CSV_HEADER
    rows = {f"{r['provider']}/{r['id']}": r for r in reader}
    assert len(rows) == SHIPPED_MODELS
    grok = rows["xai/grok-3"]
    assert (grok["display_name"], grok["context_window"], grok["max_output_tokens"]) == (
        "Grok 3", "131072", "8192")
    # The same text on both databases (PostgreSQL's Numeric(20,10) is not shown as 3.0000000000).
    assert (grok["input_per_1m"], grok["output_per_1m"]) == ("3.00", "15.00")
    assert rows["google/gemini-2.0-flash"]["input_per_1m"] == "0.075"
    assert rows["xai/grok-embed"]["output_per_1m"] == ""
    assert grok["capabilities"] == "analysis chat realtime_info reasoning"
    assert (grok["overridden"], grok["is_novel"], grok["enabled"], grok["retired"]) == (
        "False", "False", "True", "False")
    assert rows["openai/o1-pro"]["is_novel"] == "True"


def test_list_all_includes_disabled_and_retired_models(synced, data_dir: Path):
    assert synced("disable", "xai/grok-2", "--reason", "superseded").exit_code == 0
    (data_dir / "providers" / "perplexity.yaml").unlink()
    pruned = synced.sync("--prune", "--force")
    assert pruned.exit_code == 0, pruned.output

    active = keys(list_json(synced))
    assert len(active) == SHIPPED_MODELS - 2
    assert "xai/grok-2" not in active
    assert "perplexity/perplexity-sonar-pro" not in active

    everything = {f"{r['provider']}/{r['id']}": r for r in list_json(synced, "--all")}
    assert len(everything) == SHIPPED_MODELS
    grok = everything["xai/grok-2"]
    assert (grok["enabled"], grok["retired"]) == (False, False)
    sonar = everything["perplexity/perplexity-sonar-pro"]
    assert (sonar["enabled"], sonar["retired"]) == (True, True)

    table = synced("list", "--all", "--provider", "xai", "--provider", "perplexity")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert next(x for x in lines if " grok-2 " in x).rstrip().endswith("disabled")
    assert next(x for x in lines if "perplexity-sonar-pro" in x).rstrip().endswith("retired")
    assert next(x for x in lines if " grok-3 " in x).rstrip().endswith("active")


# --- show ---------------------------------------------------------------------------------------


def test_show_by_key_and_by_bare_model_id(synced):
    by_key = show_json(synced, "xai/grok-3")
    assert show_json(synced, "grok-3") == by_key
    assert (by_key["provider"], by_key["id"], by_key["display_name"]) == ("xai", "grok-3", "Grok 3")
    assert by_key["pricing"]["input_per_1m"] == 3.0
    assert by_key["switched_by"] is None

    table = synced("show", "grok-3")
    assert table.exit_code == 0, table.output
    rows = detail(table.stdout)
    assert rows["provider"] == "xai"
    assert rows["display_name"] == "Grok 3"
    assert rows["context_window"] == "131072"
    assert rows["capabilities"] == "[analysis, chat, realtime_info, reasoning]"
    assert (rows["list input_per_1m"], rows["list output_per_1m"]) == ("3.00", "15.00")
    assert (rows["effective input_per_1m"], rows["effective output_per_1m"]) == ("3.00", "15.00")
    assert "override" not in rows


def test_provider_slash_model_wins_over_another_models_own_id_and_says_so(cli, data_dir):
    """Groq sells models whose own id has a slash (openai/gpt-oss-120b): such an id may
    read as another provider's key. The key wins, as it is the only name some models have,
    and the command says how to name the other one."""
    mistral = provider_path(data_dir, "mistral")
    block = model_block(provider_path(data_dir, "xai").read_text(), "grok-3")
    mistral.write_text(
        mistral.read_text() + block.replace("id: grok-3", "id: xai/grok-3").replace(
            "Grok 3", "Grok 3 on Mistral"
        )
    )
    assert cli.sync().exit_code == 0
    note = "note: 'xai/grok-3' is also the id of a model of mistral; name it mistral/xai/grok-3"

    disabled = cli("disable", "xai/grok-3", "--reason", "r", "--by", "ops")
    assert disabled.exit_code == 0, disabled.output
    assert note in disabled.stderr and "Disabled xai/grok-3" in disabled.stderr
    shown = cli("show", "xai/grok-3", "--format", "json")
    assert json.loads(shown.stdout)["display_name"] == "Grok 3"
    assert note in shown.stderr
    other = cli("show", "mistral/xai/grok-3", "--format", "json")
    assert json.loads(other.stdout)["display_name"] == "Grok 3 on Mistral"
    assert "note:" not in other.stderr
    states = {(r["provider"], r["id"]): r["enabled"] for r in list_json(cli, "--all")}
    assert (states[("xai", "grok-3")], states[("mistral", "xai/grok-3")]) == (False, True)
    # Clearing an override the other model has: the error names it, as no note follows.
    price = ("--input", "1", "--reason", "deal")
    assert cli("price", "set", "mistral/xai/grok-3", *price).exit_code == 0
    cleared = cli("price", "clear", "xai/grok-3")
    assert cleared.exit_code == 64, cleared.output
    assert cleared.stderr.splitlines()[-1] == (
        "error: xai/grok-3 has no price override; 'xai/grok-3' is also the id of a model of "
        "mistral, named mistral/xai/grok-3"
    )


def test_a_model_id_two_providers_sell_must_be_named_with_its_provider(cli, data_dir):
    mistral = provider_path(data_dir, "mistral")
    grok_3 = model_block(provider_path(data_dir, "xai").read_text(), "grok-3")
    original = mistral.read_text()
    mistral.write_text(original + grok_3.replace("Grok 3", "Grok 3 on Mistral"))
    assert cli.sync().exit_code == 0

    bare = cli("show", "grok-3")
    assert bare.exit_code == 64
    assert "'grok-3' is sold by several providers; name one: mistral/grok-3, xai/grok-3" in (
        bare.stderr
    )
    assert show_json(cli, "mistral/grok-3")["display_name"] == "Grok 3 on Mistral"
    assert show_json(cli, "xai/grok-3")["display_name"] == "Grok 3"

    # Once one provider no longer sells it, the choice says which.
    mistral.write_text(original)
    assert cli.sync("--prune", "--force").exit_code == 0
    bare = cli("show", "grok-3")
    assert bare.exit_code == 64
    assert "name one: xai/grok-3, mistral/grok-3 (retired)" in bare.stderr


def test_show_with_override_shows_list_and_effective_price_and_reason(synced):
    assert synced("price", "set", "grok-3", "--input", "2.50", "--output", "12",
                  "--reason", "negotiated rate", "--by", "carol").exit_code == 0
    record = show_json(synced, "xai/grok-3")
    assert record["list_pricing"]["input_per_1m"] == 3.0
    assert (record["pricing"]["input_per_1m"], record["pricing"]["output_per_1m"]) == (2.5, 12.0)
    override = record["override"]
    assert (override["reason"], override["set_by"]) == ("negotiated rate", "carol")
    rows = detail(synced("show", "xai/grok-3").stdout)
    assert rows["override"].startswith("input 2.50, output 12.00: negotiated rate (carol, ")
    assert (rows["list input_per_1m"], rows["effective input_per_1m"]) == ("3.00", "2.50")
    assert rows["effective output_per_1m"] == "12.00"
    # One side overridden: the other is served at its list price, not shown as "-" (none).
    assert synced("price", "set", "grok-2", "--input", "1.50", "--reason", "trial").exit_code == 0
    one_sided = detail(synced("show", "xai/grok-2").stdout)["override"]
    assert one_sided.startswith("input 1.50, output list price: trial (")
    listed = [line.split() for line in synced("price", "list").stdout.splitlines()]
    assert ["xai", "grok-2", "1.50", "list", "price", "2.00", "10.00"] in [
        row[:7] for row in listed
    ]


@pytest.mark.parametrize(("typed", "suggested"), [("xai/grok-33", "xai/grok-3"),
                                                   ("grok-3-minii", "grok-3-mini")])
def test_show_unknown_model_exits_64_with_did_you_mean(synced, typed, suggested):
    result = synced("show", typed)
    assert result.exit_code == 64
    assert f"no model '{typed}'" in result.stderr
    assert f"did you mean '{suggested}'" in result.stderr
    assert result.stdout == ""


# --- providers ----------------------------------------------------------------------------------


def test_providers_lists_16_with_auth_type_api_base_and_model_count(synced):
    result = synced("providers", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert len(rows) == 16
    assert rows["xai"] == {"id": "xai", "display_name": "xAI (Grok)", "auth_type": "api_key",
                           "api_base": "https://api.x.ai/v1", "models": 10, "retired": False}
    assert (rows["bedrock"]["auth_type"], rows["bedrock"]["models"]) == ("iam", 0)
    assert rows["vertex_ai"]["auth_type"] == "service_account"
    assert rows["vertex_ai"]["api_base"] == "https://{location}-aiplatform.googleapis.com"
    assert rows["openai"]["models"] == 5
    assert sum(row["models"] for row in rows.values()) == SHIPPED_MODELS

    table = synced("providers")
    assert table.exit_code == 0
    xai_line = next(line for line in table.stdout.splitlines() if line.startswith("xai "))
    assert xai_line.split() == [
        "xai", "xAI", "(Grok)", "api_key", "https://api.x.ai/v1", "10", "active"
    ]


def test_providers_table_shows_a_provider_retired_by_prune(synced):
    provider_path(synced.data_dir, "deepseek").unlink()
    assert synced.sync("--prune", "--force").exit_code == 0
    table = synced("providers")
    assert table.exit_code == 0
    line = next(line for line in table.stdout.splitlines() if line.startswith("deepseek "))
    assert line.split()[-2:] == ["0", "retired"]


def test_providers_count_only_enabled_models(synced):
    assert synced("disable", "xai/grok-2", "--reason", "old").exit_code == 0
    rows = {row["id"]: row for row in json.loads(synced("providers", "--format", "json").stdout)}
    assert rows["xai"]["models"] == 9


def test_tables_print_emoji_codes_as_text(cli, data_dir):
    """Fine-tuned model ids look like ft:base:org:name:id: ":new:" is not an emoji."""
    xai = provider_path(data_dir, "xai")
    xai.write_text(xai.read_text().replace("id: grok-2-mini\n", "id: ft:grok-2-mini:acme:new:x\n"))
    assert cli.sync().exit_code == 0
    model = "xai/ft:grok-2-mini:acme:new:x"
    listed = cli("list", "--provider", "xai")
    assert "ft:grok-2-mini:acme:new:x" in listed.stdout
    result = cli("price", "set", model, "--input", "0.1", "--reason", "per :x: ticket")
    assert result.exit_code == 0, result.output
    assert f"Price override set on {model}" in result.stderr
    assert "per :x: ticket" in cli("price", "list").stdout
    assert "\N{CROSS MARK}" not in cli("price", "list").stdout


# --- price set / clear / list ------------------------------------------------------------------


def price_list(cli: Any) -> list[dict[str, Any]]:
    result = cli("price", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_price_set_records_who_when_and_why(synced):
    before = datetime.now(UTC)
    result = synced("price", "set", "xai/grok-3", "--input", "2.50", "--output", "12.00",
                    "--reason", "negotiated rate", "--by", "alice")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "Price override set on xai/grok-3 by alice: input 2.50, output 12.00")
    kept = synced("price", "set", "xai/grok-3", "--input", "2", "--reason", "r", "--by", "bob")
    assert kept.stderr.splitlines()[-1] == (
        "Price override set on xai/grok-3 by bob: input 2.00, output 12.00")
    alone = synced("price", "set", "xai/grok-2", "--output", "1", "--reason", "r", "--by", "eve")
    assert alone.stderr.splitlines()[-1] == (
        "Price override set on xai/grok-2 by eve: input list price, output 1.00")
    synced("price", "clear", "xai/grok-2")
    assert synced("price", "set", "xai/grok-3", "--input", "2.50", "--output", "12.00",
                  "--reason", "negotiated rate", "--by", "alice").exit_code == 0
    [row] = price_list(synced)
    assert {k: v for k, v in row.items() if k != "set_at"} == {
        "provider_id": "xai", "model_id": "grok-3", "input_per_1m": 2.5, "output_per_1m": 12.0,
        "reason": "negotiated rate", "set_by": "alice",
        "list_input_per_1m": 3.0, "list_output_per_1m": 15.0, "enabled": True, "retired": False,
    }
    assert_recent(row["set_at"], before)
    assert row["enabled"] is True and row["retired"] is False  # JSON booleans on both
    table = synced("price", "list")
    assert table.exit_code == 0
    assert "negotiated rate" in table.stdout and "alice" in table.stdout
    assert table.stdout.splitlines()[1].split()[-1] == "active"
    # An override on a model no request reaches says so.
    assert synced("disable", "xai/grok-3", "--reason", "outage").exit_code == 0
    assert price_list(synced)[0]["enabled"] is False
    assert synced("price", "list").stdout.splitlines()[1].split()[-1] == "disabled"


def test_a_long_reason_is_shown_whole_in_the_table(synced):
    reason = "see-https://wiki.example.com/" + "a" * 250 + "-END"
    assert synced("price", "set", "grok-3", "--input", "2", "--reason", reason).exit_code == 0
    header, *lines = synced("price", "list").stdout.splitlines()
    assert not any("\N{HORIZONTAL ELLIPSIS}" in line for line in lines)
    # Folded over several lines within its column: joined, it is all there.
    start, end = header.index("reason"), header.index("set_by")
    assert "".join(line[start:end].strip() for line in lines) == reason


def test_price_set_defaults_to_the_os_user_and_keeps_the_price_not_given(synced):
    assert synced("price", "set", "grok-3", "--input", "2", "--reason", "first",
                  "--by", "alice").exit_code == 0
    result = synced("price", "set", "grok-3", "--output", "9.5", "--reason", "second")
    assert result.exit_code == 0, result.output
    [row] = price_list(synced)
    # --output alone changes the output override; the input override set before stays.
    assert (row["input_per_1m"], row["output_per_1m"], row["reason"], row["set_by"]) == (
        2.0, 9.5, "second", getpass.getuser())
    record = show_json(synced, "xai/grok-3")
    assert (record["pricing"]["input_per_1m"], record["pricing"]["output_per_1m"]) == (2.0, 9.5)


def test_price_clear_restores_the_list_price(synced):
    assert synced("price", "set", "grok-3", "--input", "2", "--reason", "x").exit_code == 0
    result = synced("price", "clear", "xai/grok-3")
    assert result.exit_code == 0, result.output
    assert "Price override cleared on xai/grok-3" in result.stderr
    assert price_list(synced) == []
    assert show_json(synced, "xai/grok-3")["pricing"]["input_per_1m"] == 3.0
    again = synced("price", "clear", "xai/grok-3")
    assert again.exit_code == 64
    assert "has no price override" in again.stderr
    assert synced("price", "list").stdout.strip() == "no price overrides"


def test_numbers_stay_whole_in_every_table_on_a_narrow_terminal(synced, monkeypatch):
    """`price list` and `history` folded prices and counts like text: 12.345 showed as
    `12.34` over `5`. Their long headers fold instead."""
    reason = "Negotiated enterprise discount, contract 2025-114"
    set_price = synced("price", "set", "xai/grok-3", "--input", "12.345", "--output", "150",
                       "--reason", reason)
    assert set_price.exit_code == 0, set_price.output
    for columns in ("70", "60", "50"):
        monkeypatch.setenv("COLUMNS", columns)
        prices = synced("price", "list")
        assert prices.exit_code == 0, prices.output
        words = prices.stdout.split()
        assert {"12.345", "150.00", "3.00", "15.00"} <= set(words), prices.stdout
        assert max(len(line.rstrip()) for line in prices.stdout.splitlines()) <= int(columns)
    [run] = json.loads(synced("history", "--format", "json").stdout)
    assert run["created"] >= 10  # two digits, which folded one over the other
    monkeypatch.setenv("COLUMNS", "40")
    history = synced("history")
    assert history.exit_code == 0, history.output
    assert str(run["created"]) in history.stdout.split()


def test_price_set_refuses_an_unknown_model_with_did_you_mean(synced):
    result = synced("price", "set", "xai/grok-33", "--input", "1", "--reason", "x")
    assert result.exit_code == 64
    assert "did you mean 'xai/grok-3'" in result.stderr
    assert price_list(synced) == []
    cleared = synced("price", "clear", "nope/grok-3")
    assert cleared.exit_code == 64
    assert "no model 'nope/grok-3'" in cleared.stderr


BAD_PRICES = [
    ("-1", "must not be negative"),
    ("abc", "'abc' is not a number"),
    ("0.000000001", "price 0.000000001 per 1M tokens is below 0.0001: is it a per-token price?"),
    ("1e3", "expected a number, got '1e3', a number in YAML 1.2 but a string to YAML 1.1 "
            "parsers; write 1000"),
    # The plain spelling would be refused too: that is said instead of a hint that fails.
    ("1e-9", "price 0.000000001 per 1M tokens is below 0.0001: is it a per-token price?"),
    ("1e6", "price 1000000 is above the limit of 100000 per 1M tokens"),
    ("1_000_000", "price 1000000 is above the limit of 100000 per 1M tokens"),
    (".1234567890123456789", "price 0.1234567890123456789 has more than 10 decimal places"),
    ("NaN", "'NaN' is not a number"),
    (".nan", "expected a finite number, got the number NaN"),  # as the files say it
    ("", "is not a number"),
    # Python's Decimal takes these; the files do not.
    ("1_000", "expected a number, got '1_000', which YAML 1.1 parsers read as an integer; "
              "write 1000"),
    ("\u0661\u0662", "is not a number"),  # Arabic-Indic digits
    ("0x10", "which YAML 1.1 parsers read as an integer; write 16"),
    ("0.0e+99999999999999999999", "a number with an exponent out of range"),
    ("1" * 41, "a number of 41 characters (at most 40)"),
    ("9" * 5000, f"{'9' * 40!r}... is a number of 5000 characters (at most 40)"),
    ("-0.00000000000", "more than 10 decimal places"),  # a zero is held to the rules too
]


def test_price_set_refuses_bad_prices_with_usage_exit(synced):
    for value, message in BAD_PRICES:
        for option in ("--input", "--output"):
            result = synced("price", "set", "xai/grok-3", option, value, "--reason", "x")
            assert result.exit_code == 64, (value, result.output)
            assert f"{option}: " in result.stderr and message in result.stderr, value
    assert price_list(synced) == []


@pytest.mark.parametrize("zero", ["-0.0", "0.0e+9999999999"])
def test_a_zero_price_however_written_is_zero(synced, zero):
    result = synced("price", "set", "xai/grok-3", "--input", zero, "--reason", "free")
    assert result.exit_code == 0, result.output
    [override] = price_list(synced)
    assert json.dumps(override["input_per_1m"]) in ("0", "0.0")  # not -0.0
    assert "-0" not in synced("show", "xai/grok-3").stdout


def test_price_set_needs_a_price_and_a_reason(synced):
    none = synced("price", "set", "xai/grok-3", "--reason", "x")
    assert none.exit_code == 64
    assert "give --input, --output or both" in none.stderr
    blank = synced("price", "set", "xai/grok-3", "--input", "1", "--reason", "  ")
    assert blank.exit_code == 64
    missing = synced("price", "set", "xai/grok-3", "--input", "1")
    assert missing.exit_code == 64
    assert "Missing option '--reason'" in missing.stderr
    assert price_list(synced) == []


# --- disable / enable ---------------------------------------------------------------------------


def test_disable_records_who_when_why_and_hides_the_model(synced):
    before = datetime.now(UTC)
    result = synced("disable", "xai/grok-2", "--reason", "superseded by grok-3", "--by", "bob")
    assert result.exit_code == 0, result.output
    assert "Disabled xai/grok-2" in result.stderr
    record = show_json(synced, "xai/grok-2")
    assert (record["enabled"], record["switch_reason"], record["switched_by"]) == (
        False, "superseded by grok-3", "bob")
    assert_recent(record["switched_at"], before)
    assert "xai/grok-2" not in keys(list_json(synced))
    assert "xai/grok-2" in keys(list_json(synced, "--all"))
    # A sync never flips the admin's switch.
    assert synced.sync().exit_code == 0
    assert show_json(synced, "xai/grok-2")["enabled"] is False


def test_enable_switches_back_on_and_records_the_os_user(synced):
    assert synced("disable", "grok-2", "--reason", "old", "--by", "bob").exit_code == 0
    result = synced("enable", "grok-2", "--reason", "customers need it")
    assert result.exit_code == 0, result.output
    assert "Enabled xai/grok-2" in result.stderr
    record = show_json(synced, "xai/grok-2")
    assert (record["enabled"], record["switch_reason"], record["switched_by"]) == (
        True, "customers need it", getpass.getuser())
    assert len(list_json(synced)) == SHIPPED_MODELS


def test_a_switch_already_so_keeps_its_record(synced):
    """Who switched a model, when and why is its audit trail: a repeated disable or enable
    says how it stands and changes nothing."""
    assert synced("disable", "xai/grok-2", "--reason", "first", "--by", "bob").exit_code == 0
    before = show_json(synced, "xai/grok-2")
    again = synced("disable", "xai/grok-2", "--reason", "second", "--by", "eve")
    assert again.exit_code == 0, again.output
    at = datetime.fromisoformat(before["switched_at"]).astimezone(UTC)
    assert again.stderr.splitlines()[-1] == (
        f"xai/grok-2 is already disabled (since {at:%Y-%m-%d %H:%M} UTC, by bob, reason: "
        "first); "
        "nothing changed"
    )
    assert show_json(synced, "xai/grok-2") == before
    never = synced("enable", "xai/grok-3")
    assert never.exit_code == 0, never.output
    assert never.stderr.splitlines()[-1] == "xai/grok-3 is already enabled; nothing changed"


def test_an_admin_change_to_a_retired_model_notes_that_it_is_retired(synced):
    remove = model_block(provider_path(synced.data_dir, "xai").read_text(), "grok-2")
    xai = provider_path(synced.data_dir, "xai")
    xai.write_text(xai.read_text().replace(remove, ""))
    before = datetime.now(UTC)
    assert synced.sync("--prune", "--force").exit_code == 0
    record = show_json(synced, "xai/grok-2")
    assert record["retired"] is True
    assert_recent(record["retired_at"], before)
    assert show_json(synced, "xai/grok-3")["retired_at"] is None
    note = "note: xai/grok-2 is retired (in no file now); the change holds should it come back"
    for argv in (("price", "set", "xai/grok-2", "--input", "1", "--reason", "deal"),
                 ("disable", "xai/grok-2", "--reason", "gone")):
        result = synced(*argv)
        assert result.exit_code == 0, result.output
        assert note in result.stderr
    # Nothing changed (already disabled), or a change that undoes one: noted all the same.
    for argv in (("disable", "xai/grok-2", "--reason", "gone"), ("price", "clear", "xai/grok-2")):
        result = synced(*argv)
        assert result.exit_code == 0, result.output
        noted = [line for line in result.stderr.splitlines() if line.startswith("note:")]
        assert noted == [note.split(";")[0]], argv
    assert note not in synced("price", "set", "xai/grok-3", "--input", "1", "--reason",
                              "deal").stderr


def test_times_are_given_in_utc_whatever_the_session_time_zone(synced, monkeypatch):
    """PostgreSQL hands timestamps back in the session's time zone ($PGTZ, or the server's
    default): the same moment must print the same from every host."""
    monkeypatch.setenv("PGTZ", "Asia/Kathmandu")  # +05:45, no whole-hour slip goes unseen
    assert synced("price", "set", "xai/grok-3", "--input", "1", "--reason", "deal").exit_code == 0
    assert synced("disable", "xai/grok-2", "--reason", "old").exit_code == 0
    times = [show_json(synced, key)[field] for key, field in (
        ("xai/grok-3", "created_at"), ("xai/grok-3", "updated_at"), ("xai/grok-2", "switched_at"))]
    times.append(show_json(synced, "xai/grok-3")["override"]["set_at"])
    history = synced("history", "--format", "json")
    assert history.exit_code == 0, history.output
    times += [json.loads(history.stdout)[0][field] for field in ("started_at", "finished_at")]
    overrides = synced("price", "list", "--format", "json")
    times.append(json.loads(overrides.stdout)[0]["set_at"])
    assert all(text.endswith("+00:00") for text in times), times


def _open_transactions(database_url: str) -> int:
    """Transactions open on the database, other than this probe's: on SQLite, whether any
    lock is held, a reader's too (BEGIN EXCLUSIVE fails at once); on PostgreSQL, sessions
    in one."""
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0)
        try:
            probe.execute("BEGIN EXCLUSIVE")
            probe.execute("ROLLBACK")
            return 0
        except sqlite3.OperationalError:
            return 1
        finally:
            probe.close()
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as probe:
        return probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
        ).fetchone()[0]


@pytest.mark.parametrize("argv", [
    ("disable", "xai/grok-9", "--reason", "x"), ("show", "xai/grok-9"), ("show", "grok-9"),
    ("show", "openai/grok-3"),  # another provider's model: that one, not one of openai's
    ("show", "xai/grok-3x"),  # among xai's models
])
def test_a_mistyped_model_is_hinted_at_with_no_transaction_open(synced, monkeypatch, argv):
    """The hint compares every model's name (seconds, for 100,000): never while holding
    the registry's lock, which a cron sync waits for, or a transaction open."""
    from radiant_registry import queries

    seen: list[int] = []
    hint = queries._model_hint

    def watched(text: str, keys: Any) -> str:
        seen.append(_open_transactions(synced.database_url))
        return hint(text, keys)

    monkeypatch.setattr(queries, "_model_hint", watched)
    result = synced(*argv)
    assert result.exit_code == 64
    assert result.stderr.splitlines()[-1] == (
        f"error: no model {argv[1]!r} in the database; did you mean 'xai/grok-3'?"
        if "/" in argv[1] else
        f"error: no model {argv[1]!r} in the database; did you mean 'grok-3'?"
    )
    assert seen == [0]


_KEYS = [("openai", "gpt-4o", False), ("groq", "openai/gpt-oss-120b", False),
         ("deepseek", "grok-3", True), ("xai", "grok-3", False),
         ("anthropic", "claude-4-opus", False), ("openai", "o1", False)]


@pytest.mark.parametrize(("text", "hint"), [
    ("anthropic/gpt-4o", "openai/gpt-4o"),  # the model, of the provider that has it
    ("openai/grok-3", "xai/grok-3"),  # the provider selling it today, not the retired one
    ("openai/Grok-3", "xai/grok-3"),
    ("openai/grok-33", "xai/grok-3"),  # not the least unlike of openai's own
    ("openai/gpt-oss-120c", "openai/gpt-oss-120b"),
    ("xai/grok-33", "xai/grok-3"),
    ("nope/grok-3", "xai/grok-3"),  # no such provider: the same id where it is sold today
    ("grok-33", "grok-3"),
])
def test_the_hint_for_a_model_not_found(text, hint):
    from radiant_registry.queries import _model_hint

    assert _model_hint(text, _KEYS) == f"; did you mean {hint!r}?"


@pytest.mark.parametrize(("interruption", "said", "code"), [
    (KeyboardInterrupt(), "interrupted (Ctrl-C)", 130), (Stopped(), "stopped (SIGTERM)", 143),
])
def test_an_interruption_while_the_hint_is_worked_out_is_said(
    synced, monkeypatch, interruption, said, code
):
    """The hint takes seconds among 100,000 models: Ctrl-C or SIGTERM may land in it."""
    from radiant_registry import queries

    def interrupted(text: str, keys: Any) -> str:
        raise interruption

    monkeypatch.setattr(queries, "_model_hint", interrupted)
    result = synced("disable", "xai/grok-9", "--reason", "x")
    assert result.exit_code == code
    assert result.stderr.splitlines()[-1] == f"error: {said}"


def test_disable_unknown_model_and_missing_reason_exit_64(synced):
    unknown = synced("disable", "xai/grok-9", "--reason", "x")
    assert unknown.exit_code == 64
    assert unknown.stderr.splitlines()[-1] == (
        "error: no model 'xai/grok-9' in the database; did you mean 'xai/grok-3'?")
    missing = synced("disable", "xai/grok-2")
    assert missing.exit_code == 64
    assert "Missing option '--reason'" in missing.stderr
    for reason in ("", " ", "\u3164\u200b"):  # a Hangul filler and a zero-width space
        blank = synced("disable", "xai/grok-2", "--reason", reason)
        assert blank.exit_code == 64
        assert "--reason must not be blank" in blank.stderr
    assert len(list_json(synced)) == SHIPPED_MODELS


@pytest.mark.parametrize("argv", [
    ("price", "set", "xai/grok-3", "--input", "1"),
    ("disable", "xai/grok-3"),
    ("enable", "xai/grok-3"),
])
@pytest.mark.parametrize(("option", "value", "message"), [
    ("--reason", "evil\x1b[2J\x1b[31mRED", "control characters"),
    ("--reason", "two\nlines", "control characters"),
    ("--by", "x\x1b[0m", "control characters"),
    ("--reason", "ok\u2028second line", "control characters"),
    ("--by", "x\u202ey", "control characters"),  # a right-to-left override
    ("--reason", "r" * 1001, "at most 1000 characters"),
    ("--by", "b" * 201, "at most 200 characters"),
    # Who made a change is the audit trail: "root" and "root\u200b" must not look alike.
    ("--by", "root\u200b", "invisible characters are not allowed (U+200B)"),
    ("--by", "\ufeffroot", "invisible characters are not allowed (U+FEFF)"),
    ("--by", "ro\u00a0ot", "invisible characters are not allowed (U+00A0)"),
    ("--by", "r\u3164oot", "invisible characters are not allowed (U+3164)"),
    ("--by", "root\U000e0100\u17b4", "invisible characters are not allowed (U+E0100)"),
    ("--by", "root ", "no spaces at its start or end"),
])
def test_admin_text_that_would_garble_a_terminal_is_refused(synced, argv, option, value, message):
    """Reasons and names are printed in tables and logs, like the files' names."""
    before = dump_tables(synced.database_url)
    reason = () if option == "--reason" else ("--reason", "fine")
    result = synced(*argv, option, value, *reason)
    assert result.exit_code == 64, result.output
    assert f"{option}: {message}" in result.stderr
    assert dump_tables(synced.database_url) == before


# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (15.1): characters
# that a font shows as nothing.
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
]


def test_every_character_unicode_calls_ignorable_is_refused_in_by():
    from radiant_registry.admin import who
    from radiant_registry.errors import UsageError

    for low, high in DEFAULT_IGNORABLE:
        for code in range(low, high + 1):
            # The bidirectional controls are refused first, as control characters.
            refusal = f"invisible characters are not allowed \\(U\\+{code:04X}\\)|control char"
            with pytest.raises(UsageError, match=refusal):
                who(f"ro{chr(code)}ot")


@pytest.mark.parametrize(("user", "message"), [
    ("ev\x1b[2Jil\nFAKE", "control characters"), ("u" * 300, "at most 200 characters"),
    ("ro\u200dot", "invisible characters are not allowed (U+200D)"),
])
def test_a_user_name_from_the_environment_is_held_to_the_rules_of_by(
    synced, monkeypatch, user, message
):
    before = dump_tables(synced.database_url)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # getpass.getuser() reads these
        monkeypatch.setenv(name, user)
    result = synced("price", "set", "xai/grok-3", "--input", "1", "--reason", "deal")
    assert result.exit_code == 64, result.output
    assert f"$LOGNAME or $USER (or pass --by): {message}" in result.stderr
    assert dump_tables(synced.database_url) == before


# --- no database, no schema ---------------------------------------------------------------------

READ_COMMANDS = [
    ("list",), ("show", "xai/grok-3"), ("providers",), ("history",), ("price", "list"),
    ("price", "set", "xai/grok-3", "--input", "1", "--reason", "x"),
    ("price", "clear", "xai/grok-3"), ("disable", "xai/grok-3", "--reason", "x"),
    ("enable", "xai/grok-3"),
]


def registry(*argv: str) -> Any:
    """One in-process run (each starts with plain output, as a new process does)."""
    return CliRunner().invoke(app, list(argv), catch_exceptions=False)


def test_read_commands_on_a_missing_sqlite_file_exit_78_and_create_nothing(tmp_path):
    path = tmp_path / "absent.db"
    for command in READ_COMMANDS:
        result = registry(*command, "--database-url", f"sqlite:///{path}")
        assert result.exit_code == 78, (command, result.output)
        assert f"no database at {path}: run `registry sync` to create it" in result.stderr
        assert not path.exists()
    # The default database too: ./registry.db is not created by a read.
    assert registry("list").exit_code == 78
    assert not (tmp_path / "registry.db").exists()
    # A sync could not create it either, where its folder does not exist: said first.
    nowhere = tmp_path / "nowhere" / "registry.db"
    result = registry("list", "--database-url", f"sqlite:///{nowhere}")
    assert result.exit_code == 78, result.output
    assert result.stderr.splitlines()[-1] == (
        f"error: no database at {nowhere} (nor its folder {nowhere.parent}: create it): run "
        "`registry sync` to create it"
    )


def test_diff_dry_run_and_db_commands_read_a_missing_sqlite_file_as_empty_and_create_nothing(
    tmp_path, data_dir
):
    path = tmp_path / "absent.db"
    url = ("--database-url", f"sqlite:///{path}")
    result = registry("diff", "--exit-code", "--format", "json", "--data-dir", str(data_dir), *url)
    assert result.exit_code == 2, result.output
    plan = json.loads(result.stdout)
    assert plan["changes"] and {c["action"] for c in plan["changes"]} == {"create"}
    assert f"No file at {path} yet: read as an empty database" in result.stderr
    result = registry("sync", "--dry-run", "--log-format", "json", "--data-dir", str(data_dir),
                      *url)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stderr.splitlines()]
    [absent] = [e for e in events if e["event"] == "database.absent"]
    assert absent["message"] == f"No file at {path} yet: read as an empty database"
    result = registry("db", "current", *url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("base (empty) (head is ")
    result = registry("db", "downgrade", "base", "--yes", *url)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        0, "Schema at revision base (empty): nothing to downgrade"
    )
    assert not path.exists()
    # The commands that initialise a database do create the file.
    assert registry("db", "upgrade", *url).exit_code == 0
    assert path.exists()


def test_a_sync_refused_for_its_files_creates_no_sqlite_file(tmp_path, data_dir):
    """Nothing written means no empty database file either: the files are checked first."""
    path = tmp_path / "new.db"
    url = ("--database-url", f"sqlite:///{path}")
    result = registry("sync", "--yes", "--data-dir", str(tmp_path / "nowhere"), *url)
    assert result.exit_code == 78, result.output
    assert not path.exists()
    (data_dir / "providers" / "xai.yaml").write_text("schema_version: 2\n")
    for how in (("--yes",), ("--dry-run",)):
        result = registry("sync", *how, "--data-dir", str(data_dir), *url)
        assert result.exit_code == 65, result.output
        assert not path.exists()


def test_read_commands_on_a_database_without_schema_exit_78(cli, database_url):
    if database_url.startswith("sqlite"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()  # an empty file
    for command in READ_COMMANDS:
        result = cli(*command)
        assert result.exit_code == 78, (command, result.output)
        assert "has no registry schema yet: run `registry sync` or `registry db upgrade`" in (
            result.stderr)
        assert result.stdout == ""


# --- usage errors -------------------------------------------------------------------------------

USAGE_ERRORS = [
    ("list", "--bogus"), ("list", "--format", "xml"), ("list", "--provider"), ("show",),
    ("show", "a", "b"), ("price", "set"), ("price", "clear"), ("disable",),
    ("history", "--limit", "0"), ("sync", "--lock-timeout", "-1"), ("db", "downgrade"),
    ("nosuchcommand",), ("price", "nosuch"), ("validate", "--format", "yaml"),
]


@pytest.mark.parametrize("argv", [(), ("price",), ("db",)])
def test_a_group_without_its_command_shows_its_help_and_exits_64(argv):
    result = registry(*argv)
    assert result.exit_code == 64, result.output
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert usage.split()[2:] == [*argv, "[OPTIONS]", "COMMAND", "[ARGS]..."], usage


def test_usage_errors_exit_64_not_2(tmp_path):
    for argv in USAGE_ERRORS:
        result = registry(*argv)
        assert result.exit_code == 64, (argv, result.output)
        assert "Error" in result.stderr  # click's usage error box
    assert list(tmp_path.iterdir()) == []  # no database was created


@pytest.mark.parametrize("argv", [
    ("price", "set", "xai/grok-3", "--input", "1", "--reason", " "),
    ("price", "set", "xai/grok-3", "--reason", "deal"),  # no price
    ("price", "set", "xai/grok-3", "--output", "-1", "--reason", "deal"),
    ("disable", "xai/grok-3", "--reason", "one\ntwo"),
    ("enable", "xai/grok-3", "--by", "root\u200b"),
])
def test_a_bad_admin_option_is_a_usage_error_before_the_database_is_opened(tmp_path, argv):
    """Exit 64 whatever the database's state (here a file the command would refuse, 78)."""
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    result = registry(*argv, "--database-url", url)
    assert result.exit_code == 64, result.output
    assert "Database:" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_database_url_given_for_the_data_folder_keeps_its_password_hidden(output):
    url = "postgresql://registry:Zq9S3cret@db.internal/registry"
    result = registry("validate", "--format", output, "--data-dir", url)
    assert result.exit_code == 78, result.output
    assert "Zq9S3cret" not in result.output
    assert "postgresql:/registry:***@db.internal/registry (--data-dir)" in result.stderr


_TRICKY = st.sampled_from(['"', "\\", " ", "-", "a", "\u00a0", "\u200b", "\x1b", "u", "0",
                           "e", "\u0301", "\u00e9", "\u212b", "\u00c5",
                           "\u1100", "\u1161", "\uac00"])  # Hangul: jamo, and their syllable


@given(st.lists(_TRICKY, max_size=6).map("".join), st.lists(_TRICKY, max_size=6).map("".join))
@settings(max_examples=2000, deadline=None)
@example("\u00e9", "e\u0301")  # é, and e with a combining acute: one glyph on screen
@example("\uac00", "\u1100\u1161")  # 가, and its two jamo (no combining class)
def test_diff_and_show_never_print_two_texts_alike(left, right):
    """What `diff` prints as old -> new must show every change: no two texts look alike,
    as far as Unicode's canonical equivalence (what a terminal draws the same) goes."""

    def looks(text: str | None) -> str:
        return unicodedata.normalize("NFC", render.field_text(text))

    assert (looks(left) == looks(right)) == (left == right)
    assert looks(left) != looks(None)
