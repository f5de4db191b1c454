"""`run` and `matrix` results rendered: text (rich) and JSON, and what the HTML and
JUnit report is fed. One renderer per result type and format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from mvcc_check.analysis.checker import Verdict
from mvcc_check.engine.bugs import ALL_BUGS
from mvcc_check.engine.levels import LEVELS
from mvcc_check.lab.engine_runs import EngineRun, MatrixRow, Trial
from mvcc_check.lab.shrink_run import Shrunk
from mvcc_check.report.bundle import Report
from mvcc_check.report.json_report import result_json
from mvcc_check.report.per_model import anomaly_sort_key
from mvcc_check.report.text import render_text


def print_bugs(console: Console) -> None:
    """--list-bugs: each deliberate bug, the level it breaks and what it shows."""
    for b in ALL_BUGS.values():
        console.print(f"[bold]{b.name}[/] (breaks {b.level}; shows {' or '.join(b.expect)})")
        console.print(f"    {b.doc}")


def engine_json(er: EngineRun) -> dict[str, Any]:
    """What ran: the run's parameters, its time and the engine's counters."""
    tr, spec = er.trial, er.trial.spec
    return {
        "isolation": tr.level,
        "claims": LEVELS[tr.level].claims,
        "bug": tr.bug,
        "workload": spec.workload,
        "seed": spec.seed,
        "txns": spec.txns,
        "clients": spec.clients,
        "keys": spec.keys,
        "seconds": round(er.seconds, 3),
        **er.run.stats,
    }


def shrunk_json(sh: Shrunk, saved: str | None) -> dict[str, Any]:
    return {
        "anomaly": sh.anomaly,
        "txns": sh.txns,
        "rollbacks": sorted(sh.rollbacks),
        "clients": sh.trial.spec.clients,
        "seed": sh.trial.spec.seed,
        "choices": sh.choices,
        "checks": sh.checks,
        "history": sh.run.ops,
        "result": result_json(sh.result),
        "saved": saved,
    }


def engine_run_json(er: EngineRun) -> dict[str, Any]:
    """`run -o json` (before the stamp): the verdict's keys, "engine", and "shrunk"."""
    doc = result_json(er.result)
    doc["engine"] = engine_json(er)
    if er.shrunk is not None:
        doc["shrunk"] = shrunk_json(er.shrunk, er.shrunk_path)
    elif er.shrink_note:
        doc["shrunk"] = None
    return doc


def add_engine_run(report: Report, er: EngineRun) -> None:
    """The run (and the small run) in the HTML and JUnit report."""
    doc = result_json(er.result)
    doc["engine"] = engine_json(er)
    report.add(doc, er.run.ops)
    report.summary["engine"] = doc["engine"]
    sh = er.shrunk
    if sh is not None:
        title = f"shrunk to {len(sh.txns)} transactions, showing {sh.anomaly}"
        report.add(result_json(sh.result), sh.run.ops, title=title)


def print_engine_run(er: EngineRun, console: Console) -> None:
    """`run`'s text output: what ran, its counters, the transcript, the verdict, the shrunk run."""
    tr, spec, s = er.trial, er.trial.spec, er.run.stats
    claim = LEVELS[tr.level].claims
    console.print(
        f"[bold]engine[/]: {tr.level}{' [red]+' + tr.bug + '[/]' if tr.bug else ''} (claims {claim}), "
        f"{spec.workload}, {spec.txns} txns, {spec.clients} clients, {spec.keys} keys, seed {spec.seed}"
    )
    console.print(
        f"  {s['committed']} committed, {s['aborted']} aborted ({s['deadlocks']} deadlocks, "
        f"{s['serialization_failures']} serialization failures); versions: {s['versions_created']} "
        f"created, {s['versions_reclaimed']} reclaimed, longest chain {s['longest_chain']}"
    )
    if er.save:
        console.print(f"  history saved to {er.save}")
    if er.run.trace is not None:
        console.print(transcript_table(er.run.trace))
    render_text(er.result, console)
    if er.shrink_note:
        console.print(f"\n{er.shrink_note}")
    if er.shrunk is not None:
        print_shrunk(er.shrunk, console, er.shrunk_path)


def transcript_rows(
    trace: Sequence[tuple[int, int, str]],
) -> tuple[list[int], list[tuple[int, int, str]]]:
    """The processes (sessions) in order of first appearance, and the trace numbered 1, 2, ..."""
    procs: list[int] = []
    for _, p, _ in trace:
        if p not in procs:
            procs.append(p)
    return procs, [(i + 1, p, ev) for i, (_, p, ev) in enumerate(trace)]


