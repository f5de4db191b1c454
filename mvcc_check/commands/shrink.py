"""`mvcc-check shrink HISTORY -m MODEL [--anomaly A] --save OUT`: the smallest
sub-history of a recorded history that still shows an anomaly the model forbids."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

from mvcc_check.analysis.checker import WORKLOADS, CheckOptions, Verdict, check
from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.check import model_option, output_option
from mvcc_check.errors import MvccCheckError
from mvcc_check.history.readers import FORMATS, load_history
from mvcc_check.history.store import resolve_history
from mvcc_check.lab.shrink_history import ShrinkResult, ops_json, ops_jsonl, pick_anomaly
from mvcc_check.report.json_report import dumps, result_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.verdict import UNUSABLE, VALID, exit_code_for


@click.command("shrink")
@click.argument("history", type=click.Path())
@model_option()
@click.option("--anomaly", help="The anomaly to keep (default: the first the model forbids).")
@click.option("--save", type=click.Path(dir_okay=False), help="Write the sub-history to OUT.")
@click.option("--workload", "-w", type=click.Choice(WORKLOADS), help="Default: detected.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), help="Default: from the name.")
@output_option()
@click.option("--stats", "show_stats", is_flag=True, help="Say how long the shrinking took.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display on stderr.")
def shrink_command(history, models, anomaly, save, workload, fmt, output, show_stats, quiet):
    """Shrink HISTORY to its smallest sub-history (whole transactions, in their original
    order) that still shows an anomaly MODEL forbids, by delta debugging with the checker
    as the test; write it to OUT (JSON Lines, or a JSON array if OUT ends in .json).

    Exit codes: 1 shrunk (the history violates the model), 0 nothing to shrink (valid),
    2 unusable input or usage, 3 undecided.
    """
    try:
        validate_models(models)
    except MvccCheckError as e:
        raise click.UsageError(str(e)) from None
    if save and os.path.splitext(save)[1].lower() == ".edn":
        raise click.UsageError("--save writes JSON Lines or JSON: name OUT .jsonl or .json")
    options = CheckOptions(
        models=tuple(models), workload=workload, anomalies=(anomaly,) if anomaly else ()
    )
    try:
        path, note = resolve_history(history)
        if note:
            click.echo(f"mvcc-check: {note}", err=True)
        loaded = load_history(path, fmt)
        original = check(loaded, options)
        target = pick_anomaly(original, anomaly)
        shrunk = None
        if target is not None:
            shrunk = _shrink(loaded, options, target, original, quiet, save)
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        sys.exit(UNUSABLE)
    if shrunk is None:
        _nothing_to_shrink(original, anomaly, output)
    if save:
        _save(save, shrunk)
    _report(shrunk, path, save, output, show_stats)
    sys.exit(exit_code_for(shrunk.result))


def _shrink(loaded, options, target, original, quiet, label) -> ShrinkResult:
    from mvcc_check.lab.shrink_history import shrink_history

    err = Console(stderr=True)
    if quiet or not err.is_terminal:
        return shrink_history(loaded, options, target, original, label=label)
    with err.status(f"shrinking to the smallest sub-history that shows {target}...") as status:

        def tick(txns: int, checks: int) -> None:
            status.update(f"shrinking to {target}: {txns} transactions, {checks} checks")

        return shrink_history(loaded, options, target, original, tick, label)


def _nothing_to_shrink(original, anomaly: str | None, output: str) -> None:
    code = exit_code_for(original)
    if anomaly and original.verdict is Verdict.INVALID:
        why = f"{anomaly} is not among the anomalies found ({', '.join(original.anomaly_types)})"
    elif code == VALID:
        why = f"the history is valid under {', '.join(original.models)}"
    else:
        why = "the history is undecided (no anomaly the model forbids was found)"
    click.echo(f"mvcc-check: nothing to shrink: {why}", err=True)
    if output == "json":
        doc = result_json(original)
        doc["shrunk"] = None
        sys.stdout.write(dumps(stamped(doc, "shrink")) + "\n")
    sys.exit(code)


def _save(save: str, shrunk: ShrinkResult) -> None:
    data = ops_json(shrunk.ops) if save.lower().endswith(".json") else ops_jsonl(shrunk.ops)
    try:
        with open(save, "wb") as f:
            f.write(data)
    except OSError as e:
        click.echo(f"mvcc-check: cannot write {save}: {e.strerror}", err=True)
        sys.exit(UNUSABLE)


def _report(shrunk: ShrinkResult, path: str, save: str | None, output: str, stats: bool) -> None:
    summary = {
        "from": path,
        "anomaly": shrunk.anomaly,
        "model": list(shrunk.result.models),
        "original-txns": shrunk.original_txns,
        "original-ops": shrunk.original_ops,
        "txns": shrunk.txns,
        "ops": len(shrunk.ops),
        "checks": shrunk.checks,
        "minimal": True,
        "saved": save,
    }
    if stats:
        summary["seconds"] = round(shrunk.seconds, 3)
    if output == "json":
        doc = result_json(shrunk.result)
        doc["shrunk"] = summary
        sys.stdout.write(dumps(stamped(doc, "shrink")) + "\n")
        return
    from mvcc_check.report.text import render_text

    out = Console(highlight=False, soft_wrap=True)
    took = f", {shrunk.seconds:.1f} s" if stats else ""
    out.print(
        f"[bold]{path}[/]: shrunk from {shrunk.original_txns} transactions "
        f"({shrunk.original_ops} ops) to {shrunk.txns} ({len(shrunk.ops)} ops) in "
        f"{shrunk.checks} checks{took}, still showing [bold magenta]{shrunk.anomaly}[/] "
        f"under {', '.join(shrunk.result.models)}."
    )
    out.print(
        "  Whole transactions kept in their original order, with their original op indices; "
        "removing any one of them loses the anomaly (1-minimal, by delta debugging)."
    )
    if save:
        out.print(f"  saved to {save}; `mvcc-check check {save}` judges it on its own.")
    out.print()
    render_text(shrunk.result, out, examples=1)
