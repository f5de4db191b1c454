"""`test` results rendered: one run's text and JSON, and the findings table of several."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from mvcc_check.analysis.checker import Result
from mvcc_check.db.testbed import run_doc
from mvcc_check.report.json_report import result_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.text import render_text
from mvcc_check.report.verdict import INVALID, VALID


def test_json(result: Result, run: Any, bed: Any, history_file: str | None) -> dict[str, Any]:
    """One run of `test -o json`: the verdict's keys, every anomaly type found, "run"."""
    doc = stamped(result_json(result), "test")
    doc["all-anomaly-types"] = sorted(set(result.all_anomaly_types or result.anomaly_types))
    doc["run"] = run_doc(run, bed, history_file)
    return doc


def print_db_run(out: Console, run: Any, bed: Any, result: Result) -> None:
    """One run in text: the target and parameters, the counts and rate, faults, the verdict."""
    st, spec = run.stats, run.spec
    out.print(
        f"[bold]{run.target_display}[/] ({run.server_version}), isolation [bold]{run.level}[/], "
        f"{spec.workload}, {spec.txns} txns by {spec.clients} clients over {spec.keys} keys, "
        f"seed {spec.seed}"
    )
    if bed.read_target is not None:
        out.print(f"  read-only txns on the standby {bed.read_target.display} at {bed.read_level}")
    out.print(
        f"  {st.committed} committed, {st.aborted} aborted by the database, "
        f"{st.indeterminate} indeterminate (info); {st.elapsed_s:.2f} s, "
        f"{st.committed_per_s:.0f} committed txns/s"
    )
    if run.faults is not None:
        from mvcc_check.db.nemesis import describe_summary

        out.print("  " + describe_summary(run.faults))
    render_text(result, out)


_COLUMNS = (
    "isolation",
    "seed",
    "committed",
    "aborted",
    "indet.",
    "txns/s",
    "anomalies found",
    "claimed model",
    "verdict",
)


def print_findings(out: Console, target: Any, rows: list) -> None:
    """Several runs: one row each (level, seed, counts, anomaly types, verdict)."""
    table = Table(show_edge=False, pad_edge=False)
    for col in _COLUMNS:
        table.add_column(col)
    for level, seed, run_models, code, doc in rows:
        run = doc["run"]
        verdict = {VALID: "[green]valid[/]", INVALID: "[red]INVALID[/]"}.get(code, "undecided")
        table.add_row(
            level,
            str(seed),
            str(run["committed"]),
            str(run["aborted"]),
            str(run["indeterminate"]),
            f"{run['committed-per-second']:.0f}",
            ", ".join(doc.get("all-anomaly-types", [])) or "-",
            ", ".join(run_models),
            verdict,
        )
    version = rows[0][4]["run"]["server-version"]
    out.print(f"[bold]{target.display}[/] ({version}): findings")
    out.print(table)
