"""`mvcc-check elle-cli ARGS...`: elle-cli's command line, flags and output unchanged.

elle-cli (ligurio/elle-cli) prints, per file, the path, a tab and the verdict
(`path \\t true`, as Clojure's println spaces its arguments), or with
`-v json` / `--verbose` the analysis as JSON; it exits 1 if any history is
invalid, else 0 (an "unknown" verdict is not invalid). We take the same flags,
so a script written for elle-cli runs unchanged. Only its two Elle models are
ours; the others (bank, counter, set, cas-register...) are refused in one line.
Where elle-cli would print a stack trace (a missing or unreadable file) or
reject an option, we print one line and exit 2, as every mvcc-check command does.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from mvcc_check.analysis.checker import CheckOptions, Verdict, check
from mvcc_check.analysis.models import validate_models
from mvcc_check.commands.options import emit_report, new_report
from mvcc_check.errors import MvccCheckError, OptionError
from mvcc_check.history.ops import WORKLOADS
from mvcc_check.history.readers import load_history
from mvcc_check.report.json_report import result_json, write_json
from mvcc_check.report.stamp import options_of, stamped
from mvcc_check.report.verdict import INVALID, UNUSABLE, VALID

# elle-cli prints `valid?` as Clojure does: true, false, unknown
_ELLE_CLI_WORD = {Verdict.VALID: "true", Verdict.INVALID: "false", Verdict.UNKNOWN: "unknown"}

SUPPORTED = WORKLOADS
ELLE_CLI_ONLY = (
    "bank",
    "cas-register",
    "comments",
    "counter",
    "long-fork",
    "mutex",
    "sequential",
    "set",
    "set-full",
)


def _keywords(text: str) -> tuple[str, ...]:
    """elle-cli's comma-separated lists (`-c serializable,snapshot-isolation`)."""
    return tuple(p.strip().lstrip(":") for p in text.split(",") if p.strip())


def old_verbose_flag(args: list[str]) -> list[str]:
    """elle-cli before 0.1.9 had `-v` as a flag (--verbose); later `-v` takes text|json.
    A `-v` not followed by text or json is the old flag."""
    out = []
    for i, a in enumerate(args):
        if a == "-v" and (i + 1 >= len(args) or args[i + 1] not in ("text", "json")):
            out.append("--verbose")
        else:
            out.append(a)
    return out


class ElleCliCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, old_verbose_flag(list(args)))


@click.command(
    "elle-cli",
    cls=ElleCliCommand,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("-m", "--model", help="(General) list-append or rw-register.")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["edn", "json"]),
    help="(General) Default: from the file.",
)
@click.option(
    "-v", "--output", type=click.Choice(["text", "json"]), default="text", help="(General)"
)
@click.option("--verbose", is_flag=True, help="(General) The analysis as JSON.")
@click.option("--version", "show_version", is_flag=True, help="Print version and exit.")
@click.option(
    "-c",
    "--consistency-models",
    "consistency",
    default="strict-serializable",
    help="(Elle) Comma-separated models that must hold.",
)
@click.option("-a", "--anomalies", default="G0", help="(Elle) Comma-separated anomalies to forbid.")
@click.option("-s", "--cycle-search-timeout", type=int, default=1000, help="Accepted, unused.")
@click.option(
    "-d",
    "--directory",
    type=click.Path(file_okay=False),
    help="(Elle) Write the report here (index.html, cycle plots as DOT and SVG).",
)
@click.option("-p", "--plot-format", default="svg", help="(Elle) Plots are SVG.")
@click.option("-t", "--plot-timeout", type=int, default=5000, help="Accepted, unused.")
@click.option("-b", "--max-plot-bytes", type=int, default=65536, help="Accepted, unused.")
@click.option("-g", "--group-size", type=int, default=0, help="(long-fork) Accepted, unused.")
@click.option("-n", "--allow-negative-balances", is_flag=True, help="(bank) Accepted, unused.")
@click.option("--max-transfer", type=int, help="(bank) Accepted, unused.")
@click.option("-o", "--total-amount", type=int, help="(bank) Accepted, unused.")
@click.option("--wfr-keys", is_flag=True, help="(mvcc-check) rw-register version order.")
@click.option("--sequential-keys", is_flag=True, help="(mvcc-check) rw-register version order.")
@click.option("--linearizable-keys", is_flag=True, help="(mvcc-check) rw-register version order.")
@click.option(
    "--strict-input",
    is_flag=True,
    help="(mvcc-check) Refuse a history whose writes are not unique per key, as Elle does.",
)
def elle_cli_command(files, model, fmt, output, verbose, show_version, consistency, **rest):
    """elle-cli's flags and output: `mvcc-check elle-cli -m list-append FILE...`.

    Prints `FILE \\t true|false|unknown` per file (or the analysis as JSON with
    -v json / --verbose). Exit codes as elle-cli: 1 if any history is invalid,
    else 0; and 2 for unusable input or usage, as every mvcc-check command.
    """
    if show_version:
        from mvcc_check.report.stamp import tool_version

        click.echo(f"mvcc-check {tool_version()} (elle-cli compatible)")
        return
    options = _check_options(model, consistency, rest)
    report = _plots(rest["directory"], rest["plot_format"]) if rest["directory"] else None
    as_json = verbose or output == "json"
    ran_with = options_of(click.get_current_context())
    ran_with.update(
        {
            "consistency-models": list(options.models),
            "anomalies": list(options.anomalies),
            "output": "json" if as_json else "text",
        }
    )
    codes = []
    for path in files:
        codes.append(_one_file(path, fmt, options, ran_with if as_json else None, report))
    if report is not None:  # said on stderr: stdout keeps elle-cli's lines
        codes.append(emit_report(report, rest["directory"], None, to_stderr=True))
    if UNUSABLE in codes:
        return UNUSABLE
    return INVALID if INVALID in codes else VALID


