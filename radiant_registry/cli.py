"""The `registry` command: parse arguments, call the library, render, map errors to exit codes.

Database modules are imported inside the commands that need them, so that `--help` and
`validate` never pay for SQLAlchemy, Alembic or a driver.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from radiant_registry import render
from radiant_registry.errors import ExitCode, InvalidRegistry, RegistryError

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import UsageError as _ClickUsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError as _ClickUsageError


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Domain errors become a message and their exit code; usage errors exit 64, not 2."""
    try:
        yield
    except _ClickUsageError as exc:
        exc.exit_code = ExitCode.USAGE  # 2 is reserved for "changes pending"
        raise
    except InvalidRegistry as exc:
        render.problems(exc.problems, render.current_format())
        raise typer.Exit(exc.exit_code) from None
    except RegistryError as exc:
        render.error(str(exc))
        raise typer.Exit(exc.exit_code) from None


class _Group(TyperGroup):
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _mapped_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _mapped_errors():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_Group,
    help="Keep the catalogue of AI providers and models: validate the YAML files, "
    "diff them against the database, sync, and read the result back.\n\n"
    "Example: registry validate && registry sync --yes",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from radiant_registry import __version__

        typer.echo(f"radiant-registry {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keep the catalogue of AI providers and models."""


class Format(str, Enum):
    table = "table"
    json = "json"


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of registry files (default: $REGISTRY_DATA_DIR, ./registry_data, "
        "or the data bundled with the tool).",
        file_okay=False,
        show_default=False,
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]


@app.command()
def validate(data_dir: DataDirOption = None, output: FormatOption = Format.table) -> None:
    """Check every registry file; report each problem as path:line:column: message.

    Exits 0 when the files are valid and 65 when any problem is found.

    Example: registry validate --format json
    """
    from radiant_registry.config import resolve_data_dir
    from radiant_registry.loader import load_registry

    render.set_format(output.value)
    chosen = resolve_data_dir(data_dir)
    render.info(f"Reading registry files from {chosen}")
    registry = load_registry(chosen.path)
    render.validation_summary(registry)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
