"""`mvcc-check test` and `mvcc-check hermitage`: run transactions against a real
database, record the history, and judge it with the same checker as `check`."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mvcc_check.analysis.checker import CheckOptions, check
from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.check import model_option, output_option
from mvcc_check.commands.options import emit_report, new_report, report_options
from mvcc_check.db.dialects import session_class
from mvcc_check.db.target import LEVELS, DbError, normalize_level, parse_db_url
from mvcc_check.db.testbed import run_doc
from mvcc_check.errors import MvccCheckError
from mvcc_check.history.readers import parse_history_text
from mvcc_check.report import exit_code_for, overall_exit_code, render_text
from mvcc_check.report.json_report import dumps, result_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.tables import table_console
from mvcc_check.report.verdict import INVALID, UNDECIDED, UNUSABLE, VALID
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
def test_command(db, launch, keep, levels, models, output, **opts) -> None:
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
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        sys.exit(UNUSABLE)
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(overall_exit_code(codes))


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
        sys.stdout.write(dumps(docs[0] if len(docs) == 1 else docs) + "\n")
    elif len(runs) > 1:
        out.print()
        _findings_table(out, bed.target, rows)
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


def _findings_table(out: Console, target, rows) -> None:
    table = Table(show_edge=False, pad_edge=False)
    for col in (
        "isolation",
        "seed",
        "committed",
        "aborted",
        "indet.",
        "txns/s",
        "anomalies found",
        "claimed model",
        "verdict",
    ):
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


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _one_test(bed, level, spec, save, models, output, out, opts, report=None):
    if save:
        path = save
    else:
        fd, path = tempfile.mkstemp(prefix="mvcc-test-", suffix=".jsonl")
        os.close(fd)
    run = _record(bed, level, spec, path, save, output, opts["time_limit"])
    try:
        # named after the file when it is kept, else after the run (the temp file goes)
        label = path if save else f"{run.target_display} {level} seed {spec.seed}"
        with open(path, "rb") as f:
            history = parse_history_text(f.read(), source=label, format="jsonl")
        result = check(history, CheckOptions(models=models, workload=spec.workload))
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        sys.exit(UNUSABLE)
    code = exit_code_for(result)
    if run.stats.errors and code == VALID:
        code = UNDECIDED
    keep = bool(save) or code != VALID
    doc = stamped(result_json(result), "test")
    doc["all-anomaly-types"] = sorted(set(result.all_anomaly_types or result.anomaly_types))
    doc["run"] = run_doc(run, bed, path if keep else None)
    if output == "text":
        _print_run(out, run, bed, result)
        if keep:
            out.print(f"  history: {path}")
    if report is not None:  # before the file goes: the report reads its faults from it
        report.add(doc, getattr(history, "ops", None), history_file=path)
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
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        if not save and os.path.exists(path):
            os.unlink(path)  # nothing was recorded
        sys.exit(UNUSABLE)
    st = run.stats
    for e in st.errors:
        click.echo(f"mvcc-check: {e}", err=True)
    if st.interrupted:
        click.echo(
            f"mvcc-check: interrupted after {st.finished} of {spec.txns} transactions; the "
            f"history so far is in {path} (`mvcc-check check {path}` reads it)",
            err=True,
        )
        sys.exit(130)
    if st.timed_out:
        click.echo(
            f"mvcc-check: stopped at the time limit ({time_limit:g} s) after {st.finished} "
            f"of {spec.txns} transactions; judging those",
            err=True,
        )
    return run


def _print_run(out: Console, run, bed, result) -> None:
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


# --- hermitage ----------------------------------------------------------------------------


def judge_scenario(res, model: str):
    """The checker's findings on a scenario's history: (all anomaly types, valid under model)."""
    from mvcc_check.db.hermitage_predicate import predicate_ops

    pred = predicate_ops(
        res.scenario, res.observation, res.ops
    )  # a predicate scenario: G2, not G2-item
    workload = "list-append" if pred is None else "closed-predicate"
    text = b"".join(orjson.dumps(op) + b"\n" for op in (res.ops if pred is None else pred))
    history = parse_history_text(
        text, source=f"hermitage {res.scenario} {res.level}", format="jsonl"
    )
    result = check(history, CheckOptions(models=(model,), workload=workload))
    found = set(result.all_anomaly_types or result.anomaly_types)
    return found, result


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
) -> None:
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
    from mvcc_check.db.hermitage import (
        checker_agrees,
        default_levels,
        run_scenario,
        scenarios_for,
    )
    from mvcc_check.db.hermitage_table import hermitage_row
    from mvcc_check.report.hermitage import print_hermitage_table

    target = _target(db)
    if target.kind == "engine":
        from mvcc_check.db.hermitage import engine_bugs, engine_claims, engine_levels

        try:
            from mvcc_check.engine import get_bug

            for b in engine_bugs(target.url):
                get_bug(b)
        except ValueError as e:
            raise click.UsageError(str(e)) from None
        offered = engine_levels()
        chosen_levels = tuple(levels) or offered
        claims = {lv: engine_claims(lv) for lv in offered}
    else:
        cls = session_class(target)
        offered = cls.levels
        chosen_levels = tuple(_level(lv) for lv in levels) or default_levels(target.kind)
        claims = cls.claimed_models
    for lv in chosen_levels:
        if lv not in offered:
            raise click.UsageError(
                f"{target.kind} does not offer isolation level {lv!r} (it offers {', '.join(offered)})"
            )
    names = {s.name.lower(): s for s in scenarios_for(target.kind)}
    chosen = []
    for name in scenarios:
        if name.lower() not in names:
            raise click.UsageError(
                f"unknown scenario {name!r} (known here: {', '.join(s.name for s in names.values())})"
            )
        chosen.append(names[name.lower()])
    chosen = chosen or list(scenarios_for(target.kind))
    if save_dir:
        Path(save_dir).mkdir(parents=True, exist_ok=True)
    out = table_console()
    codes: list[int] = []
    docs = []
    rows = []
    version = None
    report = new_report("hermitage", report_dir, junit)
    for lv in chosen_levels:
        model = claims[lv]
        table = Table(title=None, show_edge=False, pad_edge=False)
        for col in ("scenario", "anomaly", "result", "checker found", "agrees"):
            table.add_column(col)
        level_doc = {"isolation": lv, "claimed-model": model, "scenarios": []}
        violated = []
        for sc in chosen:
            hp = Path(save_dir, f"{target.kind}-{lv}-{sc.name}.jsonl") if save_dir else None
            try:
                res = run_scenario(target, lv, sc, history_path=hp)
            except MvccCheckError as e:
                click.echo(f"mvcc-check: {e}", err=True)
                sys.exit(UNUSABLE)
            except Exception as e:  # a database error we do not understand: say it, no verdict
                click.echo(f"mvcc-check: {sc.name} at {lv}: {type(e).__name__}: {e}", err=True)
                sys.exit(UNDECIDED)
            found, result = judge_scenario(res, model)
            agree = checker_agrees(sc, res.verdict, found)
            if report is not None:
                _report_scenario(report, res, result, found, agree)
            if result.valid is False:
                violated.append(sc.name)
            codes.append(exit_code_for(result) if agree else UNDECIDED)
            shown = ", ".join(sorted(found)) or "-"
            colour = {"anomaly": "red", "prevented": "green"}.get(res.verdict, "yellow")
            table.add_row(
                sc.name,
                sc.title,
                f"[{colour}]{res.verdict}[/]",
                shown,
                "yes" if agree else "[red]NO[/]",
            )
            level_doc["scenarios"].append(
                {
                    "scenario": sc.name,
                    "result": res.verdict,
                    "blocked": res.observation.blocked,
                    "checker-anomaly-types": sorted(found),
                    "valid?": result.valid,  # under the level's claimed model
                    "agrees": agree,
                    "history-file": str(hp) if hp else None,
                }
            )
            if transcript and output == "text":
                out.print(f"[bold]{sc.name}[/] at {lv}:")
                for line in res.observation.transcript:
                    out.print("   " + line)
        level_doc["violates-claimed-model"] = violated
        verdicts = {d["scenario"]: d["result"] for d in level_doc["scenarios"]}
        level_doc["hermitage-row"] = hermitage_row(verdicts)
        rows.append((lv, model, level_doc["hermitage-row"]))
        docs.append(level_doc)
        if version is None:
            version = _server_version(target)
        if output == "text":
            out.print(
                f"\n[bold]{target.display}[/] ({version}), isolation [bold]{lv}[/] (claims {model})"
            )
            out.print(table)
            if violated:
                out.print(f"  [red]histories invalid under {model}[/]: {', '.join(violated)}")
            else:
                out.print(f"  every history is valid under {model}")
    whole = {"database": target.display, "server-version": version, "levels": docs}
    if output == "text":
        print_hermitage_table(out, version or target.kind, rows)
    if output == "json":
        sys.stdout.write(dumps(stamped(whole, "hermitage")) + "\n")
    if report is not None:
        report.summary = whole
    code = overall_exit_code(codes)
    failed = emit_report(report, report_dir, junit, to_stderr=output == "json")
    sys.exit(failed or (code if code in (VALID, INVALID, UNDECIDED) else UNDECIDED))


def _report_scenario(report, res, result, found: set[str], agree: bool) -> None:
    """A scenario's history in the report: in the HTML when it breaks the claim or disagrees."""
    doc = result_json(result)
    doc["all-anomaly-types"] = sorted(found)
    doc["hermitage"] = {
        "scenario": res.scenario,
        "isolation": res.level,
        "result": res.verdict,
        "agrees": agree,
    }
    show = result.valid is not True or not agree
    report.add(doc, res.ops if show else None, in_html=show)


def _server_version(target) -> str:
    from mvcc_check.db.dialects import open_session

    if target.kind == "engine":
        bugs = target.url.split(":", 1)[1]
        return "mvcc-check built-in engine" + (f" with bugs {bugs}" if bugs else "")

    s = open_session(target)
    try:
        return s.server_version()
    finally:
        s.close()
