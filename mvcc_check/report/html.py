"""The self-contained HTML report: inline CSS and SVG, no script, font or image
from anywhere, readable from file:// and as a CI artifact.

Per history: the verdict per model, the models ruled out on the hierarchy, and
each anomaly type with its count, its meaning, and for its first examples the
explanation, the cycle as a picture and a timeline of its transactions."""

from __future__ import annotations

from typing import Any

from mvcc_check.analysis.explain import DESCRIPTIONS
from mvcc_check.report.bundle import HistoryReport, Report
from mvcc_check.report.cycle_graph import RELATION_COLOURS, anomaly_graph
from mvcc_check.report.hierarchy import hierarchy_svg
from mvcc_check.report.html_tables import summary_html
from mvcc_check.report.per_model import (
    EXAMPLES_PER_TYPE,
    anomaly_items,
    model_verdicts,
    partial_note,
)
from mvcc_check.report.plots import CyclePicture
from mvcc_check.report.svgdraw import esc
from mvcc_check.report.text import explain_anomaly
from mvcc_check.report.timeline import timeline_svg

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2937;
 margin:0;background:#fff}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:22px;margin:4px 0 2px}h2{font-size:19px;margin:34px 0 6px;padding-top:14px;
 border-top:2px solid #e5e7eb}h3{font-size:16px;margin:22px 0 4px}h4{font-size:14px;margin:14px 0 4px}
.sub{color:#6b7280;margin:0 0 10px}
.verdicts{border-collapse:collapse;margin:8px 0}
.verdicts a{color:inherit}
.verdicts td,.verdicts th,table.data td,table.data th{padding:4px 10px;border-bottom:1px solid #e5e7eb;
 text-align:left;vertical-align:top}
table.data{border-collapse:collapse;margin:8px 0;font-size:13px}
table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:700;font-size:12px;
 letter-spacing:.02em;white-space:nowrap}
