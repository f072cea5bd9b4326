"""The `registry` command: parse arguments, call the library, render, map errors to exit codes.

Database modules are imported inside the commands that need them, so that `--help` and
`validate` never pay for SQLAlchemy, Alembic or a driver.
"""

from __future__ import annotations

import gc
import io
import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer._click import exceptions as click_errors  # typer >= 0.26 vendors click
from typer.core import TyperCommand, TyperGroup

from radiant_registry import interrupts, prompt, render
from radiant_registry.config import LOCK_TIMEOUT_S, MAX_LOCK_TIMEOUT_S, Absent
from radiant_registry.errors import (
    ExitCode,
    InvalidRegistry,
    RegistryError,
    UsageError,
    interruption,
    io_failure,
    unexpected,
)
from radiant_registry.printable import escaped, redacted

if TYPE_CHECKING:  # at run time, imported by the commands that need them
    from sqlalchemy import Connection

    from radiant_registry.loader import Registry
    from radiant_registry.log import EventLog
    from radiant_registry.plan import Plan
    from radiant_registry.urls import DatabaseUrl


# How click itself ends a command (typer.Exit, Abort) or says a usage error: not failures.
_CLICK_FLOW = (typer.Exit, typer.Abort, click_errors.ClickException)
_T = TypeVar("_T")


@dataclass
class _Committed:
    """The sync run this invocation committed: from then on, a Ctrl-C or SIGTERM (one that
    lands while the command's objects are freed, say) is said as after the commit."""

    run_id: int | None = None


_committed = _Committed()


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Domain errors become a message and their exit code; usage errors exit 64, not 2."""
    try:
        yield
    except click_errors.UsageError as exc:
        exc.exit_code = ExitCode.USAGE  # 2 is reserved for "changes pending"
        exc.message = redacted(exc.message)  # it may echo a stray database URL
        if not render.errors_as_json():
            raise  # click prints it, with the usage line
        where = f"; see `{exc.ctx.command_path} --help`" if exc.ctx else ""
        render.error(exc.format_message().rstrip(".") + where)
        raise typer.Exit(ExitCode.USAGE) from None
    except InvalidRegistry as exc:
        render.problems(exc.problems)
        raise typer.Exit(exc.exit_code) from None
    except RegistryError as exc:
        try:
            message = str(exc)  # an UnknownModel's "did you mean" takes seconds: interruptible
        except KeyboardInterrupt as stop:
            _interrupted(stop)
        render.error(message)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Stopped)
        _interrupted(exc)
    except (*_CLICK_FLOW, BrokenPipeError):
        raise  # a reader gone (`| head`): click ends the command quietly, exit 1
    except OSError as exc:  # output to a full disk or a closed descriptor, say
        render.error(io_failure(exc))
        raise typer.Exit(ExitCode.IOERR) from None
    except Exception as exc:
        # A bug, or a case no one foresaw: one line (JSON in a JSON log), never a traceback
        # whose frames could show a password. Its words may quote a URL: redacted.
        render.error(
            f"{redacted(unexpected(exc))}; this is a bug in radiant-registry: please report it"
        )
        raise typer.Exit(ExitCode.SOFTWARE) from None


def _interrupted(exc: KeyboardInterrupt) -> NoReturn:
    """Say what interrupted the command, once, after the progress display is gone (it hides
    the cursor while shown); exit 130 or 143."""
    if _committed.run_id is not None:
        from radiant_registry.apply import interrupted_after_commit

        after = interrupted_after_commit(exc, _committed.run_id)
        render.error(str(after))
        raise typer.Exit(after.exit_code) from None
    what, exit_code = interruption(exc)
    render.error(what)
    raise typer.Exit(exit_code) from None


def _preset_error_format(argv: list[str]) -> None:
    """Usage errors are found before a command sets up its output: when the command line
    asks for JSON logs or JSON output, they are said in JSON too (cron parses its log)."""
    from radiant_registry.log import EventLog

    for option, value in itertools.pairwise([*argv, None]):
        if option == "--log-format=json" or (option == "--log-format" and value == "json"):
            render.set_log(EventLog("json"))
        elif option == "--format=json" or (option == "--format" and value == "json"):
            render.set_format("json")


class _FlagHelp:
    """--help and -h as the flags they are (as `_flag` does for ours): no `<bool>`."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class _Command(_FlagHelp, TyperCommand):
    pass


