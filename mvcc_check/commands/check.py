"""`mvcc-check check`: judge recorded histories."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from mvcc_check.analysis.checker import (
    WORKLOADS,
    CheckOptions,
    Result,
    Stage,
    StageStarted,
    check,
    stage_of,
)
from mvcc_check.analysis.models import validate_anomalies, validate_models
from mvcc_check.commands.failure import DEBUG_ENV, report_internal_error
from mvcc_check.commands.options import emit_report, new_report, report_options
from mvcc_check.commands.timing import StageClock, stats_line
from mvcc_check.errors import MvccCheckError
from mvcc_check.history.columns import Columns, OpSummaries
from mvcc_check.history.load import load_columns
from mvcc_check.history.readers import FORMATS, display_name
from mvcc_check.history.store import resolve_history
from mvcc_check.history.txn_order import TransactionOrder, read_transaction_order
from mvcc_check.lab.limits import Limits, Stopped, parse_size, run_limited
from mvcc_check.report.json_report import result_json, write_json
from mvcc_check.report.limits import render_stopped, stopped_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.verdict import (
    INTERNAL,
    UNDECIDED,
    UNUSABLE,
    exit_code_for,
    overall_exit_code,
)

# Where the bar stands when each stage of check() begins (percent): rough shares
# of the time a million-transaction check spends, measured (BENCHMARKS.md);
# reading fills the first share as bytes are read.
_READING_SHARE = 25
_STAGE_STARTS = {
    Stage.PAIRING: 25,
    Stage.INFERRING: 35,
    Stage.BUILDING: 58,
    Stage.DECIDING: 62,
    Stage.SEARCHING: 66,
}


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
        start = _STAGE_STARTS.get(stage_of(name))
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
@click.argument("histories", nargs=-1, required=True)
@model_option()
@click.option(
    "--workload", "-w", type=click.Choice(WORKLOADS), help="Default: detected from the micro-ops."
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    help="Default: detected from the content (the extension when it does not tell).",
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
    "--transaction-order",
    metavar="FILE",
    help="rw-register: a known commit order, a JSON object from completion op index to position.",
)
@click.option(
    "--strict-input",
    is_flag=True,
    help="Refuse a history whose writes are not unique per key (else those keys are left out).",
)
@click.option(
    "--examples",
    default=1,
    show_default=True,
    type=click.IntRange(0),
    help="Explained examples per anomaly type (text).",
)
@click.option(
    "--drop-torn-tail",
    is_flag=True,
    help="Check the rest of a history whose last line is cut short (an interrupted recording).",
)
@click.option(
    "--elle-compatible",
    is_flag=True,
    help="Elle's answers: do not decide the version orders Elle's inference leaves open.",
)
@click.option("--verbose", "-v", is_flag=True, help="Every model ruled out, not only the weakest.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display on stderr.")
@click.option("--stats", "show_stats", is_flag=True, help="Add timings and peak memory.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop after SECONDS with exit 3, saying what was decided.",
)
@click.option("--max-memory", help="Stop at SIZE (e.g. 2G) of memory with exit 3.")
@click.option(
    "--debug",
    is_flag=True,
    help="On an internal error, print the traceback (or MVCC_CHECK_DEBUG=1).",
)
@report_options
def check_command(histories, models, workload, fmt, output, anomalies, examples, **flags) -> int:
    """Check HISTORY files (Jepsen EDN, elle-cli JSON, or JSON Lines; `-` reads
    standard input) for isolation anomalies.

    A HISTORY that is a Jepsen store directory (store/<test>/<time>/, or a
    `latest` link) is read from its history.edn.

    Exit codes: 0 valid under every model, 1 a model is violated,
    2 unusable input or usage, 3 undecided, 4 internal error (a bug in
    mvcc-check: please report it).
    """
    if flags["debug"]:
        os.environ[DEBUG_ENV] = "1"
    try:
        validate_models(models)
        validate_anomalies(anomalies)
        max_memory = flags["max_memory"]
        limits = Limits(flags["time_limit"], parse_size(max_memory) if max_memory else None)
    except MvccCheckError as e:
        raise click.UsageError(str(e)) from None
    options = CheckOptions(
        models=tuple(models),
        workload=workload,
        anomalies=tuple(anomalies),
        wfr_keys=flags["wfr_keys"],
        sequential_keys=flags["sequential_keys"],
        linearizable_keys=flags["linearizable_keys"],
        transaction_order=_transaction_order(flags["transaction_order"]),
        strict_input=flags["strict_input"],
        complete=not flags["elle_compatible"],
    )
    # A short-lived process holding millions of long-lived objects: the cyclic
    # GC would only rescan them (seconds at a million transactions), and
    # nothing here makes reference cycles worth collecting.
    gc.disable()
    out = _Output(output, examples, flags["verbose"], flags["show_stats"], options.models)
    codes = []
    report = new_report("check", flags["report_dir"], flags["junit"])
    for i, path in enumerate(histories):
        last = i + 1 == len(histories)
        code, result, read = _check_one(path, fmt, options, limits, flags, report, keep=last)
        codes.append(code)
        out.result(result, read)
    out.finish()
    codes.append(emit_report(report, flags["report_dir"], flags["junit"], to_stderr=out.json))
    return overall_exit_code(c for c in codes if c is not None)


def _transaction_order(path: str | None) -> TransactionOrder | None:
    """The --transaction-order file, read once for every history; a bad one is one line, exit 2."""
    # (an unusable one raises: one line and exit 2, from the CLI group)
    return None if path is None else read_transaction_order(path)


Outcome = Result | Stopped | dict
"""What one history came to: a verdict, a check stopped by a limit, or an error document."""


def _check_one(
    path: str,
    fmt: str | None,
    options: CheckOptions,
    limits: Limits,
    flags: dict,
    report,
    keep: bool,
) -> tuple[int, Outcome, str]:
    """(exit code, outcome, the file read) for one history; errors are said on stderr (and go to the
    report, when one is asked for). With `keep`, the history is left to the process's
    exit (freeing millions of ops one by one would only delay it)."""
    try:
        path = _resolved(path)
        history, result = _judge(path, fmt, options, limits, flags)
        if isinstance(result, Stopped):
            if report is not None:
                report.add(stopped_json(path, options.models, result), models=options.models)
            return UNDECIDED, result, path
        if report is not None:  # the ops, where the history keeps them, give timelines their starts
            report.add(result_json(result), _ops_of(history), path)
        if keep:
            _LEFT_FOR_EXIT.append((history, result))
        del history
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        return UNUSABLE, _error_doc(path, str(e), options, report), path
    except Exception as e:  # a bug in mvcc-check: say so in one line, never pretend to a verdict
        report_internal_error(e, f"checking {display_name(path)}")
        why = f"internal error: {type(e).__name__}"
        return INTERNAL, _error_doc(path, why, options, report), path
    return exit_code_for(result), result, path


def _judge(path: str, fmt: str | None, options: CheckOptions, limits: Limits, flags: dict):
    """Read and check one history (in a child process under limits, so that reaching
    one stops only the child): (the history or None, its Result or Stopped)."""
    with stage_display(path, flags["quiet"]) as display:
        clock = StageClock(display.stage)
        if limits.active:
            result = run_limited(
                path, fmt, options, limits, clock.stage, drop_torn_tail=flags["drop_torn_tail"]
            )
            history = None
        else:
            clock.stage(StageStarted(Stage.READING))
            history = load_columns(
                path, fmt, display.bytes_read, drop_torn_tail=flags["drop_torn_tail"]
            )
            result = check(history, options, clock.stage)
    if flags["show_stats"] and not isinstance(result, Stopped):
        result.stats.update(clock.stats())
    return history, result


def _ops_of(history: Columns | None):
    """The ops a report's timelines read (invocations near the completions drawn)."""
    if history is None:
        return None
    return history.ops if history.ops is not None else OpSummaries(history)