def transcript_table(trace: list[tuple[int, int, str]]) -> Table:
    """A run's steps, numbered, one column per session (process)."""
    procs, rows = transcript_rows(trace)
    table = Table("step", *[f"session {p}" for p in procs], box=None, pad_edge=False)
    for n, p, ev in rows:
        cells = [""] * len(procs)
        cells[procs.index(p)] = ev
        table.add_row(str(n), *cells)
    return table


def print_shrunk(sh: Shrunk, console: Console, saved: str | None) -> None:
    """The small run as a step-by-step transcript, one column per session, then its verdict."""
    tr = sh.trial
    console.print(
        f"\n[bold]Shrunk[/] from {sh.original_txns} to {len(sh.txns)} transactions on "
        f"{tr.spec.clients} sessions ({sh.checks} candidate runs, {sh.seconds:.1f}s), "
        f"still showing [bold magenta]{sh.anomaly}[/] under {sh.model}:"
    )
    assert sh.run.trace is not None
    console.print(transcript_table(sh.run.trace))
    console.print(
        f"  replay: --isolation {tr.level}{' --bug ' + tr.bug if tr.bug else ''} with these "
        f"transactions on {tr.spec.clients} clients, "
        + (
            f"scheduler picks {sh.choices} then one session at a time"
            if sh.choices is not None
            else f"scheduler seed {tr.spec.seed}"
        )
        + (f", rolling back transaction(s) {sorted(sh.rollbacks)}" if sh.rollbacks else "")
    )
    if saved:
        console.print(f"  small history saved to {saved}")
    render_text(sh.result, console)


# --- matrix ---------------------------------------------------------------------------


def matrix_row_json(r: MatrixRow) -> dict[str, Any]:
    return {
        "level": r.level,
        "bug": r.bug,
        "claims": r.claims,
        "runs": r.runs,
        "violations": r.violations,
        "undecided": r.undecided,
        "claim-held": r.claim_held,
        "anomaly-counts": dict(sorted(r.counts.items())),
        "committed": r.committed,
        "aborted": r.aborted,
    }


def matrix_keeper(report: Report, model: str | None) -> Callable[..., None]:
    """Add each matrix run to the report; the HTML shows each row's first broken run."""
    shown: set[str] = set()

    def keep(label: str, trial: Trial, run, result) -> None:
        doc = result_json(result)
        show = result.verdict is Verdict.INVALID and label not in shown
        if show:
            shown.add(label)
        report.add(
            doc,
            run.ops if show else None,
            title=f"{label} seed {trial.spec.seed}",
            expect_violation=trial.bug is not None and model is None,
            in_html=show,
        )

    return keep


def print_matrix(console: Console, rows: list[MatrixRow], params: dict[str, Any]) -> None:
    """`matrix`'s text output: the table, then what its cells and last column mean."""
    model = params["model"]
    console.print(matrix_table(rows, **params))
    console.print(
        "cells: in how many runs (seeds) the checker found each anomaly type, allowed or not; "
        "committed: transactions that committed (the rest were aborted or rolled back)."
    )
    if model:
        console.print(f"[bold]held[/]: every run's history satisfies {model}.")
    else:
        console.print(
            "[bold]claim held[/]: every run's history satisfies the level's claimed model; "
            "a row with a deliberate bug must fail it (caught)."
        )


def _held_cell(r: MatrixRow, model: str | None) -> tuple[str, str]:
    """(level label, claim held) cells of a row."""
    if r.bug is None or model:
        held = "[green]yes[/]" if r.claim_held else f"[bold red]NO[/] {r.violations}/{r.runs}"
        label = r.level if r.bug is None else f"{r.level}\n [red]+{r.bug}[/]"
    else:
        held = (
            f"[green]no: caught[/] {r.violations}/{r.runs}"
            if not r.claim_held
            else "[bold red]yes: MISSED[/]"
        )
        label = f"{r.level}\n [red]+{r.bug}[/]"
    return label, held


def matrix_table(
    rows: list[MatrixRow],
    txns: int,
    seeds: int,
    clients: int,
    keys: int,
    workload: str,
    model: str | None = None,
) -> Table:
    kinds = sorted({k for r in rows for k in r.counts}, key=anomaly_sort_key)
    table = Table(
        title=f"{workload}: {seeds} seeds x {txns} txns, {clients} clients, {keys} keys",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("level", no_wrap=True)
    table.add_column("checked against" if model else "claims", no_wrap=True)
    for k in kinds:
        table.add_column(k, justify="right", overflow="fold")
    table.add_column("committed", justify="right", no_wrap=True)
    table.add_column("held" if model else "claim held", no_wrap=True)
    for r in rows:
        cells = [str(r.counts[k]) if r.counts[k] else "[dim]·[/]" for k in kinds]
        label, held = _held_cell(r, model)
        total = r.committed + r.aborted
        committed = f"{100 * r.committed / total:.0f}%" if total else "-"
        table.add_row(label, r.claims, *cells, committed, held)
    return table
