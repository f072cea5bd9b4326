"""The plan: what a sync would change, computed by a pure function of desired and current state.

Both sides are rows of canonical values (`rows.py`: sorted lists where order carries no
meaning, exact decimals, None for a missing optional), so that comparing them can never
show a change that is not one: after a sync, the plan is empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

from radiant_registry.rows import LIST_PRICE_FIELDS, MODEL_FIELDS, PROVIDER_FIELDS, Row

ModelKey = tuple[str, str]
Action = Literal["create", "update", "retire"]
Kind = Literal["provider", "model"]


def model_key(key: ModelKey) -> str:
    return f"{key[0]}/{key[1]}"


@dataclass
class CurrentState:
    """What the database holds for the providers in scope."""

    providers: dict[str, Row] = field(default_factory=dict)
    models: dict[ModelKey, Row] = field(default_factory=dict)
    retired_providers: set[str] = field(default_factory=set)
    retired_models: set[ModelKey] = field(default_factory=set)
    # The list prices an admin override masks, by model: input_per_1m, output_per_1m or both.
    overridden: dict[ModelKey, frozenset[str]] = field(default_factory=dict)
    disabled: set[ModelKey] = field(default_factory=set)  # switched off by an admin


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a plan, to a provider or a model: a `Create`, `Update` or `Retire`."""

    kind: Kind
    key: str  # a provider id, or "provider/model id"
    note: str | None = field(default=None, kw_only=True)  # said beside it in the plan
    action: ClassVar[Action]

    def __post_init__(self) -> None:
        if type(self) is Change:  # it has no action: say which it is
            raise TypeError("a Change is a Create, an Update or a Retire")

    @property
    def provider_id(self) -> str:
        """The provider of the change: its key, or the key's part before the first "/" (a
        model id may hold "/" itself; a provider id never does)."""
        return self.key.split("/", 1)[0]

    @property
    def fields(self) -> dict[str, tuple[Any, Any]]:
        """name -> (old, new): what the change sets."""
        return {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action,
            "kind": self.kind,
            "key": self.key,
            "fields": {
                name: {"old": _field_json(name, old), "new": _field_json(name, new)}
                for name, (old, new) in self.fields.items()
            },
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Create(Change):
    values: Row  # the desired row
    action: ClassVar[Action] = "create"

    @property
    def fields(self) -> dict[str, tuple[Any, Any]]:
        """Every set field, derived when asked for: a first sync creates 100,000 models and
        needs none of them unless it prints or logs them."""
        names = MODEL_FIELDS if self.kind == "model" else PROVIDER_FIELDS
        return _all_fields(self.values, names)


@dataclass(frozen=True, slots=True)
class Update(Change):
    changed: dict[str, tuple[Any, Any]]  # name -> (old, new)
    values: Row  # the desired row
    action: ClassVar[Action] = "update"

    @property
    def fields(self) -> dict[str, tuple[Any, Any]]:
        return self.changed


@dataclass(frozen=True, slots=True)
class Retire(Change):
    action: ClassVar[Action] = "retire"


_C = TypeVar("_C", bound=Change)


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    unchanged: int

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(change.action for change in self.changes)
        return {
            "create": counts["create"],
            "update": counts["update"],
            "retire": counts["retire"],
            "unchanged": self.unchanged,
        }

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of(self, action: type[_C], kind: Kind) -> list[_C]:
        """The changes of one action to one kind, e.g. `plan.of(Create, "model")`."""
        return [c for c in self.changes if type(c) is action and c.kind == kind]

    def without_retires(self) -> Plan:
        kept = [c for c in self.changes if not isinstance(c, Retire)]
        return Plan(kept, self.unchanged)

    def applicable(self, prune: bool) -> Plan:
        """What a sync applies: retires only with --prune (otherwise they stay pending)."""
        return self if prune else self.without_retires()

    def as_dict(self) -> dict[str, Any]:
        return {"changes": [c.as_dict() for c in self.changes], "summary": self.summary}


def compute_plan(
    desired_providers: Mapping[str, Row],
    desired_models: Mapping[ModelKey, Row],
    current: CurrentState,
) -> Plan:
    """Creates, updates (field by field) and retires that bring `current` to the desired state."""
    changes: list[Change] = []
    unchanged = 0
    for pid in sorted(desired_providers):
        new = desired_providers[pid]
        old = current.providers.get(pid)
        if old is None:
            changes.append(Create("provider", pid, new))
            continue
        fields = _changed(old, new, PROVIDER_FIELDS)
        if pid in current.retired_providers:
            fields["retired"] = (True, False)
        if fields:
            changes.append(Update("provider", pid, fields, new))
        else:
            unchanged += 1
    folded: dict[ModelKey, str] | None = None  # built at the first model created
    for key in sorted(desired_models):
        new = desired_models[key]
        old = current.models.get(key)
        if old is None:
            if folded is None:
                folded = {(pid, mid.casefold()): mid for pid, mid in current.models}
            twin = folded.get((key[0], key[1].casefold()))
            note = None if twin is None else _case_twin_note(model_key((key[0], twin)))
            changes.append(Create("model", model_key(key), new, note=note))
            continue
        fields = _changed(old, new, MODEL_FIELDS)
        returning = key in current.retired_models
        if returning:
            fields["retired"] = (True, False)
        if not fields:
            unchanged += 1
            continue
        notes = []
        if returning:  # its row kept the admin's state: it applies again
            notes.append(_RETURN_NOTES.get((key in current.overridden, key in current.disabled)))
        masked = current.overridden.get(key, frozenset())
        if any(name in fields for name in masked):
            notes.append("list price changes, but an admin price override still masks it")
        note = "; ".join(filter(None, notes)) or None
        changes.append(Update("model", model_key(key), fields, new, note=note))
    for key in sorted(set(current.models) - set(desired_models) - current.retired_models):
        # A renamed model is a create and a retire: its admin's state stays behind.
        note = _admin_state_note(key in current.overridden, key in current.disabled)
        changes.append(Retire("model", model_key(key), note=note))
    for pid in sorted(set(current.providers) - set(desired_providers) - current.retired_providers):
        changes.append(Retire("provider", pid))
    return Plan(changes, unchanged)


def _admin_state_note(overridden: bool, disabled: bool) -> str | None:
    """What a retired model keeps of its admin's state, that a model replacing it lacks."""
    return _ADMIN_STATE_NOTES.get((overridden, disabled))


_ADMIN_STATE_NOTES = {
    (True, False): "has an admin price override, which stays with it: a model that "
    "replaces it starts at list price",
    (False, True): "is disabled by an admin, which stays with it: a model that replaces it "
    "starts enabled",
    (True, True): "has an admin price override and is disabled, both of which stay with "
    "it: a model that replaces it starts at list price and enabled",
}


_RETURN_NOTES = {
    (True, False): "comes back with the admin price override its row kept, which applies again",
    (False, True): "comes back disabled, as an admin left it: `registry enable` to serve it",
    (True, True): "comes back disabled, as an admin left it, and with the admin price "
    "override its row kept, which applies again",
}


def _case_twin_note(twin: str) -> str:
    # Ids are case-sensitive, as the providers' APIs are: a change of case is a new model,
    # and the admin's state stays with the row it was set on.
    return (
        f"differs from {twin} only in case: a new model, enabled and at list price; "
        f"a price override or disable on {twin} stays with it"
    )


def _changed(old: Row, new: Row, names: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    return {
        name: (old.get(name), new.get(name)) for name in names if old.get(name) != new.get(name)
    }


def _all_fields(new: Row, names: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    return {name: (None, new[name]) for name in names if new.get(name) not in (None, [])}


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Values as JSON wants them: prices as numbers, dates as ISO strings."""
    if type(value) in _JSON_SCALARS:  # most values: said first, a JSON log holds millions
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def _field_json(name: str, value: Any) -> Any:
    """A field's value as JSON; tier prices, kept as canonical strings, become numbers too."""
    if type(value) in _JSON_SCALARS:
        return value
    if name == "price_tiers" and value:
        value = [
            {
                k: Decimal(v) if k in LIST_PRICE_FIELDS and v is not None else v
                for k, v in tier.items()
            }
            for tier in value
        ]
    return jsonable(value)


@dataclass(frozen=True)
class PruneRefusal:
    key: str
    reason: str


MAX_PRUNE_FRACTION = 0.25


def _models(count: int) -> str:
    return f"{count} model" if count == 1 else f"{count} models"


def prune_refusals(plan: Plan, current: CurrentState) -> list[PruneRefusal]:
    """Retires too large to apply without --force: a whole provider, or over a quarter of
    its models not yet retired (enabled or not). One refusal per provider, in id order."""
    whole = {c.key for c in plan.of(Retire, "provider")}
    retiring = Counter(c.provider_id for c in plan.of(Retire, "model"))
    active = Counter(pid for pid, _ in current.models.keys() - current.retired_models)
    refusals = []
    for pid in sorted(whole | retiring.keys()):
        count, total = retiring[pid], active[pid]
        if pid in whole:
            models = f", with its {_models(count)}" if count else ""
            refusals.append(PruneRefusal(pid, f"retires the whole provider{models}"))
        elif total and count / total > MAX_PRUNE_FRACTION:
            refusals.append(
                PruneRefusal(pid, f"retires {count} of its {_models(total)} not yet retired")
            )
    return refusals
