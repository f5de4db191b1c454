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
from mvcc_check.db.dialects import session_class
from mvcc_check.db.target import LEVELS, DbError, normalize_level, parse_db_url
from mvcc_check.errors import MvccCheckError
from mvcc_check.history.readers import parse_history_text
from mvcc_check.report import exit_code_for, overall_exit_code, render_text
from mvcc_check.report.json_report import dumps, result_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.verdict import INVALID, UNDECIDED, UNUSABLE, VALID
from mvcc_check.workload import WORKLOADS, WorkloadSpec

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


@click.command("test")
@click.option(
    "--db",
    required=True,
    help="sqlite:///file.db, postgresql://user@host:port/db, mysql://user@host:port/db",
)
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
@model_option(default=None)
@output_option()
def test_command(db, levels, workload, txns, clients, keys, seeds, save, models, output) -> None:
    """Run randomized transactions against a database at an isolation level, record the
    history as it happens, and check it against the model the level claims (or --model).
    With several levels or seeds, one run each and a table of findings at the end.

    Exit codes: 0 valid, 1 the model is violated, 2 unusable input or usage, 3 undecided.
    Credentials come from the URL or PGPASSWORD / MYSQL_PWD and are never printed.
    """
    target = _target(db)
    if target.kind == "engine":
        raise click.UsageError("use `mvcc-check run` for the built-in engine")
    cls = session_class(target)
    levels = tuple(dict.fromkeys(_level(lv) for lv in levels))
    for level in levels:
        if level not in cls.levels:
            raise click.UsageError(
                f"{target.kind} does not offer isolation level {level!r} "
                f"(it offers {', '.join(cls.levels)})"
            )
    try:
        validate_models(models)
    except MvccCheckError as e:
        raise click.UsageError(str(e)) from None
    runs = [(lv, sd) for lv in levels for sd in dict.fromkeys(seeds)]
    out = Console(highlight=False, soft_wrap=True)
    codes, docs, rows = [], [], []
    for i, (level, seed) in enumerate(runs):
        run_models = tuple(models) or (cls.claimed_models[level],)
        save_path = save
        if save and len(runs) > 1:
            stem, ext = os.path.splitext(save)
            save_path = f"{stem}-{level}-{seed}{ext or '.jsonl'}"
        if output == "text" and i:
            out.print()
        code, doc = _one_test(
            target, level, workload, txns, clients, keys, seed, save_path, run_models, output, out
        )
        codes.append(code)
        docs.append(doc)
        rows.append((level, seed, run_models, code, doc))
    if output == "json":
        sys.stdout.write(dumps(docs[0] if len(docs) == 1 else docs) + "\n")
    elif len(runs) > 1:
        out.print()
        _findings_table(out, target, rows)
    sys.exit(overall_exit_code(codes))


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


def _one_test(target, level, workload, txns, clients, keys, seed, save, models, output, out):
    from mvcc_check.db.runner import run_workload

    spec = WorkloadSpec(workload=workload, txns=txns, clients=clients, keys=keys, seed=seed)
    if save:
        path = save
    else:
        fd, path = tempfile.mkstemp(prefix="mvcc-test-", suffix=".jsonl")
        os.close(fd)
    err = Console(stderr=True, highlight=False)
    progress = Progress(
        TextColumn(f"[bold]{target.kind}[/] {level} seed {seed}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal or output == "json",
    )
    task = progress.add_task("txns", total=txns)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C: drop the table, keep the history
    try:
        with progress:
            run = run_workload(
                target,
                level,
                spec,
                path,
                on_progress=lambda done, total: progress.update(task, completed=done),
            )
    except MvccCheckError as e:
        signal.signal(signal.SIGTERM, previous)
        click.echo(f"mvcc-check: {e}", err=True)
        if not save and os.path.exists(path):
            os.unlink(path)  # nothing was recorded
        sys.exit(UNUSABLE)
    signal.signal(signal.SIGTERM, previous)
    st = run.stats
    for e in st.errors:
        click.echo(f"mvcc-check: {e}", err=True)
    if st.interrupted:
        click.echo(
            f"mvcc-check: interrupted after {st.finished} of {txns} transactions; the history "
            f"so far is in {path} (`mvcc-check check {path}` reads it)",
            err=True,
        )
        sys.exit(130)
    try:
        # named after the file when it is kept, else after the run (the temp file goes)
        label = path if save else f"{run.target_display} {level} seed {seed}"
        with open(path, "rb") as f:
            history = parse_history_text(f.read(), source=label, format="jsonl")
        result = check(history, CheckOptions(models=models, workload=workload))
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        sys.exit(UNUSABLE)
    code = exit_code_for(result)
    if st.errors and code == VALID:
        code = UNDECIDED
    keep = bool(save) or code != VALID
    doc = stamped(result_json(result), "test")
    doc["all-anomaly-types"] = sorted(set(result.all_anomaly_types or result.anomaly_types))
    doc["run"] = {
        "database": run.target_display,
        "server-version": run.server_version,
        "isolation": level,
        "workload": workload,
        "txns": txns,
        "clients": clients,
        "keys": keys,
        "seed": seed,
        "committed": st.committed,
        "aborted": st.aborted,
        "indeterminate": st.indeterminate,
        "seconds": round(st.elapsed_s, 3),
        "committed-per-second": round(st.committed_per_s, 1),
        "history-file": path if keep else None,
    }
    if output == "text":
        out.print(
            f"[bold]{run.target_display}[/] ({run.server_version}), isolation [bold]{level}[/], "
            f"{workload}, {txns} txns by {clients} clients over {keys} keys, seed {seed}"
        )
        out.print(
            f"  {st.committed} committed, {st.aborted} aborted by the database, "
            f"{st.indeterminate} indeterminate; {st.elapsed_s:.2f} s, "
            f"{st.committed_per_s:.0f} committed txns/s"
        )
        render_text(result, out)
        if keep:
            out.print(f"  history: {path}")
    if not keep:
        os.unlink(path)
    return code, doc


# --- hermitage ----------------------------------------------------------------------------


def judge_scenario(res, model: str):
    """The checker's findings on a scenario's history: (all anomaly types, valid under model)."""
    text = b"".join(orjson.dumps(op) + b"\n" for op in res.ops)
    history = parse_history_text(
        text, source=f"hermitage {res.scenario} {res.level}", format="jsonl"
    )
    result = check(history, CheckOptions(models=(model,), workload="list-append"))
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
def hermitage_command(db, levels, scenarios, save_dir, transcript, output) -> None:
    """Run Hermitage's isolation scenarios, every variant of its columns (G0, G1a, G1b,
    G1c, OTV, PMP, P4, G-single, G2-item, G2), as exact interleavings over separate
    connections, and print per level which anomalies the database prevents, prevents by
    aborting, or shows, then each level's row in Hermitage's layout. Each
    scenario's history is also judged by the checker, against the model the level claims.

    Exit codes: 0 every history is valid under the level's claimed model and the
    checker agrees with every scenario, 1 a claimed model is violated, 3 disagreement.
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
    out = Console(highlight=False, soft_wrap=True)
    codes: list[int] = []
    docs = []
    rows = []
    version = None
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
    if output == "text":
        print_hermitage_table(out, version or target.kind, rows)
    if output == "json":
        doc = {"database": target.display, "server-version": version, "levels": docs}
        sys.stdout.write(dumps(stamped(doc, "hermitage")) + "\n")
    code = overall_exit_code(codes)
    sys.exit(code if code in (VALID, INVALID, UNDECIDED) else UNDECIDED)


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
