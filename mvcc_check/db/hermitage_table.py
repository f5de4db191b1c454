"""Hermitage's summary table: its columns, its legend, a row derived from the
variants' verdicts, and the rows it publishes for PostgreSQL and MySQL/InnoDB.

Source: Martin Kleppmann, Hermitage, README.md "Summary of test results"
(github.com/ept/hermitage, commit 000346f, "Link to VeloxDB"; CC BY 4.0),
tested there with PostgreSQL 9.3.5 and MySQL 5.6.21. The legend:
✓ the level prevents the anomaly; — it does not, so the anomaly can occur;
R/O it prevents the anomaly in a read-only context, but when you perform
writes the anomaly can occur; some: it prevents the anomaly in some cases but
not in others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mvcc_check.db.hermitage_scenarios import ANOMALY, CATALOGUE, Scenario

COLUMNS = ("G0", "G1a", "G1b", "G1c", "OTV", "PMP", "P4", "G-single", "G2-item", "G2")

PREVENTED_CELL = "prevented"
ANOMALY_CELL = "anomaly"
READ_ONLY_CELL = "R/O"
SOME_CELL = "some"
SYMBOLS = {PREVENTED_CELL: "✓", ANOMALY_CELL: "—", READ_ONLY_CELL: "R/O", SOME_CELL: "some"}
LEGEND = (
    "✓ prevented, — anomaly can occur, R/O prevented only in the read-only variants, "
    "some: prevented in some variants but not in others"
)


def cell(results: Iterable[tuple[Scenario, str]]) -> str | None:
    """One column's cell from its variants' verdicts, by Hermitage's legend (None: none ran).

    Every variant prevented (by blocking or by abort): prevented. Every one showing the
    anomaly: anomaly. The read-only variants prevented and only variants with writes
    showing it: R/O. Any other mix: some."""
    results = list(results)
    if not results:
        return None
    shown = [sc for sc, verdict in results if verdict == ANOMALY]
    if not shown:
        return PREVENTED_CELL
    if len(shown) == len(results):
        return ANOMALY_CELL
    if not any(sc.read_only for sc in shown) and any(sc.read_only for sc, _ in results):
        return READ_ONLY_CELL
    return SOME_CELL


def hermitage_row(verdicts: Mapping[str, str]) -> dict[str, str]:
    """Hermitage's row for one level, from {variant name: verdict}; columns none of whose
    variants ran are left out."""
    row = {}
    for col in COLUMNS:
        c = cell(
            (sc, verdicts[sc.name]) for sc in CATALOGUE if sc.column == col and sc.name in verdicts
        )
        if c is not None:
            row[col] = c
    return row


def _row(symbols: str) -> dict[str, str]:
    by_symbol = {v: k for k, v in SYMBOLS.items()}
    return dict(zip(COLUMNS, (by_symbol[s] for s in symbols.split()), strict=True))


# (database, level) -> row, as Hermitage's README publishes it.
PUBLISHED: dict[tuple[str, str], dict[str, str]] = {
    ("postgresql", "read-committed"): _row("✓ ✓ ✓ ✓ ✓ — — — — —"),
    ("postgresql", "repeatable-read"): _row("✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓ — —"),
    ("postgresql", "serializable"): _row("✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓"),
    ("mysql", "read-uncommitted"): _row("✓ — — — — — — — — —"),
    ("mysql", "read-committed"): _row("✓ ✓ ✓ ✓ ✓ — — — — —"),
    ("mysql", "repeatable-read"): _row("✓ ✓ ✓ ✓ ✓ R/O — R/O — —"),
    ("mysql", "serializable"): _row("✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓"),
}
PUBLISHED_SOURCE = (
    "Hermitage README, Summary of test results (github.com/ept/hermitage @ 000346f, CC BY 4.0)"
)
