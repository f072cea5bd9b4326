"""The main job end to end: a first sync creates everything, a second changes nothing."""

from __future__ import annotations

import json

import yaml
from conftest import SHIPPED_DATA, SHIPPED_ROWS

SHIPPED_FILES = sorted((SHIPPED_DATA / "providers").glob("*.yaml"))


def test_first_sync_creates_every_provider_and_model(cli):
    result = cli.sync()
    assert result.exit_code == 0, result.output
    files = {path.stem: yaml.safe_load(path.read_text()) for path in SHIPPED_FILES}
    listed = json.loads(cli("list", "--format", "json", "--all").stdout)
    assert sorted((m["provider"], m["id"]) for m in listed) == sorted(
        (pid, model["id"]) for pid, content in files.items() for model in content["models"] or []
    )
    providers = json.loads(cli("providers", "--format", "json").stdout)
    assert {p["id"]: p["display_name"] for p in providers} == {
        pid: content["provider"]["display_name"] for pid, content in files.items()
    }


def test_diff_after_sync_is_empty(cli):
    assert cli.sync().exit_code == 0
    result = cli("diff", "--format", "json", "--exit-code", data=True)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "changes": [],
        "summary": {"create": 0, "update": 0, "retire": 0, "unchanged": SHIPPED_ROWS},
    }


def test_list_provider_xai_shows_the_ten_grok_models(cli):
    assert cli.sync().exit_code == 0
    result = cli("list", "--provider", "xai", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = sorted((record["provider"], record["id"]) for record in json.loads(result.stdout))
    shipped = yaml.safe_load((cli.data_dir / "providers" / "xai.yaml").read_text())
    assert listed == sorted(("xai", model["id"]) for model in shipped["models"])
    assert len(listed) == 10


def test_an_unknown_provider_option_is_a_usage_error_with_a_hint(cli):
    for argv in (("sync", "--yes"), ("diff",)):
        result = cli(*argv, "--provider", "xai", "--provider", "xia", data=True)
        assert result.exit_code == 64, result.output
        assert "no provider file for 'xia'" in result.stderr
        assert "did you mean 'xai'?" in result.stderr
    assert cli("list").exit_code == 78  # nothing was written, not even the schema
