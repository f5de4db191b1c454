"""`mvcc-check check`: judge recorded histories."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from mvcc_check.analysis.checker import WORKLOADS, CheckOptions, check
from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.options import emit_report, new_report, report_options
from mvcc_check.errors import MvccCheckError
from mvcc_check.history.readers import FORMATS, load_history
from mvcc_check.report.json_report import dumps, result_json
from mvcc_check.report.verdict import UNDECIDED, UNUSABLE, exit_code_for, overall_exit_code

# Where the bar stands when each stage of check() begins (percent): rough shares
# of the time a million-transaction check spends, measured (BENCHMARKS.md);
# reading fills the first share as bytes are read.
_READING_SHARE = 25
_STAGE_STARTS = {"pairing": 25, "inferring": 35, "building": 58, "searching": 66}


_LEFT_FOR_EXIT: list = []
"""What the command still holds when it ends: freeing it object by object would
only delay the exit (half a second per million ops); run_cli ends the process
without tearing the heap down."""


class StageDisplay:
    """What check() and the reader report, shown as a bar on stderr: only for a
    person at a terminal, never with --quiet."""

    def __init__(self, bar, task, path: str, size: int) -> None:
        self.bar, self.task, self.size = bar, task, max(size, 1)
        self.name = _short_name(path)

    def stage(self, name: str) -> None:
        start = _STAGE_STARTS.get(name.split(" ", 1)[0])
        fields = {"description": f"{self.name}: {name}"}
        if start is not None:
            fields["completed"] = start
        self.bar.update(self.task, **fields)

    def bytes_read(self, done: int) -> None:
        self.bar.update(self.task, completed=_READING_SHARE * min(done, self.size) / self.size)


def _short_name(path: str, limit: int = 24) -> str:
    """The file's name, cut to leave the bar its room on an 80-column terminal."""
    name = os.path.basename(path)
    return name if len(name) <= limit else name[: limit - 1] + "…"


class _Silent:
    def stage(self, name: str) -> None:
        pass

    def bytes_read(self, done: int) -> None:
        pass


@contextmanager
def stage_display(path: str, quiet: bool) -> Iterator[StageDisplay | _Silent]:
    """A progress bar with the current stage on stderr, only for a person at a terminal."""
    if quiet or not sys.stderr.isatty():
        yield _Silent()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        yield StageDisplay(bar, bar.add_task(_short_name(path), total=100), path, size)


def model_option(default: tuple[str, ...] | None = ("strict-serializable",)):
    return click.option(
        "--model",
        "-m",
        "models",
        multiple=True,
        default=default,
        show_default=True,
        help="Consistency model that must hold (repeatable): e.g. serializable, snapshot-isolation, "
        "read-committed, strict-serializable, or Adya's PL-2, PL-SI, PL-3...",
    )


def output_option():
    return click.option(
        "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
    )


@click.command("check")
@click.argument("histories", nargs=-1, required=True, type=click.Path(dir_okay=False))
@model_option()
@click.option(
    "--workload", "-w", type=click.Choice(WORKLOADS), help="Default: detected from the micro-ops."
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), help="Default: from the file extension."
)
@output_option()
@click.option(
    "--anomaly", "anomalies", multiple=True, help="Further anomaly to forbid (Elle's :anomalies)."
)
@click.option(
    "--wfr-keys",
    is_flag=True,
    help="rw-register: a write after a read in one txn follows that read.",
)
@click.option(
    "--sequential-keys", is_flag=True, help="rw-register: each key is sequentially consistent."
)
@click.option("--linearizable-keys", is_flag=True, help="rw-register: each key is linearizable.")
@click.option(
    "--examples", default=1, show_default=True, help="Explained examples per anomaly type (text)."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress display on stderr.")
@report_options
def check_command(
    histories,
    models,
    workload,
    fmt,
    output,
    anomalies,
    wfr_keys,
    sequential_keys,
    linearizable_keys,
    examples,
    quiet,
    report_dir,
    junit,
) -> None:
    """Check HISTORY files (Jepsen EDN, elle-cli JSON, or JSON Lines) for isolation anomalies.

    Exit codes: 0 valid under every model, 1 a model is violated,
    2 unusable input or usage, 3 undecided.
    """
    try:
        validate_models(models)
    except MvccCheckError as e:
        raise click.UsageError(str(e)) from None
    options = CheckOptions(
        models=tuple(models),
        workload=workload,
        anomalies=tuple(anomalies),
        wfr_keys=wfr_keys,
        sequential_keys=sequential_keys,
        linearizable_keys=linearizable_keys,
    )
    # A short-lived process holding millions of long-lived objects: the cyclic
    # GC would only rescan them (seconds at a million transactions), and
    # nothing here makes reference cycles worth collecting.
    gc.disable()
    console = None  # rich loads only for text output
    codes = []
    docs = []
    report = new_report("check", report_dir, junit)
    for i, path in enumerate(histories):
        try:
            with stage_display(path, quiet) as display:
                display.stage("reading")
                history = load_history(path, fmt, display.bytes_read)
                result = check(history, options, display.stage)
            if (
                report is not None
            ):  # the ops, where the history keeps them, give timelines their starts
                report.add(result_json(result), getattr(history, "ops", None), path)
            if i + 1 < len(histories):
                del history
            else:  # left to the process's exit: run_cli skips the teardown of millions of ops
                _LEFT_FOR_EXIT.append((history, result))
        except MvccCheckError as e:
            click.echo(f"mvcc-check: {e}", err=True)
            codes.append(UNUSABLE)
            docs.append({"history": path, "valid?": "unknown", "error": str(e)})
            if report is not None:
                report.add(docs[-1], models=tuple(models))
            continue
        except (
            Exception
        ) as e:  # a bug in mvcc-check: say so in one line, never pretend to a verdict
            click.echo(
                f"mvcc-check: internal error while checking {path}: {type(e).__name__}: {e}",
                err=True,
            )
            codes.append(UNDECIDED)
            docs.append({"history": path, "valid?": "unknown", "error": f"internal error: {e}"})
            if report is not None:
                report.add(docs[-1], models=tuple(models))
            continue
        codes.append(exit_code_for(result))
        if output == "json":
            docs.append(result_json(result))
        else:
            if console is None:
                from rich.console import Console

                console = Console(highlight=False, soft_wrap=True)
            from mvcc_check.report.text import render_text

            if i:
                console.print()
            render_text(result, console, examples=examples)
    if output == "json":
        sys.stdout.write(dumps(docs[0] if len(docs) == 1 else docs) + "\n")
    codes.append(emit_report(report, report_dir, junit, to_stderr=output == "json"))
    sys.exit(overall_exit_code(c for c in codes if c is not None))