class _ElleCliUsage(OptionError):
    """Said as elle-cli's usage errors are: one line (click's take three), exit 2."""

    speaker = "mvcc-check elle-cli"


def _usage_error(message: str) -> NoReturn:
    raise _ElleCliUsage(message)


def _check_options(model: str | None, consistency: str, rest: dict) -> CheckOptions:
    if model is None:
        _usage_error(f"-m/--model is required: {' or '.join(SUPPORTED)}")
    if model not in SUPPORTED:
        if model in ELLE_CLI_ONLY:
            why = f"elle-cli's {model} model is not one mvcc-check checks"
        else:
            why = f"unknown model {model!r}"
        _usage_error(f"{why}; supported: {', '.join(SUPPORTED)}")
    models = _keywords(consistency) or ("strict-serializable",)
    try:
        validate_models(models)
    except MvccCheckError as e:
        _usage_error(str(e))
    return CheckOptions(
        models=models,
        workload=model,
        anomalies=_keywords(rest["anomalies"]),
        wfr_keys=rest["wfr_keys"],
        sequential_keys=rest["sequential_keys"],
        linearizable_keys=rest["linearizable_keys"],
        strict_input=rest["strict_input"],
        complete=False,  # elle-cli's answers exactly
    )


def _plots(directory: str, plot_format: str):
    """-d DIR: the report of `check --report DIR` (index.html, cycle plots as DOT and SVG)."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        _usage_error(f"cannot create {directory}: {e.strerror}")
    if plot_format != "svg":
        click.echo(f"mvcc-check: -p {plot_format}: plots are written as SVG (and DOT)", err=True)
    return new_report("elle-cli", directory, None)


def _format_of(path: str, fmt: str | None) -> str | None:
    """-f json covers elle-cli's array and JSON Lines alike; -f edn is EDN."""
    if fmt != "json":
        return fmt
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return fmt  # the reader names the file and the problem
    return "jsonl" if head.lstrip().startswith(b"{") else "json"


def _one_file(
    path: str, fmt: str | None, options: CheckOptions, ran_with: dict | None, report=None
) -> int:
    """Judge one file and print its line (or, given the options to stamp it with, its JSON)."""
    try:
        history = load_history(path, _format_of(path, fmt))
        result = check(history, options)
    except MvccCheckError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        return UNUSABLE
    if report is not None:
        report.add(result_json(result), getattr(history, "ops", None), path)
    if ran_with is not None:
        doc = stamped(result_json(result), "elle-cli", options=ran_with)
        write_json(doc)
    else:
        valid = _ELLE_CLI_WORD[result.verdict]
        sys.stdout.write(f"{path} \t {valid}\n")
        if result.excluded_keys:  # (stdout keeps elle-cli's line; the caveat goes to stderr)
            from mvcc_check.report.text import excluded_note

            click.echo(f"mvcc-check: {path}: {excluded_note(result)}", err=True)
    return INVALID if result.verdict is Verdict.INVALID else VALID
