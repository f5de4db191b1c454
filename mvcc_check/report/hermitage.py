"""Hermitage's summary table, in its own layout: one row per isolation level,
a column per anomaly (G0 ... G2), cells ✓, —, R/O or some."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from mvcc_check.analysis.checker import Verdict
from mvcc_check.db.hermitage_table import COLUMNS, LEGEND, SYMBOLS
from mvcc_check.lab.hermitage import LevelRun, ScenarioRun
from mvcc_check.report.bundle import Report
from mvcc_check.report.json_report import result_json

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


# --- one level's scenarios, judged (lab.hermitage.LevelRun) ------------------------------


def scenario_json(s: ScenarioRun) -> dict[str, Any]:
    return {
        "scenario": s.scenario.name,
        "result": s.res.verdict,
        "blocked": s.res.observation.blocked,
        "checker-anomaly-types": sorted(s.found),
        "valid?": s.result.valid,  # under the level's claimed model
        "agrees": s.agrees,
        "history-file": str(s.history_path) if s.history_path else None,
    }


def level_json(lr: LevelRun) -> dict[str, Any]:
    """One level of `hermitage -o json`'s "levels"."""
    return {
        "isolation": lr.level,
        "claimed-model": lr.model,
        "scenarios": [scenario_json(s) for s in lr.scenarios],
        "violates-claimed-model": lr.violated,
        "hermitage-row": lr.hermitage_row,
    }


def print_transcript(out: Console, s: ScenarioRun) -> None:
    """A scenario's steps as they ran (--transcript)."""
    out.print(f"[bold]{s.scenario.name}[/] at {s.res.level}:")
    for line in s.res.observation.transcript:
        out.print("   " + line)


def print_level(out: Console, lr: LevelRun, display: str, version: str | None) -> None:
    """A level's scenarios: the database's outcome, the checker's finding, agreement."""
    table = Table(title=None, show_edge=False, pad_edge=False)
    for col in ("scenario", "anomaly", "result", "checker found", "agrees"):
        table.add_column(col)
    for s in lr.scenarios:
        colour = {"anomaly": "red", "prevented": "green"}.get(s.res.verdict, "yellow")
        table.add_row(
            s.scenario.name,
            s.scenario.title,
            f"[{colour}]{s.res.verdict}[/]",
            ", ".join(sorted(s.found)) or "-",
            "yes" if s.agrees else "[red]NO[/]",
        )
    out.print(
        f"\n[bold]{display}[/] ({version}), isolation [bold]{lr.level}[/] (claims {lr.model})"
    )
    out.print(table)
    if lr.violated:
        out.print(f"  [red]histories invalid under {lr.model}[/]: {', '.join(lr.violated)}")
    else:
        out.print(f"  every history is valid under {lr.model}")


def add_scenario(report: Report, s: ScenarioRun) -> None:
    """A scenario's history in the report: in the HTML when it breaks the claim or disagrees."""
    doc = result_json(s.result)
    doc["all-anomaly-types"] = sorted(s.found)
    doc["hermitage"] = {
        "scenario": s.res.scenario,
        "isolation": s.res.level,
        "result": s.res.verdict,
        "agrees": s.agrees,
    }
    show = s.result.verdict is not Verdict.VALID or not s.agrees
    report.add(doc, s.res.ops if show else None, in_html=show)
