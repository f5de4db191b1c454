"""`mvcc-check shrink HISTORY -m MODEL [--anomaly A] --save OUT`: the smallest
sub-history of a recorded history that still shows an anomaly the model forbids."""

from __future__ import annotations

import os

import click
from rich.console import Console

from mvcc_check.analysis.checker import WORKLOADS, CheckOptions, Verdict, check
from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.check import model_option, output_option
from mvcc_check.errors import MvccCheckError, OptionError
from mvcc_check.history.readers import FORMATS, load_history
from mvcc_check.history.store import resolve_history
from mvcc_check.lab.shrink_history import ShrinkResult, ops_json, ops_jsonl, pick_anomaly
from mvcc_check.report.json_report import write_json
from mvcc_check.report.shrink import nothing_to_shrink_json, print_shrink, shrink_json
from mvcc_check.report.verdict import VALID, exit_code_for


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
@click.option(
    "--strict-input",
    is_flag=True,
    help="Refuse a history whose writes are not unique per key (else those keys are left out).",
)
def shrink_command(
    history, models, anomaly, save, workload, fmt, output, show_stats, quiet, strict_input
) -> int:
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
        models=tuple(models),
        workload=workload,
        anomalies=(anomaly,) if anomaly else (),
        strict_input=strict_input,
    )
    path, note = resolve_history(history)
    if note:
        click.echo(f"mvcc-check: {note}", err=True)
    loaded = load_history(path, fmt)
    original = check(loaded, options)
    target = pick_anomaly(original, anomaly)
    if target is None:
        return _nothing_to_shrink(original, anomaly, output)
    shrunk = _shrink(loaded, options, target, original, quiet, save)
    if save:
        _save(save, shrunk)
    if output == "json":
        write_json(shrink_json(shrunk, path, save, show_stats))
    else:
        print_shrink(shrunk, path, save, show_stats)
    return exit_code_for(shrunk.result)


def _shrink(loaded, options, target, original, quiet, label) -> ShrinkResult:
    from mvcc_check.lab.shrink_history import shrink_history

    err = Console(stderr=True)
    if quiet or not err.is_terminal:
        return shrink_history(loaded, options, target, original, label=label)
    with err.status(f"shrinking to the smallest sub-history that shows {target}...") as status:

        def tick(txns: int, checks: int) -> None:
            status.update(f"shrinking to {target}: {txns} transactions, {checks} checks")

        return shrink_history(loaded, options, target, original, tick, label)


def _nothing_to_shrink(original, anomaly: str | None, output: str) -> int:
    code = exit_code_for(original)
    if anomaly and original.verdict is Verdict.INVALID:
        why = f"{anomaly} is not among the anomalies found ({', '.join(original.anomaly_types)})"
    elif code == VALID:
        why = f"the history is valid under {', '.join(original.models)}"
    else:
        why = "the history is undecided (no anomaly the model forbids was found)"
    click.echo(f"mvcc-check: nothing to shrink: {why}", err=True)
    if output == "json":
        write_json(nothing_to_shrink_json(original))
    return code


def _save(save: str, shrunk: ShrinkResult) -> None:
    data = ops_json(shrunk.ops) if save.lower().endswith(".json") else ops_jsonl(shrunk.ops)
    try:
        with open(save, "wb") as f:
            f.write(data)
    except OSError as e:
        raise OptionError(f"cannot write {save}: {e.strerror}") from None
