"""Tables fitted to the terminal with every character printed: numbers whole, text
wrapped within its column, never cut short with "…"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text


def add_column(table: Table, name: str, cells: Iterable[str], *, number: bool) -> None:
    """Where the terminal is too narrow, text wraps within its column, never cut short; a
    number (a price and its * mark, a count) stays whole on one line, right-aligned, and
    its header folds instead: `12.34` over `5` would read as another price."""
    if number:
        widest = max(map(cell_len, cells), default=1)
        table.add_column(name, overflow="fold", justify="right", min_width=widest)
    else:
        table.add_column(name, overflow="fold")


def print_table(console: Console, table: Table) -> None:
    """Print `table` whole: no character lost, nothing cut short with "…".

    Rich fits a table too wide for the terminal by narrowing its text columns in equal
    steps, padding included and rounded, with no regard for what they hold: a column can
    end narrower than one of its characters (two cells for CJK), or at nothing beside the
    numbers, and that text is not drawn. So where the table does not fit, its widths are
    set here: numbers whole, the widest text columns cut down to one width, none below its
    widest character. Where even that does not fit, the table is printed wider than the
    terminal, which wraps its lines.
    """
    spans = [_span(column, table.show_header) for column in table.columns]
    overhead = _overhead(console, table)
    room = console.width - overhead
    if sum(natural for natural, _ in spans) > room:  # else rich narrows nothing
        widths = _shared(spans, room)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        console.width = max(console.width, sum(widths) + overhead)  # own console: `_console`
    console.print(table)


def _span(column: Column, with_header: bool) -> tuple[int, int]:
    """A column's natural width (its longest line, as rich measures it) and the least that
    loses nothing: the same where no line may wrap (no_wrap), else its widest character or
    its `min_width` (numbers' columns: their header folds, the numbers stay whole)."""
    texts = [column.header, *column.cells] if with_header else list(column.cells)
    plain = [text.plain if isinstance(text, Text) else str(text) for text in texts]
    natural = max([1, *(cell_len(line) for text in plain for line in text.split("\n"))])
    if column.no_wrap:
        return natural, natural
    # ASCII is one cell a character; others may take two (CJK).
    widest = max([1, *(max(map(cell_len, text)) for text in plain if not text.isascii())])
    return natural, max(widest, min(column.min_width or 0, natural))


def _overhead(console: Console, table: Table) -> int:
    """The cells `table` takes beside its columns' text: padding, edges, separators.
    Measured by rich on a stand-in of one-cell columns, for none of the cost of its rows."""
    probe = Table(
        box=table.box,
        padding=table.padding,
        pad_edge=table.pad_edge,
        show_edge=table.show_edge,
        show_header=False,
        collapse_padding=table.collapse_padding,
    )
    for _ in table.columns:
        probe.add_column(width=1)
    measured = Measurement.get(console, console.options.update(width=_UNBOUNDED), probe)
    return measured.maximum - len(table.columns)


_UNBOUNDED = 1_000_000  # a width no table reaches


def _shared(spans: Sequence[tuple[int, int]], room: int) -> list[int]:
    """Column widths (`spans`: natural, least) within `room` where they can be: the widest
    columns cut down to one level, the highest that fits, none below its least; the cells
    left over go one each to the columns cut, from the left."""

    def widths_at(level: int) -> list[int]:
        return [max(least, min(natural, level)) for natural, least in spans]

    low, high = 0, max(natural for natural, _ in spans)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(widths_at(middle)) <= room else (low, middle - 1)
    widths = widths_at(low)
    spare = room - sum(widths)
    for index, (natural, _) in enumerate(spans):
        if spare > 0 and widths[index] < natural:
            widths[index] += 1
            spare -= 1
    return widths