def _resolved(path: str) -> str:
    """The history file to read: a Jepsen store directory's history.edn, said on stderr."""
    path, note = resolve_history(path)
    if note:
        click.echo(f"mvcc-check: {note}", err=True)
    return path


def _error_doc(path: str, why: str, options: CheckOptions, report) -> dict:
    doc = stamped({"history": display_name(path), "valid?": "unknown", "error": why}, "check")
    if report is not None:
        report.add(doc, models=options.models)
    return doc


class _Output:
    """Text results as they come; JSON documents all at the end (one, or a list)."""

    def __init__(
        self, output: str, examples: int, verbose: bool, stats: bool, models: tuple[str, ...]
    ) -> None:
        self.json = output == "json"
        self.examples, self.verbose, self.stats, self.models = examples, verbose, stats, models
        self.docs: list[dict] = []
        self.console = None  # rich loads only for text output
        self.shown = 0

    def result(self, result: Outcome, path: str) -> None:
        if self.json:
            self.docs.append(self._doc(result, path))
            return
        if isinstance(result, dict):
            return  # an error: said on stderr
        if self.console is None:
            from rich.console import Console

            self.console = Console(highlight=False, soft_wrap=True)
        if self.shown:
            self.console.print()
        self.shown += 1
        if isinstance(result, Stopped):
            render_stopped(path, self.models, result, self.console)
            return
        from mvcc_check.report.text import render_text

        render_text(result, self.console, examples=self.examples, verbose=self.verbose)
        if self.stats:
            self.console.print(stats_line(result.stats))

    def _doc(self, result: Outcome, path: str) -> dict:
        if isinstance(result, dict):
            return result
        if isinstance(result, Stopped):
            return stamped(stopped_json(path, self.models, result), "check")
        return stamped(result_json(result), "check")

    def finish(self) -> None:
        if self.json:
            write_json(self.docs[0] if len(self.docs) == 1 else self.docs)
