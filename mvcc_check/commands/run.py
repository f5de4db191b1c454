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

import dataclasses
import signal
import time
from contextlib import nullcontext
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.options import emit_report, new_report, report_options
from mvcc_check.engine.bugs import ALL_BUG_NAMES as BUG_NAMES
from mvcc_check.engine.bugs import ALL_BUGS as BUGS
from mvcc_check.engine.bugs import bug_applies
from mvcc_check.engine.levels import LEVEL_NAMES, LEVELS
from mvcc_check.engine.scheduler import RunResult, run_engine
from mvcc_check.errors import Interrupted, MvccCheckError
from mvcc_check.history.recorder import HistoryRecorder, ops_jsonl
from mvcc_check.lab.engine_runs import (
    MATRIX_CLIENTS,
    MATRIX_KEYS,
    MATRIX_SEEDS,
    MATRIX_TXNS,
    EngineRun,
    Trial,
    engine_source,
    judge_engine_run,
    matrix_trials,
    run_matrix,
)
from mvcc_check.lab.shrink_run import pick_target, shrink
from mvcc_check.report import exit_code_for
from mvcc_check.report.engine_run import (
    add_engine_run,
    engine_run_json,
    matrix_keeper,
    matrix_row_json,
    print_bugs,
    print_engine_run,
    print_matrix,
)
from mvcc_check.report.json_report import write_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.tables import table_console
from mvcc_check.workload import KEY_DISTS, WORKLOADS, WorkloadSpec


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
def run_command(**o: Any) -> int:
    """Run the built-in MVCC engine under an isolation level, record and check the history.

    Exit codes: 0 valid under the model, 1 anomalies the model forbids,
    2 unusable input or usage, 3 undecided, 4 internal error (a bug in mvcc-check),
    130 interrupted (Ctrl-C or SIGTERM: the history recorded so far stays readable).
    """
    console = table_console()
    if o["list_bugs"]:
        print_bugs(console)
        return 0
    trial, model = _trial(o)
    text = o["output"] == "text"
    started = time.perf_counter()
    run = _record_run(trial, o["save"], o["transcript"], show_progress=text)
    seconds = time.perf_counter() - started
    err = Console(stderr=True)
    with err.status("checking the history...") if err.is_terminal and text else nullcontext():
        source = engine_source(trial, o["save"])
        result = judge_engine_run(run, model, trial.spec.workload, source)
    er = EngineRun(trial, model, run, result, seconds, save=o["save"])
    if o["do_shrink"]:
        er = _shrunk(er)
    report = new_report("run", o["report_dir"], o["junit"])
    if report is not None:
        add_engine_run(report, er)
    if text:
        print_engine_run(er, console)
    else:
        write_json(stamped(engine_run_json(er), "run"))
    failed = emit_report(report, o["report_dir"], o["junit"], to_stderr=not text)
    return failed or exit_code_for(result)


def _trial(o: dict[str, Any]) -> tuple[Trial, str]:
    """The trial the options ask for, and the model to check it against."""
    bug = o["bug"]
    level = o["isolation"] or (BUGS[bug].level if bug else "serializable")
    if bug and not bug_applies(bug, level):
        raise click.UsageError(
            f"bug {bug} changes nothing under {level} (it breaks {BUGS[bug].level})"
        )
    model = o["model"] or LEVELS[level].claims
    try:
        validate_models([model])
        spec = WorkloadSpec(
            workload=o["workload"],
            txns=o["txns"],
            clients=o["clients"],
            keys=o["keys"],
            mops_per_txn=o["mops"],
            read_fraction=o["read_fraction"],
            key_dist=o["key_dist"],
            seed=o["seed"],
        )
    except (MvccCheckError, ValueError) as e:
        raise click.UsageError(str(e)) from None
    trial = Trial(level, spec, bug, rollback_rate=o["rollback_rate"], crash_rate=o["crash_rate"])
    return trial, model


def _shrunk(er: EngineRun) -> EngineRun:
    """The run with its small reproduction (saved beside --save's file), or why there is none."""
    target = pick_target(er.result.anomaly_types)
    if target is None:
        note = f"nothing to shrink: no anomaly that {er.model} forbids"
        return dataclasses.replace(er, shrink_note=note)
    err = Console(stderr=True)
    with err.status(f"shrinking to a small run that still shows {target}..."):
        shrunk = shrink(er.trial, er.run, er.model, target)
    er = dataclasses.replace(er, shrunk=shrunk)
    if er.shrunk_path:
        with open(er.shrunk_path, "wb") as f:
            f.write(ops_jsonl(shrunk.run.ops))
    return er


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _record_run(trial: Trial, save: str | None, transcript: bool, show_progress: bool) -> RunResult:
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
        raise Interrupted(f"interrupted after {len(rec)} ops{kept if save else ''}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)


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
def matrix_command(**o: Any) -> int:
    """Run every isolation level over several seeds; tabulate anomalies and whether each claim held.

    Exit code 0 when every level's claim held (and, with --bugs, every bug
    was caught), 1 otherwise. With --model every level is checked against
    that model instead, and the exit code is 0 when it held everywhere.
    """
    model = o["model"]
    if model:
        try:
            validate_models([model])
        except MvccCheckError as e:
            raise click.UsageError(str(e)) from None
    params = {k: o[k] for k in ("txns", "seeds", "clients", "keys", "workload")}
    trials = matrix_trials(bugs=o["bugs"], **params)
    report = new_report("matrix", o["report_dir"], o["junit"])
    keep = None if report is None else matrix_keeper(report, model)
    rows = _run_matrix(trials, model, keep, show_progress=o["output"] == "text")
    doc = [matrix_row_json(r) for r in rows]
    if report is not None:
        report.summary["rows"] = doc
        report.summary["params"] = dict(
            workload=o["workload"],
            seeds=o["seeds"],
            txns=o["txns"],
            clients=o["clients"],
            keys=o["keys"],
            model=model,
        )
    if o["output"] == "json":
        write_json(stamped({"rows": doc}, "matrix"))
    else:
        print_matrix(table_console(), rows, {**params, "model": model})
    failed = emit_report(report, o["report_dir"], o["junit"], to_stderr=o["output"] == "json")
    return failed or (0 if all(r.as_expected(model) for r in rows) else 1)


def _run_matrix(trials, model, keep, show_progress: bool):
    """run_matrix with a progress bar at a terminal (one tick per run, named by its row)."""
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<42}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_progress or not err.is_terminal,
    ) as progress:
        task = progress.add_task("matrix", total=len(trials))

        def tick(label: str) -> None:
            progress.update(task, advance=1, description=label)

        return run_matrix(trials, progress=tick, model=model, on_result=keep)