class _Group(_FlagHelp, TyperGroup):
    def make_context(
        self, info_name: str | None, args: list[str], *rest: Any, **kwargs: Any
    ) -> Any:
        # Each invocation starts with plain output, also when several run in one process.
        render.set_format("table")
        render.set_log(None)
        render.drop_unusable_sizes()
        _committed.run_id = None
        _preset_error_format(args)
        with _mapped_errors():
            return super().make_context(info_name, args, *rest, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _mapped_errors():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_Group,
    # Should a traceback ever get past _mapped_errors, no local variable (a URL) in it.
    pretty_exceptions_show_locals=False,
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


def _flag(*names: str, **settings: Any) -> Any:
    """An option that takes no value: without a metavar, newer typers show it as `<bool>`,
    as if it took one (`--exit-code true` is then a usage error)."""
    return typer.Option(*names, metavar="", **settings)


def _repeatable(*names: str, help: str, metavar: str) -> Any:
    """An option that may be given several times (a list; none given is None)."""
    return typer.Option(*names, help=help, metavar=metavar, show_default=False)


@app.callback()
def _root(
    version: Annotated[
        bool, _flag("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keep the catalogue of AI providers and models."""


class Format(StrEnum):
    table = "table"
    json = "json"


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of registry files (default: $REGISTRY_DATA_DIR, ./registry_data, "
        "or the data bundled with the tool).",
        show_default=False,
        readable=False,  # checked with the other folders' (exit 78), not as usage (64)
    ),
]


def _output_format(value: StrEnum) -> StrEnum:
    """Every command's --format, set for the invocation's output (errors raised later
    too) as soon as it is parsed: click calls this for the default as well."""
    render.set_format(value.value)
    return value


FormatOption = Annotated[
    Format, typer.Option("--format", help="Output format.", callback=_output_format)
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL (default: $REGISTRY_DATABASE_URL, $DATABASE_URL, or "
        "sqlite:///registry.db). postgresql://, postgres:// and sqlite:///PATH are accepted.",
        metavar="<url>",
        show_default=False,
    ),
]
ProvidersOption = Annotated[
    list[str] | None,
    _repeatable("--provider", "-p", help="Only this provider (repeatable).", metavar="<id>"),
]
ModelArgument = Annotated[
    str,
    typer.Argument(metavar="MODEL", help="provider/model, or a model id only one provider has."),
]


def _lock_timeout(seconds: float) -> float:
    # Not typer's min=/max=: they told nan that it exceeded the maximum. This comparison is
    # False for nan, so nan gets the same message as any other value out of range.
    if not 0 <= seconds <= MAX_LOCK_TIMEOUT_S:
        # repr, not :g, which rounds 3600.0000001 to the bound it exceeds.
        given = repr(seconds).removesuffix(".0")
        raise typer.BadParameter(f"seconds from 0 to {MAX_LOCK_TIMEOUT_S}, not {given}")
    return seconds


LockTimeoutOption = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        callback=_lock_timeout,
        help=f"Seconds to wait for another sync's lock before exiting 75 "
        f"(0 to {MAX_LOCK_TIMEOUT_S}).",
        metavar="<seconds>",
    ),
]


class LogFormat(StrEnum):
    text = "text"
    json = "json"


LogFormatOption = Annotated[
    LogFormat,
    typer.Option("--log-format", help="json: one JSON object per line on stderr, for cron."),
]
QuietOption = Annotated[bool, _flag("--quiet", "-q", help="Print only errors.")]
FullOption = Annotated[
    bool,
    _flag(
        "--full",
        help="Read and compare every file, also those unchanged since the sync that applied "
        "them (finds rows edited in the database behind the tool's back).",
    ),
]


@app.command(cls=_Command)
def validate(data_dir: DataDirOption = None, output: FormatOption = Format.table) -> None:
    """Check every registry file; report each problem as path:line:column: message.

    Exits 0 when the files are valid and 65 when any problem is found.

    Example: registry validate --format json
    """
    from radiant_registry.log import EventLog

    log = EventLog()
    render.set_log(log)
    try:
        registry = _load(data_dir, None, log)
    except InvalidRegistry as exc:
        render.problems(exc.problems, as_result=True)
        raise typer.Exit(exc.exit_code) from None
    log.stop_progress()
    render.validation_summary(registry)


@contextmanager
def _database(
    url: str | DatabaseUrl | None,
    lock_timeout: float = LOCK_TIMEOUT_S,
    *,
    absent: Absent = Absent.refuse,
    log: EventLog | None = None,
) -> Iterator[Connection]:
    """`db.connect` to the chosen database, saying which on stderr (or in the log)."""
    from radiant_registry import db, urls

    def say(event: str, text: str, **fields: str) -> None:
        if log is None:
            render.info(text)
        else:
            log.event(event, text, **fields)

    database = url if isinstance(url, urls.DatabaseUrl) else urls.resolve_url(url)
    with db.connect(database, lock_timeout, absent=absent, say=say) as conn:
        yield conn


def _load(
    data_dir: Path | None,
    providers: list[str] | None,
    log: EventLog,
    conn: Connection | None = None,
    full: bool = False,
) -> Registry:
    """Load the registry files; with `conn`, skip those the database has applied already."""
    from radiant_registry.config import resolve_data_dir
    from radiant_registry.loader import load_registry

    chosen = resolve_data_dir(data_dir)
    log.event("registry", f"Registry files: {chosen}", data_dir=str(chosen.path))
    skip = None
    if conn is not None and not full:
        from radiant_registry.state import skip_applied

        skip = skip_applied(conn)
    return load_registry(
        chosen.path,
        providers=providers,
        progress=lambda done, total: log.progress("files read", done, total),
        skip=skip,
    )


def _print(output: Format, data: _T, table: Callable[[_T], None]) -> None:
    """A read command's result: JSON for machines, or `table` for people."""
    if output is Format.json:
        render.write_json(data)
    else:
        table(data)


@app.command(cls=_Command)
def diff(
    providers: ProvidersOption = None,
    output: FormatOption = Format.table,
    exit_code: Annotated[
        bool, _flag("--exit-code", help="Exit 2 when there are changes, 0 when none.")
    ] = False,
    full: FullOption = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show what a sync would change in the database, field by field.

    Models and providers missing from the files are listed as retires.
    A sync applies those only with --prune.

    Example: registry diff --provider xai --format json --exit-code
    """
    from radiant_registry.apply import SyncOptions, preview
    from radiant_registry.log import EventLog

    log = EventLog()
    render.set_log(log)
    with _database(database_url, absent=Absent.read_as_empty, log=log) as conn:
        registry = _load(data_dir, providers, log, conn=conn, full=full)
        plan = preview(conn, registry, SyncOptions())
    log.stop_progress()
    if output is Format.json:
        render.write_json(plan.as_dict())
    else:
        render.plan(plan, pruning=False)  # a retire waits for sync --prune: say so
    if exit_code and plan:
        raise typer.Exit(ExitCode.CHANGES_PENDING)


@app.command("sync", cls=_Command)
def sync_command(
    providers: ProvidersOption = None,
    yes: Annotated[bool, _flag("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[bool, _flag("--dry-run", help="Show the plan, write nothing.")] = False,
    prune: Annotated[
        bool, _flag("--prune", help="Retire models and providers missing from the files.")
    ] = False,
    force: Annotated[
        bool,
        _flag("--force", help="Allow a prune that retires a provider or over 25% of one."),
    ] = False,
    lock_timeout: LockTimeoutOption = LOCK_TIMEOUT_S,
    log_format: LogFormatOption = LogFormat.text,
    quiet: QuietOption = False,
    full: FullOption = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Validate the files and bring the database to their state, in one transaction.

    Price overrides and an admin's enable/disable are never touched. Initialises a
    brand-new database. Without a terminal, or with --quiet or JSON logs, --yes is required.

    Example (cron): registry sync --yes --log-format json
    """
    from radiant_registry import apply
    from radiant_registry.log import EventLog

    log = EventLog(log_format.value, quiet)
    render.set_log(log)
    if force and not prune:  # it allows a large prune: alone it would be a silent no-op
        raise UsageError("--force goes with --prune: pass both to allow a large prune")
    if not (yes or dry_run):
        if log.machine or quiet:
            shown_by = "--log-format json" if log.machine else "--quiet"
            raise UsageError(f"{shown_by} shows no plan to confirm: pass --yes to apply it")
        prompt.require_terminal("apply without asking")
    log.event(
        "sync.start", "Starting sync", providers=providers or None, dry_run=dry_run, prune=prune
    )
    options = apply.SyncOptions(prune=prune, force=force)

    def show(plan: Plan) -> None:
        log.stop_progress()
        if not log.machine and not quiet:
            render.plan(plan, pruning=prune)

    aborted = False

    def confirm(plan: Plan) -> bool:
        """Called under the lock with every non-empty plan, before anything is written."""
        nonlocal aborted
        show(plan)
        if yes or not plan.applicable(prune):
            return True  # nothing to ask: pending retires alone are only reported
        try:
            answer = prompt.confirm("Apply these changes?")
        except typer.Abort:  # Ctrl-C or Ctrl-D: a "no", said as click says it, once out
            aborted = True
            return False
        log.paused()
        return answer

    # A SQLite file not created yet has no applied files to skip: check the files first
    # (said before the database, then), so that a sync refused for them leaves no empty
    # database file behind.
    from radiant_registry import urls

    database = urls.resolve_url(database_url)
    registry = _load(data_dir, providers, log) if urls.not_created_yet(database) else None
    absent = Absent.read_as_empty if dry_run else Absent.create
    with _database(database, lock_timeout, absent=absent, log=log) as conn:
        if registry is None:
            registry = _load(data_dir, providers, log, conn=conn, full=full)
        if dry_run:
            apply.dry_run(conn, registry, options, log, show)
            return
        result = apply.sync(conn, registry, options, log, confirm)
        if result.applied:  # an interruption from here on is said as after the commit
            _committed.run_id = result.run_id
    log.stop_progress()
    if aborted:
        raise typer.Abort()
    if not result.applied:
        log.event("sync.cancelled", "Nothing written")


@app.command("list", cls=_Command)
def list_command(
    providers: ProvidersOption = None,
    capabilities: Annotated[
        list[str] | None,
        _repeatable(
            "--capability",
            help="Only models with this capability (repeatable: with every one).",
            metavar="<name>",
        ),
    ] = None,
    categories: Annotated[
        list[str] | None,
        _repeatable(
            "--category",
            help="Only models of this category (repeatable: of any one).",
            metavar="<category>",
        ),
    ] = None,
    novel: Annotated[
        bool | None,
        _flag("--novel/--not-novel", help="Only novel, or only not novel, models."),
    ] = None,
    include_all: Annotated[
        bool, _flag("--all", help="Include retired and disabled models.")
    ] = False,
    sort: Annotated[
        str,
        typer.Option(
            help="Sort by: provider, id, context_window, "
            "max_output_tokens, input_price, output_price, category.",
            metavar="<field>",
        ),
    ] = "provider",
    output: Annotated[
        ListFormat, typer.Option("--format", help="Output format.", callback=_output_format)
    ] = ListFormat.table,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List models with their effective prices (* marks an admin override).

    Example: registry list --provider xai --sort input_price
    """
    from radiant_registry.queries import ModelFilter, list_models

    flt = ModelFilter(
        tuple(providers or ()),
        tuple(capabilities or ()),
        tuple(categories or ()),
        novel,
        include_all,
        sort,
    )
    with _database(database_url) as conn:
        listing = list_models(conn, flt)
    render.empty_list_notes(listing)
    if output is ListFormat.json:
        render.write_json(listing.records)
    elif output is ListFormat.csv:
        render.models_csv(listing.records)
    else:
        render.models_table(listing.records, show_state=include_all)


@app.command(cls=_Command)
def show(
    model: ModelArgument,
    output: FormatOption = Format.table,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Every field of one model, its list and effective price, and any override.

    Example: registry show xai/grok-3
    """
    from radiant_registry.queries import locate, show_model

    with _database(database_url) as conn:
        located = locate(conn, model)
        record = show_model(conn, located.key)
    render.model_notes(model, located, note_retired=False)  # the detail shows it
    _print(output, record, render.model_detail)


@app.command("providers", cls=_Command)
def providers_command(
    output: FormatOption = Format.table, database_url: DatabaseUrlOption = None
) -> None:
    """Each provider with its auth type, API base, number of active models and state.

    Example: registry providers --format json
    """
    from radiant_registry.queries import list_providers

    with _database(database_url) as conn:
        rows = list_providers(conn)
    _print(output, rows, render.providers_table)


@app.command(cls=_Command)
def history(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many runs.")] = 20,
    output: FormatOption = Format.table,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Recent sync runs, newest first, failed ones too.

    Example: registry history --limit 5
    """
    from radiant_registry.queries import sync_history

    with _database(database_url) as conn:
        runs = sync_history(conn, limit)
    _print(output, runs, render.history_table)


price_app = typer.Typer(
    cls=_Group,
    help="Admin price overrides: they survive every sync.\n\n"
    'Example: registry price set xai/grok-3 --input 2.50 --reason "negotiated rate"',
    no_args_is_help=True,
)
app.add_typer(price_app, name="price")
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who makes the change (default: the OS user).", metavar="<who>"),
]


@price_app.command("set", cls=_Command)
def price_set(
    model: ModelArgument,
    reason: Annotated[str, typer.Option(help="Why the price is overridden.", metavar="<text>")],
    input_price: Annotated[
        str | None, typer.Option("--input", help="USD per 1M input tokens.", metavar="<usd>")
    ] = None,
    output_price: Annotated[
        str | None, typer.Option("--output", help="USD per 1M output tokens.", metavar="<usd>")
    ] = None,
    by: ByOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Override a model's price in the database.

    Example: registry price set xai/grok-3 --input 2.50 --output 12.00 --reason "negotiated rate"
    """
    from radiant_registry.admin import override, set_price

    change = override(input_price, output_price, reason, by)
    with _database(database_url) as conn:
        done = set_price(conn, model, change)
    render.model_notes(model, done.model)
    render.override_set(done)


@price_app.command("clear", cls=_Command)
def price_clear(model: ModelArgument, database_url: DatabaseUrlOption = None) -> None:
    """Remove a model's price override: the list price applies again.

    Example: registry price clear xai/grok-3
    """
    from radiant_registry.admin import clear_price

    with _database(database_url) as conn:
        located = clear_price(conn, model)
    render.model_notes(model, located, change_holds=False)  # the list price applies
    render.info(f"Price override cleared on {located.name}")


@price_app.command("list", cls=_Command)
def price_list(output: FormatOption = Format.table, database_url: DatabaseUrlOption = None) -> None:
    """Every price override, with the list price it masks.

    Example: registry price list --format json
    """
    from radiant_registry.admin import list_overrides

    with _database(database_url) as conn:
        rows = list_overrides(conn)
    _print(output, rows, render.overrides_table)


@app.command(cls=_Command)
def disable(
    model: ModelArgument,
    reason: Annotated[str, typer.Option(help="Why the model is disabled.", metavar="<text>")],
    by: ByOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Switch a model off: it stays in the database, out of `list` unless --all. No sync flips it.

    Example: registry disable xai/grok-2 --reason "superseded by grok-3"
    """
    _switch(model, False, reason, by, database_url)


@app.command(cls=_Command)
def enable(
    model: ModelArgument,
    reason: Annotated[
        str | None, typer.Option(help="Why the model is enabled again.", metavar="<text>")
    ] = None,
    by: ByOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Switch a model back on.

    Example: registry enable xai/grok-2
    """
    _switch(model, True, reason, by, database_url)


def _switch(
    model: str, enabled: bool, reason: str | None, by: str | None, database_url: str | None
) -> None:
    """disable and enable: one switch, said as done or as already so."""
    from radiant_registry.admin import set_enabled, switch_to

    change = switch_to(enabled, reason, by)
    with _database(database_url) as conn:
        switch = set_enabled(conn, model, change)
    render.model_notes(model, switch.model, change_holds=switch.changed)
    render.switched(switch)


db_app = typer.Typer(
    cls=_Group,
    help="The database schema, owned by Alembic migrations.\n\nExample: registry db upgrade",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade", cls=_Command)
def db_upgrade(
    revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Migrate the schema up to REVISION (default: head).

    Example: registry db upgrade
    """
    from radiant_registry import db, migrations

    migrations.check_target(revision)
    with _database(database_url, absent=Absent.create) as conn, db.registry_write(conn):
        migrations.upgrade(conn, revision)
        current = migrations.current_revision(conn)
    render.info(f"Schema at revision {current or 'base (empty)'}")


@db_app.command("downgrade", cls=_Command)
def db_downgrade(
    revision: Annotated[
        str,
        typer.Argument(
            metavar="REVISION",
            help="Target revision; 'base' drops every table. A relative one goes after --, "
            "and the options before it: registry db downgrade --yes -- -1",
        ),
    ],
    yes: Annotated[bool, _flag("--yes", "-y", help="Do not ask for confirmation.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Migrate the schema down to REVISION; asks first, unless --yes.

    Dropped tables take their data with them, admin price overrides and switches included.

    Example: registry db downgrade base --yes
    """
    from radiant_registry import db, migrations

    def confirm() -> bool:
        """Asked once the database is named and its revision checked, before any drop."""
        if yes:
            return True
        prompt.require_terminal("downgrade")
        return prompt.confirm(f"Downgrade it to {revision}? Data in dropped tables is lost")

    migrations.check_target(revision)
    with _database(database_url, absent=Absent.read_as_empty) as conn:
        if not yes:
            # Refused (64) before waiting for the lock where no one could answer; read
            # without it, as the question is asked again under it.
            with conn.begin():
                if migrations.known_revision(conn) is not None:
                    prompt.require_terminal("downgrade")
        with db.registry_write(conn):
            done = migrations.downgrade(conn, revision, confirm)
            current = migrations.current_revision(conn)
    if done == "empty":
        render.info("Schema at revision base (empty): nothing to downgrade")
    elif done == "declined":
        render.info("Nothing changed.")
    else:
        render.info(f"Schema at revision {current or 'base (empty)'}")


@db_app.command("current", cls=_Command)
def db_current(database_url: DatabaseUrlOption = None) -> None:
    """Print the schema revision of the database, and the tool's head.

    Example: registry db current
    """
    from radiant_registry import migrations

    with _database(database_url, absent=Absent.read_as_empty) as conn, conn.begin():
        typer.echo(escaped(migrations.status(conn)))  # the revision is any text


def main() -> None:
    """Console-script entry point."""
    # A sync builds millions of small objects and keeps most of them to the end, in trees
    # without cycles: the collector would find nothing and costs a quarter of the run (a
    # tenth even at rare thresholds). The process is short-lived, so it runs without one;
    # the benchmark's peak-memory figures are measured so.
    gc.disable()
    # systemd's stop and timeout(1) send SIGTERM: unwind as Ctrl-C does (roll back, record
    # the run, end the workers), where the default would end the process on the spot.
    interrupts.install()
    render.open_missing_streams()
    # A terminal or a cron mail set to an encoding without some character of a model's name
    # gets an escape (\u65d7), not a traceback: as Python's stderr already does.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        app()
    finally:
        interrupts.exiting()
        # The interpreter still collects once on its way out, walking every object left;
        # frozen ones it skips (a tenth of a second saved on every run).
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
