"""Everything the CLI prints: tables for people, JSON for machines, kept apart from the logic."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from radiant_registry.errors import Problem

if TYPE_CHECKING:
    from radiant_registry.loader import Registry

_state = {"format": "table"}


def set_format(name: str) -> None:
    """The output format of this invocation, also used for errors raised later."""
    _state["format"] = name


def current_format() -> str:
    return _state["format"]


def stdout() -> Console:
    # Made per call so that test runners that swap sys.stdout see the output.
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def info(message: str) -> None:
    """A line for the person at the terminal; on stderr, so stdout stays machine-readable."""
    stderr().print(message, markup=False)


def error(message: str) -> None:
    if current_format() == "json":
        print(json.dumps({"error": message}), file=sys.stderr)
    else:
        stderr().print(f"[bold red]error:[/] {message}", highlight=False)


def write_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def problems(found: Sequence[Problem], fmt: str) -> None:
    if fmt == "json":
        write_json([p.as_dict() for p in found])
        return
    for problem in found:
        print(problem)
    files = len({p.file for p in found})
    stderr().print(f"[bold red]{len(found)} problem(s)[/] in {files} file(s)")


def validation_summary(registry: Registry) -> None:
    if current_format() == "json":
        write_json([])
        return
    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    table.add_column("provider")
    table.add_column("models", justify="right")
    for loaded in sorted(registry.files.values(), key=lambda f: f.content.provider.id):
        table.add_row(loaded.content.provider.id, str(len(loaded.content.models)))
    console = stdout()
    console.print(table)
    console.print(
        f"[bold green]OK[/]: {len(registry.files)} providers, {registry.model_count} models, "
        f"{len(registry.capabilities)} capabilities"
    )
