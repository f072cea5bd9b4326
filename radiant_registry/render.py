"""Everything the CLI prints: tables for people, JSON for machines, kept apart from the logic."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import sys
import unicodedata
from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from radiant_registry.errors import Problem
from radiant_registry.layout import add_column, print_table
from radiant_registry.printable import CONTROL_CHARACTERS, escaped, invisible, redacted

if TYPE_CHECKING:
    from radiant_registry.admin import OverrideSet, Switch
    from radiant_registry.loader import Registry
    from radiant_registry.log import EventLog
    from radiant_registry.plan import Plan
    from radiant_registry.queries import Listing, Located


@dataclass
class _Invocation:
    """What one command's output is set up with (module state: the CLI runs one command)."""

    format: str = "table"
    log: EventLog | None = None


_invocation = _Invocation()


class _ClosedStream(io.TextIOBase):
    """Standard output the process was started without (`registry list >&-`), which Python
    leaves None: writing to it fails as writing to any closed descriptor does (exit 74),
    where print() would drop the output and report success."""

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def open_missing_streams() -> None:
    """Stand-ins for standard streams closed at start. Standard output: one that fails on
    the first write (a command that writes none still works). Standard error, where only
    messages go: the null device, so that output and exit codes stay what they would be.

    Descriptors 1 and 2 are opened on the null device too: left free, the next file or
    socket opened would take them, and whatever writes there below Python (a fatal error,
    a library's warning) would land in it, a database connection say."""
    for fd in (1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)  # the lowest free descriptor: maybe fd
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = _ClosedStream()
    if sys.stderr is None:  # as Python's own stderr: an unencodable character is escaped
        sys.stderr = open(2, "w", errors="backslashreplace", closefd=False)  # noqa: SIM115


def set_format(name: str) -> None:
    """The output format of this invocation, also used for errors raised later."""
    _invocation.format = name


def set_log(log: EventLog | None) -> None:
    """The event log of this invocation: with --log-format json, errors are JSON lines too."""
    _invocation.log = log


def current_format() -> str:
    return _invocation.format


def errors_as_json() -> bool:
    log = _invocation.log
    return (log is not None and log.machine) or current_format() == "json"


PIPED_WIDTH = 240


def _console(file: Any) -> Console:
    # Made per call so that test runners that swap sys.stdout see the output.
    # emoji=False: ":new:" in a fine-tuned model id (ft:grok:acme:new:x) is text, not an emoji.
    return Console(
        file=file, highlight=False, soft_wrap=True, markup=False, emoji=False, width=_width(file)
    )


def drop_unusable_sizes() -> None:
    """Unset $COLUMNS and $LINES unless they are plain numbers above 0: rich reads them with
    `str.isdigit`, which takes `²` for a digit, and then fails to convert it; and would
    print a table 0 columns wide one character a line."""
    for name in ("COLUMNS", "LINES"):
        if name in os.environ and not _SIZE.fullmatch(os.environ[name]):
            del os.environ[name]


_SIZE = re.compile(r"0*[1-9][0-9]*")


def _width(file: Any) -> int | None:
    """A terminal's own width (None: rich asks it). Piped output gets a wide line, so that
    tables in logs and files are not wrapped at 80 columns, unless $COLUMNS sets one."""
    if file.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if _SIZE.fullmatch(columns) else PIPED_WIDTH


def stdout() -> Console:
    return _console(sys.stdout)


def stderr() -> Console:
    return _console(sys.stderr)


def info(message: str) -> None:
    """A line for the person at the terminal; on stderr, so stdout stays machine-readable."""
    stderr().print(escaped(redacted(message)))  # it may quote a hand-edited row, or a URL


def error(message: str) -> None:
    """The command's error, on stderr; where that cannot be written (a full disk, its
    reader gone) it is dropped, and the exit code alone says it."""
    log = _invocation.log
    message = redacted(message)  # it may echo what was typed: a URL with its password
    with suppress(OSError):
        if log is not None:
            log.stop_progress()
        if log is not None and log.machine:
            log.error(message)
        elif current_format() == "json":
            sys.stderr.write(json.dumps({"error": message}) + "\n")  # one write: see log._emit
        else:
            stderr().print(Text.assemble(("error: ", "bold red"), escaped(message)))


