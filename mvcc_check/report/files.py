"""Write a report to disk: the HTML report with its cycle plots, and JUnit XML."""

from __future__ import annotations

from pathlib import Path

from mvcc_check.errors import MvccCheckError
from mvcc_check.report.bundle import Report
from mvcc_check.report.html import render_html
from mvcc_check.report.junit import junit_xml
from mvcc_check.report.plots import plot_cycles


class ReportError(MvccCheckError):
    """The report cannot be written (a directory or file that cannot be made)."""


def write_html_report(report: Report, directory: str | Path) -> list[str]:
    """DIR/index.html and the cycle plots; returns the lines to tell the user."""
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
        pictures, dirs, note = plot_cycles(report, d)
        index = d / "index.html"
        index.write_text(render_html(report, pictures, dirs, note), encoding="utf-8")
    except OSError as e:
        raise ReportError(f"cannot write the report in {d}: {e.strerror or e}") from None
    n = sum(len(p) for p in pictures.values())
    lines = [f"report: {index}" + (f" ({n} cycle plots under {d}/)" if n else "")]
    if note and n:
        lines.append(f"report: {note}")
    return lines


def write_junit(report: Report, path: str | Path) -> list[str]:
    p = Path(path)
    try:
        if p.parent != Path(""):
            p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(junit_xml(report), encoding="utf-8")
    except OSError as e:
        raise ReportError(f"cannot write JUnit XML to {p}: {e.strerror or e}") from None
    return [f"junit: {p}"]
