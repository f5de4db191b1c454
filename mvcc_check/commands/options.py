"""Options shared by the commands that judge histories: --report and --junit."""

from __future__ import annotations

import click

from mvcc_check.report.bundle import Report
from mvcc_check.report.verdict import UNUSABLE


def report_options(f):
    """--report DIR and --junit FILE, passed as report_dir and junit."""
    f = click.option(
        "--junit",
        type=click.Path(dir_okay=False),
        help="Write JUnit XML: a testsuite per history (run), a testcase per model.",
    )(f)
    return click.option(
        "--report",
        "report_dir",
        type=click.Path(file_okay=False),
        help="Write DIR/index.html (verdicts, model hierarchy, cycle pictures, timelines) "
        "and DIR/<history>/<anomaly-type>/<n>.dot and .svg.",
    )(f)


def new_report(command: str, report_dir: str | None, junit: str | None) -> Report | None:
    """A Report to fill when either output is wanted, else None."""
    return Report(command) if report_dir or junit else None


def emit_report(
    report: Report | None, report_dir: str | None, junit: str | None, to_stderr: bool = False
) -> int | None:
    """Write what was asked and say where (on stderr when stdout carries JSON);
    UNUSABLE when it cannot be written, else None."""
    if report is None:
        return None
    from mvcc_check.report.files import ReportError, write_html_report, write_junit

    try:
        lines = write_html_report(report, report_dir) if report_dir else []
        if junit:
            lines += write_junit(report, junit)
    except ReportError as e:
        click.echo(f"mvcc-check: {e}", err=True)
        return UNUSABLE
    for line in lines:
        click.echo(line, err=to_stderr)
    return None
