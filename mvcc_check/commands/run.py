"""`mvcc-check run` and `mvcc-check matrix`: the built-in engine, checked by the checker.

`run` runs one level (optionally with a deliberate bug), records the history
(to a file with --save), checks it against the level's claimed model (or
--model), and reports like `check`, with the same exit codes. With --shrink
it also searches for a small run that still shows the anomaly and prints it
as a step-by-step transcript, one column per session.

`matrix` runs every level (and with --bugs every bug) over several seeds and
prints how often each anomaly type appeared and whether each claim held.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import nullcontext
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.failure import report_internal_error
from mvcc_check.commands.options import emit_report, new_report, report_options
from mvcc_check.engine.bugs import BUG_NAMES, BUGS, bug_applies
from mvcc_check.engine.levels import LEVEL_NAMES, LEVELS
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.errors import MvccCheckError
from mvcc_check.exitcodes import INTERRUPTED
from mvcc_check.history.recorder import HistoryRecorder, ops_jsonl
from mvcc_check.lab.engine_runs import (
    MATRIX_CLIENTS,
    MATRIX_KEYS,
    MATRIX_SEEDS,
    MATRIX_TXNS,
    MatrixRow,
    Trial,
    check_ops,
    matrix_trials,
    run_matrix,
)
from mvcc_check.lab.shrink_run import Shrunk, pick_target, shrink, transcript_rows
from mvcc_check.report import exit_code_for, render_text
from mvcc_check.report.json_report import dumps, result_json
from mvcc_check.report.per_model import anomaly_sort_key
from mvcc_check.report.stamp import stamped
from mvcc_check.report.tables import table_console
from mvcc_check.report.verdict import INTERNAL
from mvcc_check.workload import KEY_DISTS, WORKLOADS, WorkloadSpec


def _shrunk_path(path: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}.min{ext or '.jsonl'}"


@click.command("run")
@click.option(
    "--isolation",
    "-i",
    type=click.Choice(LEVEL_NAMES),
    help="Default: the bug's level, else serializable.",
)
@click.option(
    "--workload", "-w", type=click.Choice(WORKLOADS), default="list-append", show_default=True
)
@click.option("--txns", "-n", default=1000, show_default=True, type=click.IntRange(0))
@click.option("--clients", "-c", default=8, show_default=True, type=click.IntRange(1))
@click.option("--keys", "-k", default=8, show_default=True, type=click.IntRange(1))
@click.option(
    "--mops",
    default=4,
    show_default=True,
    type=click.IntRange(1),
    help="Most micro-ops per transaction.",
)
@click.option("--read-fraction", default=0.5, show_default=True, type=click.FloatRange(0, 1))
@click.option("--key-dist", type=click.Choice(KEY_DISTS), default="uniform", show_default=True)
@click.option("--seed", "-s", default=0, show_default=True, type=int)
@click.option(
    "--bug",
    type=click.Choice(BUG_NAMES),
    help="Switch on a deliberate engine fault (see --list-bugs).",
)
@click.option("--list-bugs", is_flag=True, help="List the deliberate bugs and exit.")
@click.option(
    "--rollback-rate",
    default=0.02,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Probability that a client rolls back instead of committing.",
)
@click.option(
    "--crash-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Probability that a client crashes at commit (a quarter of it before each later "
    "micro-op); recorded as info.",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False),
    help="Record the history to FILE (JSON Lines, op by op); with --shrink the small "
    "history goes to FILE with .min before the extension.",
)
@click.option(
    "--shrink", "do_shrink", is_flag=True, help="Find a small run that still shows the anomaly."
)
@click.option(
    "--transcript",
    is_flag=True,
    help="Print the run step by step, one column per session (for small runs).",
)
@click.option(
    "--model", "-m", help="Consistency model to check against. Default: the level's claim."
)
@click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@report_options
def run_command(
    isolation,
    workload,
    txns,
    clients,
    keys,
    mops,
    read_fraction,
    key_dist,
    seed,
    bug,
    list_bugs,
    rollback_rate,
    crash_rate,
    save,
    do_shrink,
    transcript,
    model,
    output,
    report_dir,
    junit,
) -> None:
    """Run the built-in MVCC engine under an isolation level, record and check the history.

    Exit codes: 0 valid under the model, 1 anomalies the model forbids,
    2 unusable input or usage, 3 undecided, 4 internal error (a bug in mvcc-check),
    130 interrupted (Ctrl-C or SIGTERM: the history recorded so far stays readable).
    """
    console = table_console()
    if list_bugs:
        for b in BUGS.values():
            console.print(f"[bold]{b.name}[/] (breaks {b.level}; shows {' or '.join(b.expect)})")
            console.print(f"    {b.doc}")
        return
    level = isolation or (BUGS[bug].level if bug else "serializable")
    if bug and not bug_applies(bug, level):
        raise click.UsageError(
            f"bug {bug} changes nothing under {level} (it breaks {BUGS[bug].level})"
        )
    model = model or LEVELS[level].claims
    try:
        validate_models([model])
        spec = WorkloadSpec(
            workload=workload,
            txns=txns,
            clients=clients,
            keys=keys,
            mops_per_txn=mops,
            read_fraction=read_fraction,
            key_dist=key_dist,
            seed=seed,
        )
    except (MvccCheckError, ValueError) as e:
        raise click.UsageError(str(e)) from None
    trial = Trial(level, spec, bug, rollback_rate=rollback_rate, crash_rate=crash_rate)
    started = time.perf_counter()
    run = _record_run(trial, save, transcript, show_progress=output == "text")
    seconds = time.perf_counter() - started
    source = save or f"<engine: {level}{' +' + bug if bug else ''}, seed {seed}>"
    err = Console(stderr=True)
    try:
        with (
            err.status("checking the history...")
            if err.is_terminal and output == "text"
            else nullcontext()
        ):
            result = check_ops(run.ops, model, workload, source=source)
    except MvccCheckError as e:  # the engine wrote something the checker cannot use: our bug
        report_internal_error(e, "checking the engine's history")
        sys.exit(INTERNAL)

    shrunk: Shrunk | None = None
    shrink_note = None
    if do_shrink:
        target = pick_target(result.anomaly_types)
        if target is None:
            shrink_note = f"nothing to shrink: no anomaly that {model} forbids"
        else:
            err = Console(stderr=True)
            with err.status(f"shrinking to a small run that still shows {target}..."):
                shrunk = shrink(trial, run, model, target)
            if save:
                with open(_shrunk_path(save), "wb") as f:
                    f.write(ops_jsonl(shrunk.run.ops))

    doc: dict[str, Any] = result_json(result)
    doc["engine"] = {
        "isolation": level,
        "claims": LEVELS[level].claims,
        "bug": bug,
        "workload": workload,
        "seed": seed,
        "txns": txns,
        "clients": clients,
        "keys": keys,
        "seconds": round(seconds, 3),
        **run.stats,
    }
    report = new_report("run", report_dir, junit)
    if report is not None:
        report.add(doc, run.ops)
        report.summary["engine"] = doc["engine"]
        if shrunk is not None:
            title = f"shrunk to {len(shrunk.txns)} transactions, showing {shrunk.anomaly}"
            report.add(result_json(shrunk.result), shrunk.run.ops, title=title)
    if output == "json":
        if shrunk is not None:
            doc["shrunk"] = {
                "anomaly": shrunk.anomaly,
                "txns": shrunk.txns,
                "rollbacks": sorted(shrunk.rollbacks),
                "clients": shrunk.trial.spec.clients,
                "seed": shrunk.trial.spec.seed,
                "choices": shrunk.choices,
                "checks": shrunk.checks,
                "history": shrunk.run.ops,
                "result": result_json(shrunk.result),
                "saved": _shrunk_path(save) if save else None,
            }
        elif shrink_note:
            doc["shrunk"] = None
        sys.stdout.write(dumps(stamped(doc, "run")) + "\n")
    else:
        s = run.stats
        claim = LEVELS[level].claims
        console.print(
            f"[bold]engine[/]: {level}{' [red]+' + bug + '[/]' if bug else ''} (claims {claim}), "
            f"{workload}, {txns} txns, {clients} clients, {keys} keys, seed {seed}"
        )
        console.print(
            f"  {s['committed']} committed, {s['aborted']} aborted ({s['deadlocks']} deadlocks, "
            f"{s['serialization_failures']} serialization failures); versions: {s['versions_created']} "
            f"created, {s['versions_reclaimed']} reclaimed, longest chain {s['longest_chain']}"
        )
        if save:
            console.print(f"  history saved to {save}")
        if run.trace is not None:
            console.print(transcript_table(run.trace))
        render_text(result, console)
        if shrink_note:
            console.print(f"\n{shrink_note}")
        if shrunk is not None:
            print_shrunk(shrunk, console, _shrunk_path(save) if save else None)
    failed = emit_report(report, report_dir, junit, to_stderr=output == "json")
    sys.exit(failed or exit_code_for(result))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _record_run(trial: Trial, save: str | None, transcript: bool, show_progress: bool):
    """Run the engine, recording op by op (to `save` when given), with a progress bar
    at a terminal. Ctrl-C or SIGTERM stops it at once: exit 130, the history so far kept."""
    try:
        rec = HistoryRecorder(save)
    except OSError as e:
        raise click.UsageError(f"cannot write {save}: {e.strerror}") from None
    err = Console(stderr=True)
    bar = Progress(
        TextColumn("engine run"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_progress or not err.is_terminal,
    )
    task = bar.add_task("txns", total=trial.spec.txns)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C
    try:
        with rec, bar:
            return run_engine(
                trial.level,
                trial.spec,
                bugs=(trial.bug,) if trial.bug else (),
                recorder=rec,
                rollback_rate=trial.rollback_rate,
                crash_rate=trial.crash_rate,
                trace=transcript,
                progress=lambda done: bar.update(task, completed=done),
            )
    except KeyboardInterrupt:
        kept = f"; the history so far is in {save} (`mvcc-check check {save}` reads it)"
        click.echo(f"mvcc-check: interrupted after {len(rec)} ops{kept if save else ''}", err=True)
        sys.exit(INTERRUPTED)  # run_cli leaves at once, without tearing the heap down
    finally:
        signal.signal(signal.SIGTERM, previous)


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


@click.command("matrix")
@click.option("--txns", "-n", default=MATRIX_TXNS, show_default=True, type=click.IntRange(1))
@click.option("--seeds", "-r", default=MATRIX_SEEDS, show_default=True, type=click.IntRange(1))
@click.option(
    "--bugs", is_flag=True, help="Also run every deliberate bug under the level it breaks."
)
@click.option("--clients", "-c", default=MATRIX_CLIENTS, show_default=True, type=click.IntRange(1))
@click.option("--keys", "-k", default=MATRIX_KEYS, show_default=True, type=click.IntRange(1))
@click.option(
    "--workload", "-w", type=click.Choice(WORKLOADS), default="list-append", show_default=True
)
@click.option("--model", "-m", help="Check every level against this model instead of its claim.")
@click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@report_options
def matrix_command(
    txns, seeds, bugs, clients, keys, workload, model, output, report_dir, junit
) -> None:
    """Run every isolation level over several seeds; tabulate anomalies and whether each claim held.

    Exit code 0 when every level's claim held (and, with --bugs, every bug
    was caught), 1 otherwise. With --model every level is checked against
    that model instead, and the exit code is 0 when it held everywhere.
    """
    if model:
        try:
            validate_models([model])
        except MvccCheckError as e:
            raise click.UsageError(str(e)) from None
    trials = matrix_trials(
        txns=txns, seeds=seeds, bugs=bugs, clients=clients, keys=keys, workload=workload
    )
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<42}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=output == "json" or not err.is_terminal,
    ) as progress:
        task = progress.add_task("matrix", total=len(trials))

        def tick(label: str) -> None:
            progress.update(task, advance=1, description=label)

        report = new_report("matrix", report_dir, junit)
        keep = None if report is None else _matrix_keeper(report, model)
        rows = run_matrix(trials, progress=tick, model=model, on_result=keep)
    ok = all(r.claim_held for r in rows) if model else all(_row_ok(r) for r in rows)
    doc = [_matrix_row_json(r) for r in rows]
    if report is not None:
        report.summary["rows"] = doc
        report.summary["params"] = dict(
            workload=workload, seeds=seeds, txns=txns, clients=clients, keys=keys, model=model
        )
    if output == "json":
        sys.stdout.write(dumps(stamped({"rows": doc}, "matrix")) + "\n")
    else:
        console = table_console()
        console.print(matrix_table(rows, txns, seeds, clients, keys, workload, model))
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
    failed = emit_report(report, report_dir, junit, to_stderr=output == "json")
    sys.exit(failed or (0 if ok else 1))


def _matrix_keeper(report, model: str | None):
    """Add each matrix run to the report; the HTML shows each row's first broken run."""
    shown: set[str] = set()

    def keep(label: str, trial: Trial, run, result) -> None:
        doc = result_json(result)
        show = result.valid is False and label not in shown
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


def _matrix_row_json(r: MatrixRow) -> dict[str, Any]:
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


def _row_ok(r: MatrixRow) -> bool:
    return r.claim_held if r.bug is None else not r.claim_held


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
        total = r.committed + r.aborted
        committed = f"{100 * r.committed / total:.0f}%" if total else "-"
        table.add_row(label, r.claims, *cells, committed, held)
    return table
