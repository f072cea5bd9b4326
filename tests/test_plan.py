"""compute_plan and its normalisation, as pure functions: no database, no files."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from radiant_registry.plan import (
    Change,
    Create,
    CurrentState,
    Plan,
    PruneRefusal,
    Retire,
    Update,
    compute_plan,
    prune_refusals,
)
from radiant_registry.rows import desired_model, desired_provider, normalize_model
from radiant_registry.schema import ProviderFile


def model_data(model_id: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": model_id,
        "display_name": f"Model {model_id}",
        "context_window": 131072,
        "max_output_tokens": 8192,
        "pricing": {"input_per_1m": Decimal("3.00"), "output_per_1m": Decimal("15.00")},
        "capabilities": ["chat", "reasoning"],
    }
    data.update(overrides)
    return data


def provider_file(pid: str, models: list[dict[str, Any]], **overrides: Any) -> ProviderFile:
    provider: dict[str, Any] = {
        "id": pid,
        "display_name": f"Provider {pid}",
        "api_base": f"https://api.{pid}.example/v1",
        "auth_type": "api_key",
    }
    provider.update(overrides)
    data = {"schema_version": 1, "provider": provider, "models": models}
    return ProviderFile.model_validate(data)


def desired(*files: ProviderFile) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    """The rows a sync wants for `files`, as `Registry.desired` returns them."""
    providers = {file.provider.id: desired_provider(file) for file in files}
    models = {
        (file.provider.id, model.id): desired_model(model)
        for file in files
        for model in file.models
    }
    return providers, models


def synced(*files: ProviderFile) -> CurrentState:
    """The database state right after a sync of `files`, as read_state would return it."""
    providers, models = desired(*files)
    return CurrentState(
        providers={pid: dict(row) for pid, row in providers.items()},
        models={key: normalize_model(row) for key, row in models.items()},
    )


def summary(plan: Plan) -> list[tuple[str, str, str, list[str]]]:
    return [(c.action, c.kind, c.key, sorted(c.fields)) for c in plan.changes]


# --- create, update, retire -------------------------------------------------------------


def test_empty_database_plans_a_create_for_every_provider_and_model():
    file = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    plan = compute_plan(*desired(file), CurrentState())
    assert [(c.action, c.kind, c.key) for c in plan.changes] == [
        ("create", "provider", "xai"),
        ("create", "model", "xai/grok-2"),
        ("create", "model", "xai/grok-3"),
    ]
    assert plan.summary == {"create": 3, "update": 0, "retire": 0, "unchanged": 0}
    assert bool(plan) is True


def test_create_lists_every_given_field_with_no_old_value_and_skips_empty_ones():
    file = provider_file("xai", [model_data("grok-3")])
    plan = compute_plan(*desired(file), CurrentState())
    provider, model = plan.changes
    assert provider.fields == {
        "display_name": (None, "Provider xai"),
        "api_base": (None, "https://api.xai.example/v1"),
        "auth_type": (None, "api_key"),
    }
    assert model.fields == {
        "display_name": (None, "Model grok-3"),
        "model_type": (None, "chat"),
        "category": (None, "general"),
        "context_window": (None, 131072),
        "max_output_tokens": (None, 8192),
        "input_modalities": (None, ["text"]),
        "output_modalities": (None, ["text"]),
        "input_per_1m": (None, Decimal("3.00")),
        "output_per_1m": (None, Decimal("15.00")),
        "capabilities": (None, ["chat", "reasoning"]),
        "is_novel": (None, False),
        "status": (None, "active"),
    }
    assert isinstance(model, Create) and model.values["release_date"] is None


def test_same_state_gives_an_empty_plan_that_counts_everything_unchanged():
    file = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    plan = compute_plan(*desired(file), synced(file))
    assert plan.changes == []
    assert not plan
    assert plan.summary == {"create": 0, "update": 0, "retire": 0, "unchanged": 3}


def test_update_lists_old_and_new_of_each_changed_field_only():
    before = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    after = provider_file(
        "xai",
        [
            model_data(
                "grok-3",
                display_name="Grok 3 (2025)",
                pricing={"input_per_1m": Decimal("3.25"), "output_per_1m": Decimal("15.00")},
                capabilities=["chat", "reasoning", "vision"],
            ),
            model_data("grok-2"),
        ],
        display_name="xAI",
    )
    plan = compute_plan(*desired(after), synced(before))
    assert plan.changes == [
        Update("provider", "xai", {"display_name": ("Provider xai", "xAI")},
               plan.changes[0].values),
        Update(
            "model", "xai/grok-3",
            {
                "display_name": ("Model grok-3", "Grok 3 (2025)"),
                "input_per_1m": (Decimal("3.00"), Decimal("3.25")),
                "capabilities": (["chat", "reasoning"], ["chat", "reasoning", "vision"]),
            },
            plan.changes[1].values,
        ),
    ]
    assert plan.changes[1].note is None
    assert plan.summary == {"create": 0, "update": 2, "retire": 0, "unchanged": 1}


def test_setting_and_clearing_an_optional_field_is_an_update_from_and_to_none():
    released_2 = model_data("grok-2", release_date=date(2024, 8, 1))
    released_3 = model_data("grok-3", release_date=date(2025, 2, 17))
    before = provider_file("xai", [model_data("grok-3"), released_2])
    after = provider_file("xai", [released_3, model_data("grok-2")])
    plan = compute_plan(*desired(after), synced(before))
    assert [(c.key, c.fields) for c in plan.changes] == [
        ("xai/grok-2", {"release_date": (date(2024, 8, 1), None)}),
        ("xai/grok-3", {"release_date": (None, date(2025, 2, 17))}),
    ]


def test_model_missing_from_the_files_is_a_retire_with_no_fields():
    before = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    after = provider_file("xai", [model_data("grok-3")])
    plan = compute_plan(*desired(after), synced(before))
    assert plan.changes == [Retire("model", "xai/grok-2")]
    assert plan.summary == {"create": 0, "update": 0, "retire": 1, "unchanged": 2}
    assert plan.without_retires().changes == []
    assert plan.without_retires().unchanged == 2


def test_provider_missing_from_the_files_retires_it_and_its_models():
    xai = provider_file("xai", [model_data("grok-3")])
    other = provider_file("other", [model_data("m1"), model_data("m2")])
    plan = compute_plan(*desired(xai), synced(xai, other))
    assert summary(plan) == [
        ("retire", "model", "other/m1", []),
        ("retire", "model", "other/m2", []),
        ("retire", "provider", "other", []),
    ]


def test_already_retired_rows_are_not_retired_again():
    before = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    other = provider_file("other", [model_data("m1")])
    current = synced(before, other)
    current.retired_models = {("xai", "grok-2"), ("other", "m1")}
    current.retired_providers = {"other"}
    plan = compute_plan(*desired(provider_file("xai", [model_data("grok-3")])), current)
    assert plan.changes == []
    assert plan.summary["unchanged"] == 2


def test_unretire_shows_as_an_update_of_retired():
    file = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    current = synced(file)
    current.retired_models = {("xai", "grok-2")}
    plan = compute_plan(*desired(file), current)
    assert summary(plan) == [("update", "model", "xai/grok-2", ["retired"])]
    assert plan.changes[0].fields == {"retired": (True, False)}
    assert plan.changes[0].as_dict()["fields"] == {"retired": {"old": True, "new": False}}


def test_unretire_together_with_a_changed_value():
    before = provider_file("xai", [model_data("grok-2")])
    after = provider_file("xai", [model_data("grok-2", max_output_tokens=4096)])
    current = synced(before)
    current.retired_models = {("xai", "grok-2")}
    plan = compute_plan(*desired(after), current)
    assert plan.changes[0].fields == {"max_output_tokens": (8192, 4096), "retired": (True, False)}


def test_unretire_a_provider():
    file = provider_file("xai", [model_data("grok-3")])
    current = synced(file)
    current.retired_providers = {"xai"}
    plan = compute_plan(*desired(file), current)
    assert [(c.action, c.kind, c.key, c.fields) for c in plan.changes] == [
        ("update", "provider", "xai", {"retired": (True, False)})
    ]


# --- no fake changes ---------------------------------------------------------------------


def test_equal_prices_written_differently_are_no_change():
    file = provider_file("xai", [model_data(
        "grok-3",
        pricing={"input_per_1m": Decimal("3.0"), "output_per_1m": Decimal("15"),
                 "cache_read_per_1m": Decimal("0.750"),
                 "tiers": [{"above_tokens": 100000, "input_per_1m": Decimal("6.000"),
                            "output_per_1m": Decimal("30.0")}]},
    )])
    current = synced(file)
    row = current.models[("xai", "grok-3")]
    # As PostgreSQL's Numeric(20, 10) returns them, and as SQLite's text keeps them.
    row["input_per_1m"] = Decimal("3.0000000000")
    row["output_per_1m"] = Decimal("15.00")
    row["cache_read_per_1m"] = Decimal("0.75")
    tiers = [{"above_tokens": 100000, "input_per_1m": "6", "output_per_1m": "30"}]
    assert row["price_tiers"] == tiers
    plan = compute_plan(*desired(file), current)
    assert plan.changes == []
    assert plan.summary["unchanged"] == 2


def test_list_order_of_capabilities_modalities_and_aliases_is_no_change():
    before = provider_file("xai", [model_data(
        "grok-3",
        capabilities=["vision", "chat", "reasoning"],
        modalities={"input": ["text", "image", "pdf"], "output": ["text", "audio"]},
        aliases=["grok-3-latest", "grok-3-beta"],
    )])
    after = provider_file("xai", [model_data(
        "grok-3",
        capabilities=["reasoning", "vision", "chat"],
        modalities={"input": ["pdf", "image", "text"], "output": ["audio", "text"]},
        aliases=["grok-3-beta", "grok-3-latest"],
    )])
    providers, models = desired(after)
    assert models[("xai", "grok-3")]["capabilities"] == ["chat", "reasoning", "vision"]
    assert models[("xai", "grok-3")]["aliases"] == ["grok-3-beta", "grok-3-latest"]
    current = synced(before)
    # A database row keeps whatever order it was written in; the plan must not care.
    current.models[("xai", "grok-3")] = normalize_model({
        **current.models[("xai", "grok-3")],
        "capabilities": ["vision", "reasoning", "chat"],
        "input_modalities": ["image", "pdf", "text"],
        "aliases": ["grok-3-latest", "grok-3-beta"],
    })
    assert compute_plan(providers, models, current).changes == []


def test_price_tiers_are_kept_in_order_of_above_tokens():
    row = normalize_model({
        **desired(provider_file("xai", [model_data("grok-3")]))[1][("xai", "grok-3")],
        "price_tiers": [
            {"above_tokens": 200000, "input_per_1m": "9", "output_per_1m": None},
            {"above_tokens": 100000, "input_per_1m": "6", "output_per_1m": "30"},
        ],
    })
    assert [tier["above_tokens"] for tier in row["price_tiers"]] == [100000, 200000]


def test_missing_optional_field_equals_none():
    file = provider_file("xai", [model_data("grok-3")])
    current = synced(file)
    row = dict(current.models[("xai", "grok-3")])
    for name in ("source_url", "release_date", "cache_write_per_1m", "aliases", "price_tiers"):
        del row[name]
    current.models[("xai", "grok-3")] = normalize_model(row)
    assert current.models[("xai", "grok-3")]["source_url"] is None
    assert current.models[("xai", "grok-3")]["aliases"] == []
    assert compute_plan(*desired(file), current).changes == []


def test_optional_provider_field_absent_in_file_and_null_in_database_is_no_change():
    file = provider_file("xai", [])
    current = synced(file)
    current.providers["xai"]["auth_header"] = None
    current.providers["xai"]["auth_prefix"] = None
    assert compute_plan(*desired(file), current).changes == []
    changed = provider_file("xai", [], auth_header="Authorization", auth_prefix="Bearer ")
    plan = compute_plan(*desired(changed), current)
    assert plan.changes[0].fields == {
        "auth_header": (None, "Authorization"),
        "auth_prefix": (None, "Bearer "),
    }


def test_a_real_price_change_in_the_last_place_is_seen():
    before = provider_file("xai", [model_data("grok-3")])
    after = provider_file("xai", [model_data(
        "grok-3", pricing={"input_per_1m": Decimal("3.0001"), "output_per_1m": Decimal("15")}
    )])
    plan = compute_plan(*desired(after), synced(before))
    assert plan.changes[0].fields == {"input_per_1m": (Decimal("3.00"), Decimal("3.0001"))}


# --- notes on overridden models --------------------------------------------------------


def test_list_price_change_on_an_overridden_model_carries_a_note():
    before = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    after = provider_file("xai", [
        model_data("grok-3", pricing={"input_per_1m": Decimal("3.50"),
                                      "output_per_1m": Decimal("15")}),
        model_data("grok-2", pricing={"input_per_1m": Decimal("3"),
                                      "output_per_1m": Decimal("16")}),
    ])
    current = synced(before)
    current.overridden = {("xai", "grok-3"): frozenset({"input_per_1m", "output_per_1m"})}
    plan = compute_plan(*desired(after), current)
    notes = {c.key: c.note for c in plan.changes}
    assert notes == {
        "xai/grok-3": "list price changes, but an admin price override still masks it",
        "xai/grok-2": None,
    }
    assert plan.changes[1].as_dict()["note"] == notes["xai/grok-3"]
    assert "note" not in plan.changes[0].as_dict()


def test_no_note_when_an_overridden_model_changes_something_else():
    before = provider_file("xai", [model_data("grok-3")])
    after = provider_file("xai", [model_data("grok-3", display_name="Grok 3")])
    current = synced(before)
    current.overridden = {("xai", "grok-3"): frozenset({"input_per_1m", "output_per_1m"})}
    plan = compute_plan(*desired(after), current)
    assert [(c.key, c.note) for c in plan.changes] == [("xai/grok-3", None)]


def test_the_note_names_only_a_change_of_an_overridden_price():
    """An override of the output price does not mask a new input price."""
    before = provider_file("xai", [model_data("grok-3")])
    after = provider_file("xai", [
        model_data("grok-3", pricing={"input_per_1m": Decimal("3.50"),
                                      "output_per_1m": Decimal("15")}),
    ])
    current = synced(before)
    current.overridden = {("xai", "grok-3"): frozenset({"output_per_1m"})}
    assert [c.note for c in compute_plan(*desired(after), current).changes] == [None]
    current.overridden = {("xai", "grok-3"): frozenset({"input_per_1m"})}
    assert [c.note for c in compute_plan(*desired(after), current).changes] == [
        "list price changes, but an admin price override still masks it"
    ]


def test_a_model_renamed_only_in_case_is_a_new_model_and_the_plan_says_so():
    before = provider_file("xai", [model_data("grok-3-fast"), model_data("grok-3")])
    after = provider_file("xai", [model_data("Grok-3-Fast"), model_data("grok-3"),
                                  model_data("grok-4")])
    changes = compute_plan(*desired(after), synced(before)).changes
    assert [(c.action, c.key, c.note) for c in changes] == [
        ("create", "xai/Grok-3-Fast",
         "differs from xai/grok-3-fast only in case: a new model, enabled and at list price; "
         "a price override or disable on xai/grok-3-fast stays with it"),
        ("create", "xai/grok-4", None),
        ("retire", "xai/grok-3-fast", None),
    ]


def test_a_retire_notes_the_admin_state_its_model_keeps_and_a_replacement_lacks():
    before = provider_file("xai", [model_data(m) for m in ("a", "b", "c", "d")])
    current = synced(before)
    current.overridden = {("xai", "a"): frozenset({"input_per_1m"}),
                          ("xai", "c"): frozenset({"output_per_1m"})}
    current.disabled = {("xai", "b"), ("xai", "c")}
    changes = compute_plan(*desired(provider_file("xai", [])), current).changes
    assert [(c.action, c.key, c.note) for c in changes] == [
        ("retire", "xai/a", "has an admin price override, which stays with it: a model that "
                            "replaces it starts at list price"),
        ("retire", "xai/b", "is disabled by an admin, which stays with it: a model that "
                            "replaces it starts enabled"),
        ("retire", "xai/c", "has an admin price override and is disabled, both of which stay "
                            "with it: a model that replaces it starts at list price and enabled"),
        ("retire", "xai/d", None),
    ]


def test_a_retired_model_that_comes_back_notes_the_admin_state_it_gets_back():
    """Its row kept the override and the switch (no sync writes them): they apply again."""
    file = provider_file("xai", [model_data(m) for m in ("a", "b", "c", "d")])
    current = synced(file)
    current.retired_models = set(current.models)
    current.overridden = {("xai", "a"): frozenset({"input_per_1m"}),
                          ("xai", "c"): frozenset({"input_per_1m"})}
    current.disabled = {("xai", "b"), ("xai", "c")}
    back = provider_file("xai", [
        model_data(m) for m in ("a", "b", "d")
    ] + [model_data("c", pricing={"input_per_1m": Decimal("9"), "output_per_1m": Decimal("15")})])
    changes = compute_plan(*desired(back), current).changes
    assert [(c.action, c.key, c.note) for c in changes] == [
        ("update", "xai/a", "comes back with the admin price override its row kept, which "
                            "applies again"),
        ("update", "xai/b", "comes back disabled, as an admin left it: `registry enable` to "
                            "serve it"),
        ("update", "xai/c", "comes back disabled, as an admin left it, and with the admin "
                            "price override its row kept, which applies again; list price "
                            "changes, but an admin price override still masks it"),
        ("update", "xai/d", None),
    ]


# --- prune guard ---------------------------------------------------------------------------


def eight_models(
    *dropped: str, retired: tuple[str, ...] = (), disabled: tuple[str, ...] = ()
) -> list[PruneRefusal]:
    ids = [f"m{i}" for i in range(8)]
    before = provider_file("p", [model_data(i) for i in ids])
    after = provider_file("p", [model_data(i) for i in ids if i not in dropped])
    current = synced(before)
    current.retired_models = {("p", i) for i in retired}
    current.disabled = {("p", i) for i in disabled}
    plan = compute_plan(*desired(after), current)
    return prune_refusals(plan, current)


def test_prune_of_exactly_a_quarter_is_allowed():
    assert eight_models("m0", "m1") == []


def test_prune_of_over_a_quarter_is_refused():
    assert eight_models("m0", "m1", "m2") == [
        PruneRefusal("p", "retires 3 of its 8 models not yet retired")
    ]


def test_prune_guard_counts_only_active_models():
    # 4 of the 8 are retired already: retiring 1 of the 4 active is a quarter, 2 is half.
    retired = ("m4", "m5", "m6", "m7")
    assert eight_models("m0", *retired, retired=retired) == []
    assert eight_models("m0", "m1", *retired, retired=retired) == [
        PruneRefusal("p", "retires 2 of its 4 models not yet retired")
    ]


def test_prune_guard_counts_disabled_models():
    """Disabled is not retired: an admin's switch must not make a large prune look small."""
    disabled = ("m6", "m7")
    assert eight_models("m0", "m1", disabled=disabled) == []
    assert eight_models("m0", "m1", "m2", disabled=disabled) == [
        PruneRefusal("p", "retires 3 of its 8 models not yet retired")
    ]
    # Nor does retiring disabled models count for less.
    assert eight_models("m0", *disabled, disabled=disabled) == [
        PruneRefusal("p", "retires 3 of its 8 models not yet retired")
    ]