def write_json(data: Any) -> None:
    """Records as JSON on stdout: prices as numbers, dates and times as ISO strings.

    No `default=`: a value of a type nobody thought of is an error, not a quiet string.
    """
    from radiant_registry.plan import jsonable  # one conversion, shared with the plan

    print(json.dumps(jsonable(data), indent=2))
    sys.stdout.flush()  # as models_csv does


def problems(found: Sequence[Problem], *, as_result: bool = False) -> None:
    """Problems in the registry files: `validate`'s result, on stdout, or the error of a
    command that needed valid files, on stderr (a `diff --format json` reader finds a plan
    on stdout, or nothing). An error that cannot be written is dropped, as in `error`."""
    log = _invocation.log
    if log is not None:
        log.stop_progress()
    if as_result:
        _problems(found, as_result=True)
    else:
        with suppress(OSError):
            _problems(found, as_result=False)


def _problems(found: Sequence[Problem], *, as_result: bool) -> None:
    log = _invocation.log
    if log is not None and log.machine:
        for problem in found:
            log.error(problem.message, **problem.location)
    elif current_format() == "json" and as_result:
        write_json([p.as_dict() for p in found])
    elif current_format() == "json":  # as `error` says one: a line each
        for problem in found:
            sys.stderr.write(json.dumps({"error": problem.message, **problem.location}) + "\n")
    else:
        for problem in found:
            print(problem, file=sys.stdout if as_result else sys.stderr)
        counted = count(len(found), "problem")
        files = count(len({p.file for p in found}), "file")
        stderr().print(Text.assemble((counted, "bold red"), f" in {files}"))


def validation_summary(registry: Registry) -> None:
    if current_format() == "json":
        write_json([])
        return
    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    table.add_column("provider", overflow="fold")
    table.add_column("models", justify="right", no_wrap=True)
    for provider_id, loaded in sorted(registry.files.items()):
        table.add_row(provider_id, str(len(loaded.models)))
    console = stdout()
    print_table(console, table)
    console.print(
        Text.assemble(
            ("OK", "bold green"),
            f": {count(len(registry.files), 'provider')}, "
            f"{count(registry.model_count, 'model')}, "
            f"{count(len(registry.capabilities), 'capability', 'capabilities')}",
        )
    )


