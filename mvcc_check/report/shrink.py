"""`shrink` results rendered: text and JSON (the shrunk sub-history's verdict and how it
was reached)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from mvcc_check.analysis.checker import Result
from mvcc_check.lab.shrink_history import ShrinkResult
from mvcc_check.report.json_report import result_json
from mvcc_check.report.stamp import stamped
from mvcc_check.report.text import render_text


def nothing_to_shrink_json(original: Result) -> dict[str, Any]:
    doc = result_json(original)
    doc["shrunk"] = None
    return stamped(doc, "shrink")


def shrink_json(shrunk: ShrinkResult, path: str, save: str | None, stats: bool) -> dict[str, Any]:
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
    doc = result_json(shrunk.result)
    doc["shrunk"] = summary
    return stamped(doc, "shrink")


def print_shrink(shrunk: ShrinkResult, path: str, save: str | None, stats: bool) -> None:
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