def test_prune_of_a_whole_provider_is_refused_even_without_models():
    kept = provider_file("xai", [model_data("grok-3")])
    empty = provider_file("empty", [])
    current = synced(kept, empty)
    plan = compute_plan(*desired(kept), current)
    assert prune_refusals(plan, current) == [PruneRefusal("empty", "retires the whole provider")]


def test_prune_of_a_whole_provider_with_models_is_one_refusal():
    kept = provider_file("xai", [model_data("grok-3")])
    gone = provider_file("gone", [model_data("a"), model_data("b")])
    current = synced(kept, gone)
    plan = compute_plan(*desired(kept), current)
    assert prune_refusals(plan, current) == [
        PruneRefusal("gone", "retires the whole provider, with its 2 models")
    ]
    one = provider_file("one", [model_data("a")])
    current = synced(kept, one)
    plan = compute_plan(*desired(kept), current)
    assert prune_refusals(plan, current) == [
        PruneRefusal("one", "retires the whole provider, with its 1 model")
    ]


def test_prune_guard_judges_each_provider_on_its_own():
    a = provider_file("a", [model_data(f"m{i}") for i in range(4)])
    b = provider_file("b", [model_data(f"m{i}") for i in range(2)])
    current = synced(a, b)
    after_a = provider_file("a", [model_data(f"m{i}") for i in range(1, 4)])  # 1 of 4
    after_b = provider_file("b", [model_data("m0")])  # 1 of 2
    plan = compute_plan(*desired(after_a, after_b), current)
    assert prune_refusals(plan, current) == [
        PruneRefusal("b", "retires 1 of its 2 models not yet retired")
    ]


