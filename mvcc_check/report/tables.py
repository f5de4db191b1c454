"""Where tables are printed: at a terminal, its width; elsewhere (files, pipes,
CI logs) wide enough that every table takes its content's width, neither
squeezed into 80 columns nor padded to a fixed one."""

from __future__ import annotations

from rich.console import Console

WIDE = 10_000  # more than any table needs; a table is as wide as its content, not the console


def table_console() -> Console:
    """A console for stdout: soft-wrapped text; tables at their natural width off a terminal."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=True, width=WIDE)
    return console
