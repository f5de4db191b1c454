"""`mvcc-check test` and `mvcc-check hermitage`: run transactions against a real
database, record the history, and judge it with the same checker as `check`."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.check import model_option, output_option
from mvcc_check.commands.options import emit_report, new_report, report_options
from mvcc_check.db.target import LEVELS, DbError, normalize_level, parse_db_url
from mvcc_check.errors import Interrupted, MvccCheckError, OptionError
from mvcc_check.report import exit_code_for, overall_exit_code
from mvcc_check.report.db_run import print_db_run, print_findings, test_json
from mvcc_check.report.json_report import write_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.tables import table_console
from mvcc_check.report.verdict import INVALID, UNDECIDED, VALID
from mvcc_check.workload import WORKLOADS, WorkloadSpec

REPLICA_LAGS = ("async", "remote-apply")
LEVEL_HELP = "Isolation level: " + ", ".join(LEVELS) + " (underscores and spaces accepted)."


def _target(db: str):
    try:
        return parse_db_url(db)
    except DbError as e:
        raise click.UsageError(str(e)) from None


def _level(level: str) -> str:
    try:
        return normalize_level(level)
    except DbError as e:
        raise click.UsageError(str(e)) from None


def _session_kind_check(db, launch, levels):
    """The session class for --db or --launch; every level must be one it offers."""
    from mvcc_check.db.testbed import session_class_for

    if db and _target(db).kind == "engine":
        raise click.UsageError("use `mvcc-check run` for the built-in engine")
    try:
        return session_class_for(db, launch, levels)
    except DbError as e:
        raise click.UsageError(str(e)) from None


@click.command("test")
@click.option(
    "--db", help="sqlite:///file.db, postgresql://user@host:port/db, mysql://user@host:port/db"
)
@click.option(
    "--launch",
    type=click.Choice(("sqlite", "postgresql", "mariadb", "postgresql-replica", "etcd")),
    help="Instead of --db: start a throwaway target for the run (temp dir, loopback), "
    "removed afterwards.",
)
@click.option("--keep", is_flag=True, help="With --launch: leave the target running afterwards.")
@click.option(
    "--isolation",
    "-i",
    "levels",
    required=True,
    multiple=True,
    help=LEVEL_HELP + " Repeatable: one run per level (and per seed).",
)
@click.option(
    "--workload", "-w", type=click.Choice(WORKLOADS), default="list-append", show_default=True
)
@click.option("--txns", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--clients", default=8, show_default=True, type=click.IntRange(min=1, max=200))
@click.option("--keys", default=8, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--seed",
    "seeds",
    default=(0,),
    multiple=True,
    show_default=True,
    type=int,
    help="Random seed (repeatable: one run per seed).",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False),
    help="Keep the history (JSON Lines) in this file (with several runs: FILE-LEVEL-SEED.jsonl).",
)
@click.option(
    "--nemesis",
    "nemesis",
    help="Faults to inject, taking turns: kill-connection,pause,crash,partition "
    "(pause and crash need --launch).",
)
@click.option(
    "--nemesis-interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Mean seconds between the starts of two faults.",
)
@click.option(
    "--time-limit",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds after which a run stops (and is judged) even if transactions remain.",
)
@click.option(
    "--replica-lag",
    type=click.Choice(REPLICA_LAGS),
    default="async",
    show_default=True,
    help="postgresql-replica: async streaming, or remote-apply (synchronous_commit = "
    "remote_apply: a commit returns once the standby has applied it).",
)
@model_option(default=None)
@output_option()
@report_options
def test_command(db, launch, keep, levels, models, output, **opts) -> int:
    """Run randomized transactions against a database at an isolation level, record the
    history as it happens, and check it against the model the level claims (or --model).
    With several levels or seeds, one run each and a table of findings at the end.

    Exit codes: 0 valid, 1 the model is violated, 2 unusable input or usage, 3 undecided,
    4 internal error (a bug in mvcc-check), 130 interrupted (Ctrl-C or SIGTERM: the
    history recorded so far stays readable).
    Credentials come from the URL or PGPASSWORD / MYSQL_PWD and are never printed.
    """
    from mvcc_check.db.nemesis import parse_faults
    from mvcc_check.db.testbed import open_bed, unavailable_faults

    levels = tuple(dict.fromkeys(_level(lv) for lv in levels))
    cls = _session_kind_check(db, launch, levels)
    try:
        validate_models(models)
        faults = parse_faults(opts["nemesis"]) if opts["nemesis"] else ()
        why = unavailable_faults(faults, db, launch)
    except MvccCheckError as e:
        raise click.UsageError(str(e)) from None
    if why:
        raise click.UsageError(why)
    lag = {"replica_lag": opts["replica_lag"]} if launch == "postgresql-replica" else {}
    out = table_console()
    previous = signal.signal(signal.SIGTERM, _interrupt)  # as Ctrl-C: clean up, keep the history
    try:
        with open_bed(
            db, launch, keep=keep, faults=faults, interval=opts["nemesis_interval"], **lag
        ) as bed:
            _announce(out, bed, keep, output)
            codes = _runs(out, bed, cls, levels, models, output, opts)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return overall_exit_code(codes)


def _runs(out, bed, cls, levels, models, output, opts) -> list[int]:
    """One run per level and seed; the findings table (or the JSON) at the end."""
    save = opts["save"]
    runs = [(lv, sd) for lv in levels for sd in dict.fromkeys(opts["seeds"])]
    codes, docs, rows = [], [], []
    report = new_report("test", opts["report_dir"], opts["junit"])
    for i, (level, seed) in enumerate(runs):
        run_models = tuple(models) or (cls.claimed_models[level],)
        save_path = save
        if save and len(runs) > 1:
            stem, ext = os.path.splitext(save)
            save_path = f"{stem}-{level}-{seed}{ext or '.jsonl'}"
        if output == "text" and i:
            out.print()
        spec = WorkloadSpec(
            workload=opts["workload"],
            txns=opts["txns"],
            clients=opts["clients"],
            keys=opts["keys"],
            seed=seed,
        )
        code, doc = _one_test(bed, level, spec, save_path, run_models, output, out, opts, report)
        codes.append(code)
        docs.append(doc)
        rows.append((level, seed, run_models, code, doc))
    if output == "json":
        write_json(docs[0] if len(docs) == 1 else docs)
    elif len(runs) > 1:
        out.print()
        print_findings(out, bed.target, rows)
    codes.append(emit_report(report, opts["report_dir"], opts["junit"], to_stderr=output == "json"))
    return [c for c in codes if c is not None]


def _announce(out: Console, bed, keep: bool, output: str) -> None:
    """Say what was launched (and how to stop it when kept) and the target's notes."""
    from mvcc_check.db.testbed import describe

    for line in describe(bed, keep):
        if output == "text":
            out.print(line)
        else:
            click.echo(line, err=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _one_test(bed, level, spec, save, models, output, out, opts, report=None):
    """One run, recorded (to `save`, else a temporary file) and judged in memory."""
    from mvcc_check.lab.db_runs import judge_db_run

    if save:
        path = save
    else:
        fd, path = tempfile.mkstemp(prefix="mvcc-test-", suffix=".jsonl")
        os.close(fd)
    run = _record(bed, level, spec, path, save, output, opts["time_limit"])
    # named after the file when it is kept, else after the run (the temp file goes)
    label = path if save else f"{run.target_display} {level} seed {spec.seed}"
    judged = judge_db_run(run, models, label)
    result = judged.result
    code = exit_code_for(result)
    if run.stats.errors and code == VALID:
        code = UNDECIDED
    keep = bool(save) or code != VALID
    doc = test_json(result, run, bed, path if keep else None)
    if output == "text":
        print_db_run(out, run, bed, result)
        if keep:
            out.print(f"  history: {path}")
    if report is not None:  # before the file goes: the report reads its faults from it
        report.add(doc, judged.history.ops, history_file=path)
    if not keep:
        os.unlink(path)
    return code, doc


def _record(bed, level, spec, path, save, output, time_limit):
    """Run the workload with a progress bar; exit 2 when unusable, 130 when interrupted."""
    from mvcc_check.db.runner import run_workload

    err = Console(stderr=True, highlight=False)
    progress = Progress(
        TextColumn(f"[bold]{bed.target.kind}[/] {level} seed {spec.seed}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal or output == "json",
    )
    task = progress.add_task("txns", total=spec.txns)
    try:
        with progress:
            run = run_workload(
                bed.target,
                level,
                spec,
                path,
                on_progress=lambda done, total: progress.update(task, completed=done),
                time_limit_s=time_limit,
                **bed.run_kwargs(spec.seed),
            )
    except MvccCheckError:
        if not save and os.path.exists(path):
            os.unlink(path)  # nothing was recorded
        raise
    st = run.stats
    for e in st.errors:
        click.echo(f"mvcc-check: {e}", err=True)
    if st.interrupted:
        raise Interrupted(
            f"interrupted after {st.finished} of {spec.txns} transactions; the "
            f"history so far is in {path} (`mvcc-check check {path}` reads it)"
        )
    if st.timed_out:
        click.echo(
            f"mvcc-check: stopped at the time limit ({time_limit:g} s) after {st.finished} "
            f"of {spec.txns} transactions; judging those",
            err=True,
        )
    return run


# --- hermitage ----------------------------------------------------------------------------


@click.command("hermitage")
@click.option("--db", required=True, help="sqlite:///file.db, postgresql://..., mysql://...")
@click.option(
    "--isolation",
    "-i",
    "levels",
    multiple=True,
    help=LEVEL_HELP + " Repeatable; default: all the database offers.",
)
@click.option(
    "--scenario", "-s", "scenarios", multiple=True, help="Only these scenarios (repeatable)."
)
@click.option(
    "--save-dir", type=click.Path(file_okay=False), help="Keep each scenario's history here."
)
@click.option("--transcript", is_flag=True, help="Print each scenario's steps as they ran.")
@output_option()
@report_options
def hermitage_command(
    db, levels, scenarios, save_dir, transcript, output, report_dir, junit
) -> int:
    """Run Hermitage's isolation scenarios, every variant of its columns (G0, G1a, G1b,
    G1c, OTV, PMP, P4, G-single, G2-item, G2), as exact interleavings over separate
    connections, and print per level which anomalies the database prevents, prevents by
    aborting, or shows, then each level's row in Hermitage's layout. Each
    scenario's history is also judged by the checker, against the model the level claims.

    Exit codes: 0 every history is valid under the level's claimed model and the
    checker agrees with every scenario, 1 a claimed model is violated, 2 unusable
    input or usage, 3 undecided (as everywhere; here also when the checker's finding
    disagrees with the scenario's outcome), 4 internal error, 130 interrupted.
    """
    from mvcc_check.lab.hermitage import plan
    from mvcc_check.report.hermitage import print_hermitage_table

    target = _target(db)
    try:
        p = plan(target, levels, scenarios, _level)
    except OptionError as e:
        raise click.UsageError(str(e)) from None
    if save_dir:
        Path(save_dir).mkdir(parents=True, exist_ok=True)
    out, text = table_console(), output == "text"
    report = new_report("hermitage", report_dir, junit)
    codes, whole, rows = _hermitage_levels(p, out, text, transcript, save_dir, report)
    if text:
        print_hermitage_table(out, whole["server-version"] or target.kind, rows)
    else:
        write_json(stamped(whole, "hermitage"))
    if report is not None:
        report.summary = whole
    code = overall_exit_code(codes)
    failed = emit_report(report, report_dir, junit, to_stderr=not text)
    return failed or (code if code in (VALID, INVALID, UNDECIDED) else UNDECIDED)


def _hermitage_levels(p, out, text: bool, transcript: bool, save_dir, report):
    """Every level of the plan, run, judged and printed (text) as it ends: the exit codes
    of its scenarios, the JSON document, and the rows of Hermitage's table."""
    from mvcc_check.lab.hermitage import run_level, server_version
    from mvcc_check.report.hermitage import add_scenario, level_json, print_level, print_transcript

    codes, docs, rows, version = [], [], [], None

    def seen(s) -> None:
        if report is not None:
            add_scenario(report, s)
        codes.append(exit_code_for(s.result) if s.agrees else UNDECIDED)
        if transcript and text:
            print_transcript(out, s)

    for lv in p.levels:
        lr = run_level(p, lv, save_dir, seen)
        rows.append((lv, lr.model, lr.hermitage_row))
        docs.append(level_json(lr))
        if version is None:
            version = server_version(p.target)
        if text:
            print_level(out, lr, p.target.display, version)
    whole = {"database": p.target.display, "server-version": version, "levels": docs}
    return codes, whole, rows