table.data td:nth-child(-n+2){white-space:nowrap}
.valid{background:#dcfce7;color:#14532d}.invalid{background:#fee2e2;color:#991b1b}
.undecided{background:#fef3c7;color:#78350f}.error{background:#e5e7eb;color:#111827}
.kind{color:#86198f}
.explain{font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f8fafc;
 border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;white-space:pre-wrap;margin:6px 0}
.example{margin:10px 0 26px;padding-left:12px;border-left:3px solid #e5e7eb}
.pictures{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}
.pictures>figure{flex:0 1 auto}.pictures svg{max-width:none}
figure{margin:6px 0;overflow-x:auto;max-width:100%}
figcaption{color:#6b7280;font-size:12px}
svg{max-width:100%;height:auto}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:22px;height:0;border-top:3px solid;vertical-align:middle;
 margin-right:5px}
details>summary{cursor:pointer;color:#374151;margin:6px 0}
.note{color:#92400e;background:#fffbeb;border:1px solid #fde68a;padding:6px 10px;border-radius:6px}
.files a{color:#1d4ed8}
.scroll{overflow-x:auto;max-width:100%}
table.hermitage td,table.hermitage th{padding:4px 6px;font-size:12px}
table.hermitage small{color:#4b5563}
dl.params{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:6px 18px;
 margin:8px 0}
dl.params div{border-bottom:1px solid #e5e7eb;padding:2px 0}
dl.params dt{color:#6b7280;font-size:12px}dl.params dd{margin:0;font-weight:600}
"""


def render_html(
    report: Report, pictures: dict[int, list[CyclePicture]], dirs: list[str], note: str | None
) -> str:
    """The whole page."""
    shown = [(i, h) for i, h in enumerate(report.histories) if h.in_html]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>mvcc-check {esc(report.command)} report</title><style>{CSS}</style></head>",
        "<body><main>",
        f"<h1>mvcc-check {esc(report.command)}</h1>",
        f'<p class="sub">{len(report.histories)} '
        f"{'history' if len(report.histories) == 1 else 'histories'} judged</p>",
    ]
    if note:
        parts.append(f'<p class="note">{esc(note)}</p>')
    if report.command in ("matrix", "hermitage"):  # their own table is the verdict
        parts.append(summary_html(report))
        parts.append(overview(report))
    else:
        parts.append(overview(report))
        parts.append(summary_html(report))
    for i, h in shown:
        parts.append(history_section(h, pictures.get(i, []), dirs[i], i))
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


MAX_OPEN_VERDICTS = 20  # matrix and hermitage fold more rows than this under their table


def verdict_badge(status: str) -> str:
    text = {"valid": "VALID", "invalid": "INVALID", "undecided": "UNDECIDED"}.get(status, "ERROR")
    return f'<span class="badge {status}">{text}</span>'


def overview(report: Report) -> str:
    """The verdict first: one row per history and model."""
    rows = []
    counts = {"valid": 0, "invalid": 0, "undecided": 0, "error": 0}
    for i, h in enumerate(report.histories):
        name = f'<a href="#h{i}">{esc(h.name)}</a>' if h.in_html else esc(h.name)
        for v in model_verdicts(h.doc, h.models):
            counts[v.status] += 1
            detail = ", ".join(v.anomaly_types) if v.anomaly_types else v.reason
            if h.expect_violation:
                detail = ("caught: " if v.status == "invalid" else "MISSED: ") + (detail or "-")
            rows.append(
                f"<tr><td>{name}</td><td>{esc(v.model)}</td><td>{verdict_badge(v.status)}"
                f"</td><td>{esc(detail)}</td></tr>"
            )
    table = (
        '<table class="verdicts" id="verdicts"><tr><th>history</th><th>model</th><th>verdict</th>'
        "<th>anomalies the model forbids / reason</th></tr>" + "".join(rows) + "</table>"
    )
    if len(rows) <= MAX_OPEN_VERDICTS or report.command not in ("matrix", "hermitage"):
        return table
    tally = ", ".join(f"{n} {verdict_badge(k)}" for k, n in counts.items() if n)
    return f"<details><summary>{len(rows)} verdicts: {tally}</summary>{table}</details>"


def _overall(doc: dict[str, Any]) -> str:
    if "error" in doc:
        return "error"
    return {True: "valid", False: "invalid"}.get(doc.get("valid?"), "undecided")


def history_section(h: HistoryReport, pics: list[CyclePicture], d: str, i: int) -> str:
    doc = h.doc
    status = _overall(doc)
    models = ", ".join(doc.get("models") or h.models)
    parts = [
        f'<section class="history" id="h{i}"><h2>{esc(h.name)}: {verdict_badge(status)} '
        f"under {esc(models)}</h2>"
    ]
    if status == "error":
        parts.append(f'<p class="explain">{esc(doc.get("error"))}</p></section>')
        return "".join(parts)
    s = doc.get("stats") or {}
    parts.append(
        f'<p class="sub">{esc(doc.get("workload", ""))} history: {s.get("ok", 0)} committed, '
        f"{s.get('info', 0)} indeterminate, {s.get('fail', 0)} failed transactions; "
        f"{s.get('edges', 0)} dependency edges</p>"
    )
    if doc.get("excluded-keys"):
        keys = ", ".join(repr(r["key"]) for r in doc["excluded-keys"]["keys"][:10])
        parts.append(f'<p class="explain">{esc(partial_note(doc))} ({esc(keys)})</p>')
    not_, also = doc.get("not") or [], doc.get("also-not") or []
    if not_:
        line = f"ruled out: <b>{esc(', '.join(not_))}</b>"
        if also:
            line += f" (and so the stronger {esc(', '.join(also))})"
        parts.append(f"<p>{line}</p>")
        parts.append(
            "<details open><summary>consistency models: ruled out and still possible</summary>"
            f"<figure>{hierarchy_svg(not_, also, doc.get('models') or [])}</figure></details>"
        )
    else:
        parts.append("<p>no model is ruled out by what was found</p>")
    by_kind: dict[str, list[CyclePicture]] = {}
    for p in pics:
        by_kind.setdefault(p.kind, []).append(p)
    if pics:
        parts.append(_legend())
    for kind in doc.get("anomaly-types") or []:
        parts.append(anomaly_section(h, kind, by_kind.get(kind, []), d, i))
    parts.append("</section>")
    return "".join(parts)


def _legend() -> str:
    items = "".join(
        f'<span><i style="border-color:{c};{"border-top-style:dashed;" if r == "rw" else ""}">'
        f"</i>{r}</span>"
        for r, c in RELATION_COLOURS.items()
    )
    return f'<p class="legend">dependencies: {items}</p>'


def anomaly_section(h: HistoryReport, kind: str, pics: list[CyclePicture], d: str, i: int) -> str:
    doc = h.doc
    items = anomaly_items(doc, kind)
    count = h.counts.get(kind, len(items))
    desc = DESCRIPTIONS.get(kind, "")
    parts = [
        f'<h3 class="anomaly" id="h{i}-{esc(kind)}"><span class="kind">{esc(kind)}</span> '
        f"({count} found)</h3>"
    ]
    if desc:
        parts.append(f"<p>{esc(desc)}</p>")
    if pics:
        for p in pics:
            parts.append(_example(p, h, d, i))
        shown = len(pics)
    else:
        shown = min(len(items), EXAMPLES_PER_TYPE)
        for n, item in enumerate(items[:shown]):
            parts.append(_plain_example(h, kind, item, n, i))
    if count > shown:
        parts.append(f'<p class="sub">{count - shown} more not shown; the count is complete</p>')
    return "".join(parts)


def _plain_example(h: HistoryReport, kind: str, item: Any, n: int, i: int) -> str:
    """A non-cycle anomaly: its explanation, and a timeline of the transactions it quotes."""
    text = esc("\n".join(explain_anomaly(kind, item)))
    g = anomaly_graph(kind, item)
    timeline = ""
    if g is not None:
        svg = timeline_svg(g, h.invocations, f"tl{i}-{kind}-{n}", h.faults)
        timeline = (
            f'<div class="pictures"><figure class="timeline">{svg}<figcaption>the transactions '
            "in time, one lane per process</figcaption></figure></div>"
        )
    return f'<div class="example"><div class="explain">{text}</div>{timeline}</div>'


def _example(p: CyclePicture, h: HistoryReport, d: str, i: int) -> str:
    text = "\n".join(explain_anomaly(p.kind, p.record))
    files = f'<a href="{esc(d)}/{esc(p.kind)}/{p.n}.dot">{p.n}.dot</a>'
    if p.svg_path is not None:
        files += f' · <a href="{esc(d)}/{esc(p.kind)}/{p.n}.svg">{p.n}.svg</a>'
    timeline = timeline_svg(p.graph, h.invocations, f"tl{i}-{p.kind}-{p.n}", h.faults)
    return (
        f'<div class="example"><h4>example {p.n + 1}</h4><div class="explain">{esc(text)}</div>'
        '<div class="pictures">'
        f'<figure class="cycle">{p.svg}<figcaption>the cycle (drawn by {esc(p.drawn_by)}); '
        f'<span class="files">{files}</span></figcaption></figure>'
        f'<figure class="timeline">{timeline}<figcaption>the transactions in time, one lane per '
        "process</figcaption></figure></div></div>"
    )
