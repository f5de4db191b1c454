"""Hermitage's summary table, in its own layout: one row per isolation level,
a column per anomaly (G0 ... G2), cells ✓, —, R/O or some."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mvcc_check.db.hermitage_table import COLUMNS, LEGEND, SYMBOLS

_COLOURS = {"✓": "green", "—": "red"}


def _level_name(level: str) -> str:
    return '"' + level.replace("-", " ") + '"'


def hermitage_table(database: str, rows: list[tuple[str, str, dict[str, str]]]) -> Table:
    """`rows`: (isolation level, the model it is checked against, its Hermitage row)."""
    table = Table(title=None, show_edge=False, pad_edge=False)
    for col in ("DBMS", "So-called isolation level", "checked as", *COLUMNS):
        table.add_column(col, justify="center" if col in COLUMNS else "left", no_wrap=True)
    for i, (level, model, row) in enumerate(rows):
        cells = []
        for col in COLUMNS:
            symbol = SYMBOLS[row[col]] if col in row else "·"
            colour = _COLOURS.get(symbol, "yellow" if col in row else "dim")
            cells.append(f"[{colour}]{symbol}[/]")
        table.add_row(database if i == 0 else "", _level_name(level), model, *cells)
    return table


def print_hermitage_table(
    console: Console, database: str, rows: list[tuple[str, str, dict[str, str]]]
) -> None:
    """The table, never folded (it is printed at least 150 columns wide), and its legend."""
    wide = Console(
        highlight=False, width=max(console.width, 150), color_system=console.color_system
    )
    wide.print("\n[bold]Hermitage's table[/] (each cell from every variant of its column that ran)")
    wide.print(hermitage_table(database, rows))
    wide.print(LEGEND)