def count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def price(value: Decimal | None) -> str:
    """At least two decimals, more only when the price has them: 3.00, 0.075, 0.0001."""
    if value is None:
        return "-"
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def value_text(value: Any) -> str:
    """A value as a table shows it. Text is escaped: the files and admin commands keep
    control characters out, but a row edited by hand may hold a terminal escape."""
    if isinstance(value, str):
        return escaped(value)
    if isinstance(value, Decimal):
        return price(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return "-"
    return escaped(str(value))


def field_text(value: Any) -> str:
    """A field's value in a plan or in `show`: text quoted where it could read as another,
    so that `"Bearer "` -> `Bearer` reads as the change it is and `""` or `"-"` is not `-`
    (None). Quoted, its quotes and backslashes are escaped, and so is a character that
    shows as nothing, or as a plain space (`"Bearer\\u00a0"`, `"Grok 3\\u200b"`), or that
    prints as another text does (in text not in Unicode's NFC, every one beyond ASCII:
    `"Cafe\\u0301"`)."""
    if not isinstance(value, str):
        return value_text(value)
    hidden = [char for char in value if invisible(char)]
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        # `e` and a combining accent print as `é` does, two Hangul jamo as one syllable:
        # every character beyond ASCII escaped, none can join another on screen.
        hidden += [char for char in value if not char.isascii()]
    edges = value[:1] in ("", " ", '"') or value[-1] == " "
    if not (edges or value == "-" or hidden or CONTROL_CHARACTERS.search(value)):
        return value
    shown = escaped(value.replace("\\", "\\\\").replace('"', '\\"'))
    for char in dict.fromkeys(hidden):
        code = ord(char)
        shown = shown.replace(char, f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return f'"{shown}"'


_ACTION_STYLE = {"create": ("+", "green"), "update": ("~", "yellow"), "retire": ("-", "red")}


def plan(the_plan: Plan, *, pruning: bool) -> None:
    """The plan as people read it: one line per change, updated fields below it."""
    console = stdout()
    for change in the_plan.changes:
        sign, style = _ACTION_STYLE[change.action]
        line = Text.assemble(
            (f"{sign} {change.action} {change.kind} ", style), (value_text(change.key), "bold")
        )
        if change.action == "retire" and not pruning:
            line.append("  (missing from the files; left alone without --prune)", "dim")
        console.print(line)
        if change.action == "update":
            for name, (old, new) in change.fields.items():
                console.print(
                    Text.assemble(
                        f"    {name}: ",
                        (field_text(old), "red"),
                        " -> ",
                        (field_text(new), "green"),
                    )
                )
        if change.note:
            console.print(Text(f"    note: {value_text(change.note)}", "cyan"))
    s = the_plan.summary
    console.print(
        f"Plan: {s['create']} to create, {s['update']} to update, {s['retire']} to retire, "
        f"{s['unchanged']} unchanged."
    )


def empty_list_notes(listing: Listing) -> None:
    """What an empty list may owe to: a typo in a filter, or models --all would add."""
    from radiant_registry.suggest import did_you_mean

    for unmatched in listing.unmatched:
        what = "provider" if unmatched.option == "--provider" else "model with the capability"
        hint = did_you_mean(unmatched.value, unmatched.known)
        info(f"note: no {what} {unmatched.value!r} in the database{hint}")
    if listing.hidden:
        info(f"note: --all also lists {count(listing.hidden, 'retired or disabled model')}")


def models_table(records: Sequence[dict[str, Any]], show_state: bool) -> None:
    rows = []
    for r in records:
        row = [
            value_text(r["provider"]),
            value_text(r["id"]),
            f"{r['context_window']:,}",
            f"{r['max_output_tokens']:,}",
            _effective_price(r, "input_per_1m"),
            _effective_price(r, "output_per_1m"),
            value_text(r["category"]),
            "yes" if r["is_novel"] else "",
            value_text(", ".join(r["capabilities"])),
        ]
        if show_state:
            row.append(_model_state(r))
        rows.append(row)
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = _MODEL_COLUMNS if show_state else _MODEL_COLUMNS[:-1]
    for index, (name, numeric) in enumerate(columns):
        add_column(table, name, (row[index] for row in rows), number=numeric)
    for row in rows:
        table.add_row(*row)
    console = stdout()
    print_table(console, table)
    overridden = sum(1 for r in records if r["override"])
    note = f" (* = admin price override, {overridden})" if overridden else ""
    console.print(f"{count(len(records), 'model')}{note}")


# fmt: off
_MODEL_COLUMNS = [  # name, and whether it holds a number
    ("provider", False), ("model", False), ("context", True), ("max out", True),
    ("in $/1M", True), ("out $/1M", True), ("category", False), ("novel", False),
    ("capabilities", False), ("state", False),
]
# fmt: on


def _model_state(record: dict[str, Any]) -> str:
    if record["retired"]:  # the admin's switch still matters should it come back
        return "retired" if record["enabled"] else "retired, disabled"
    return "active" if record["enabled"] else "disabled"


def _effective_price(record: dict[str, Any], name: str) -> str:
    """The price a request pays, marked * where an override sets it. An override may set
    one price only: the other is still the list price."""
    override = record["override"] or {}
    return price(record["pricing"][name]) + ("*" if override.get(name) is not None else "")


CSV_COLUMNS = (
    "provider",
    "id",
    "display_name",
    "model_type",
    "category",
    "context_window",
    "max_output_tokens",
    "input_per_1m",
    "output_per_1m",
    "overridden",
    "is_novel",
    "capabilities",
    "enabled",
    "retired",
)


def models_csv(records: Sequence[dict[str, Any]]) -> None:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(
            [
                r["provider"],
                r["id"],
                r["display_name"],
                r["model_type"],
                r["category"],
                r["context_window"],
                r["max_output_tokens"],
                # price(), not format(): PostgreSQL returns Numeric(20, 10) as 3.0000000000.
                price(r["pricing"]["input_per_1m"]),
                ""
                if r["pricing"]["output_per_1m"] is None
                else price(r["pricing"]["output_per_1m"]),
                bool(r["override"]),
                r["is_novel"],
                " ".join(r["capabilities"]),
                r["enabled"],
                r["retired"],
            ]
        )
    # Written while the command runs: a reader gone (`| head`) is then click's quiet exit 1,
    # not a BrokenPipeError at the interpreter's exit (status 120).
    sys.stdout.flush()


def model_detail(record: dict[str, Any]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", overflow="fold")
    table.add_column(overflow="fold")  # a long name, URL or reason wraps, never cut
    skip = {"list_pricing", "pricing", "override"}
    for name, value in record.items():
        if name not in skip:
            table.add_row(name, field_text(value))
    for name in ("input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m"):
        table.add_row(f"list {name}", price(record["list_pricing"][name]))
    if record["list_pricing"]["tiers"]:
        table.add_row("list tiers", value_text(record["list_pricing"]["tiers"]))
    override = record["override"]
    if override:
        table.add_row(
            "override",
            f"{_override_prices(override['input_per_1m'], override['output_per_1m'])}: "
            f"{value_text(override['reason'])} "
            f"({value_text(override['set_by'])}, {value_text(override['set_at'])})",
        )
    table.add_row("effective input_per_1m", price(record["pricing"]["input_per_1m"]))
    table.add_row("effective output_per_1m", price(record["pricing"]["output_per_1m"]))
    print_table(stdout(), table)


def rows_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    empty: str,
    numbers: Collection[str] = (),
) -> None:
    """`rows` as a table of `columns`; those in `numbers` right-aligned and never folded."""
    if not rows:
        stdout().print(empty)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    texts = [[value_text(row[name]) for name in columns] for row in rows]
    for index, name in enumerate(columns):
        add_column(table, name, (cells[index] for cells in texts), number=name in numbers)
    for cells in texts:
        table.add_row(*cells)
    print_table(stdout(), table)


def providers_table(rows: Sequence[dict[str, Any]]) -> None:
    shown = [{**row, "state": "retired" if row["retired"] else "active"} for row in rows]
    columns = ["id", "display_name", "auth_type", "api_base", "models", "state"]
    rows_table(shown, columns, "no providers", numbers={"models"})


def history_table(runs: Sequence[dict[str, Any]]) -> None:
    # A run limited by --provider counts only those providers' rows: say which.
    shown = [{**run, "providers": ", ".join(run["providers"] or ["(all)"])} for run in runs]
    counts = ["created", "updated", "retired", "unchanged"]
    columns = ["id", "started_at", "outcome", "providers", *counts, "error"]
    rows_table(shown, columns, "no sync runs yet", numbers={"id", *counts})


def overrides_table(rows: Sequence[dict[str, Any]]) -> None:
    # A side not overridden is served at its list price: "-" would read as no price at all.
    shown = [
        {
            **row,
            "input_per_1m": _override_price(row["input_per_1m"]),
            "output_per_1m": _override_price(row["output_per_1m"]),
            "state": _model_state(row),
        }
        for row in rows
    ]
    prices = ["input_per_1m", "output_per_1m", "list_input_per_1m", "list_output_per_1m"]
    columns = ["provider_id", "model_id", *prices, "reason", "set_by", "set_at", "state"]
    rows_table(shown, columns, "no price overrides", numbers=prices)


def model_notes(
    text: str, model: Located, *, note_retired: bool = True, change_holds: bool = True
) -> None:
    """What an admin command notes of the model `text` named: that it is retired (a change
    to it holds, but serves nothing until it is back), and other models whose own id is
    `text` (`provider/model` was read first)."""
    if note_retired and model.retired:
        holds = "; the change holds should it come back" if change_holds else ""
        info(f"note: {model.name} is retired (in no file now){holds}")
    for pid, mid in model.also_named:
        info(f"note: {text!r} is also the id of a model of {pid}; name it {pid}/{mid}")


def override_set(done: OverrideSet) -> None:
    prices = _override_prices(done.input_per_1m, done.output_per_1m)
    info(f"Price override set on {done.model.name} by {done.set_by}: {prices}")


def _override_prices(input_per_1m: Decimal | None, output_per_1m: Decimal | None) -> str:
    """`input 2.50, output list price`: a side not overridden is served at its list price
    (a `-` would read as no price at all)."""
    return ", ".join(
        f"{side} {_override_price(value)}"
        for side, value in (("input", input_per_1m), ("output", output_per_1m))
    )


def _override_price(value: Decimal | None) -> str:
    return "list price" if value is None else price(value)


def switched(switch: Switch) -> None:
    state = "enabled" if switch.enabled else "disabled"
    if switch.changed:
        info(f"{state.capitalize()} {switch.model.name}")
        return
    record = [
        f"since {switch.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if switch.at else None,
        f"by {switch.by}" if switch.by else None,
        f"reason: {switch.reason}" if switch.reason else None,
    ]
    shown = ", ".join(part for part in record if part)
    info(f"{switch.model.name} is already {state}{f' ({shown})' if shown else ''}; nothing changed")