def test_no_refusals_without_retires():
    file = provider_file("xai", [model_data("grok-3")])
    plan = compute_plan(*desired(file), CurrentState())
    assert prune_refusals(plan, CurrentState()) == []


# --- JSON -----------------------------------------------------------------------------------


def test_plan_as_dict_has_the_documented_json_shape_with_prices_as_numbers():
    before = provider_file("xai", [model_data("grok-3"), model_data("grok-2")])
    after = provider_file("xai", [
        model_data(
            "grok-3",
            pricing={
                "input_per_1m": Decimal("3.50"),
                "output_per_1m": Decimal("15.00"),
                "tiers": [{"above_tokens": 100000, "input_per_1m": Decimal("7.00"),
                           "output_per_1m": Decimal("30.5")}],
            },
            release_date=date(2025, 2, 17),
        ),
        model_data("grok-4", pricing={"input_per_1m": Decimal("0.0001"),
                                      "output_per_1m": Decimal("0")}),
    ])
    current = synced(before)
    current.overridden = {("xai", "grok-3"): frozenset({"input_per_1m"})}
    as_json = json.loads(json.dumps(compute_plan(*desired(after), current).as_dict()))
    assert as_json == {
        "changes": [
            {
                "action": "update",
                "kind": "model",
                "key": "xai/grok-3",
                "fields": {
                    "input_per_1m": {"old": 3.0, "new": 3.5},
                    "price_tiers": {
                        "old": [],
                        "new": [
                            {"above_tokens": 100000, "input_per_1m": 7.0, "output_per_1m": 30.5}
                        ],
                    },
                    "release_date": {"old": None, "new": "2025-02-17"},
                },
                "note": "list price changes, but an admin price override still masks it",
            },
            {
                "action": "create",
                "kind": "model",
                "key": "xai/grok-4",
                "fields": {
                    "display_name": {"old": None, "new": "Model grok-4"},
                    "model_type": {"old": None, "new": "chat"},
                    "category": {"old": None, "new": "general"},
                    "context_window": {"old": None, "new": 131072},
                    "max_output_tokens": {"old": None, "new": 8192},
                    "input_modalities": {"old": None, "new": ["text"]},
                    "output_modalities": {"old": None, "new": ["text"]},
                    "input_per_1m": {"old": None, "new": 0.0001},
                    "output_per_1m": {"old": None, "new": 0.0},
                    "capabilities": {"old": None, "new": ["chat", "reasoning"]},
                    "is_novel": {"old": None, "new": False},
                    "status": {"old": None, "new": "active"},
                },
            },
            {"action": "retire", "kind": "model", "key": "xai/grok-2", "fields": {}},
        ],
        "summary": {"create": 1, "update": 1, "retire": 1, "unchanged": 1},
    }
    prices = as_json["changes"][0]["fields"]["input_per_1m"]
    assert all(type(value) is float for value in prices.values())


def test_empty_plan_as_dict():
    file = provider_file("xai", [model_data("grok-3")])
    assert compute_plan(*desired(file), synced(file)).as_dict() == {
        "changes": [],
        "summary": {"create": 0, "update": 0, "retire": 0, "unchanged": 2},
    }


def test_a_change_is_a_create_an_update_or_a_retire():
    with pytest.raises(TypeError, match="a Change is a Create, an Update or a Retire"):
        Change("model", "xai/grok-3")
    assert Retire("model", "xai/grok-3").as_dict()["action"] == "retire"
