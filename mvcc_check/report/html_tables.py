"""The command's own tables in the HTML report, from the JSON the command prints:
`run`'s parameters and counts, `test`'s runs with throughput and aborts, `matrix`'s
level by anomaly table, `hermitage`'s table in Hermitage's layout."""

from __future__ import annotations

from typing import Any

from mvcc_check.db.hermitage_table import (
    ANOMALY_CELL,
    COLUMNS,
    LEGEND,
    PREVENTED_CELL,
    SYMBOLS,
)
from mvcc_check.report.bundle import Report
from mvcc_check.report.per_model import anomaly_sort_key
from mvcc_check.report.svgdraw import esc


def summary_html(report: Report) -> str:
    f = {"run": _run, "test": _test, "matrix": _matrix, "hermitage": _hermitage}.get(report.command)
    return f(report) if f else ""


def _table(head: list[str], rows: list[list[str]], cls: str = "data") -> str:
    """Cells are HTML already (escape text with esc)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(rows_cell(c) for c in r) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="{cls}"><tr>{th}</tr>{body}</table></div>'


def rows_cell(c: str) -> str:
    if c.startswith("<td"):
        return c
    return f"<td>{c}</td>"


def num(v: Any) -> str:
    return f'<td class="num">{esc(v)}</td>'


def _run(report: Report) -> str:
    e = report.summary.get("engine") or {}
    rows = [[esc(k.replace("_", " ")), esc(v if v is not None else "-")] for k, v in e.items()]
    secs = e.get("seconds")
    if secs:
        rows.append(["throughput", esc(f"{e.get('committed', 0) / secs:,.0f} committed txns/s")])
    aborted = e.get("aborted", 0)
    causes = (
        f"{e.get('deadlocks', 0)} deadlocks, {e.get('serialization_failures', 0)} serialization "
        f"failures, {max(aborted - e.get('deadlocks', 0) - e.get('serialization_failures', 0), 0)} "
        "rolled back by the client or crashed"
    )
    rows.append(["aborts by cause", esc(causes)])
    items = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in rows)
    return f'<h2>the engine run</h2><dl class="params">{items}</dl>'


def _test(report: Report) -> str:
    rows, first = [], None
    for h in report.histories:
        r = h.doc.get("run")
        if not r:
            continue
        first = first or r
        rows.append(
            [
                esc(r.get("isolation")),
                num(r.get("seed")),
                num(r.get("txns")),
                num(r.get("clients")),
                num(r.get("keys")),
                num(r.get("committed")),
                num(r.get("aborted")),
                esc(_causes(r.get("abort-causes"))),
                num(r.get("indeterminate")),
                num(r.get("seconds")),
                num(f"{r.get('committed-per-second', 0):,.0f}"),
                esc(", ".join(h.doc.get("all-anomaly-types") or []) or "-"),
            ]
        )
    if first is None:
        return ""
    head = (
        "isolation,seed,txns,clients,keys,committed,aborted (fail),aborted by,indeterminate (info),"
        "seconds,committed txns/s,anomalies found (allowed or not)"
    )
    note = (
        '<p class="sub">aborted: the database refused the transaction (a serialization failure, '
        "a deadlock or a lock timeout, recorded as fail; aborted by: the error's class and "
        "SQLSTATE or code); "
        "indeterminate: the connection broke, so whether it committed is unknown (info)</p>"
    )
    title = (
        f"the runs: {esc(first.get('database'))} ({esc(first.get('server-version'))}), "
        f"{esc(first.get('workload'))}"
    )
    return f"<h2>{title}</h2>" + _table(head.split(","), rows) + note


def _causes(causes: dict[str, int] | None) -> str:
    return ", ".join(f"{n} {cause}" for cause, n in (causes or {}).items()) or "-"


def _matrix(report: Report) -> str:
    rows_doc = report.summary.get("rows") or []
    p = report.summary.get("params") or {}
    kinds = sorted({k for r in rows_doc for k in r.get("anomaly-counts", {})}, key=anomaly_sort_key)
    rows = []
    for r in rows_doc:
        label = esc(r["level"]) + (
            f' <span class="kind">+{esc(r["bug"])}</span>' if r.get("bug") else ""
        )
        cells = [num(r["anomaly-counts"].get(k) or "·") for k in kinds]
        total = r.get("committed", 0) + r.get("aborted", 0)
        share = f"{100 * r['committed'] / total:.0f}%" if total else "-"
        held = r.get("claim-held")
        if r.get("bug") and not p.get("model"):
            verdict = (
                f'<span class="badge valid">no: caught {r["violations"]}/{r["runs"]}</span>'
                if not held
                else '<span class="badge invalid">yes: MISSED</span>'
            )
        else:
            verdict = (
                '<span class="badge valid">yes</span>'
                if held
                else f'<span class="badge invalid">NO {r["violations"]}/{r["runs"]}</span>'
            )
        rows.append([label, esc(r.get("claims")), *cells, num(share), verdict])
    title = (
        f"{esc(p.get('workload', ''))}: {p.get('seeds')} seeds x {p.get('txns')} txns, "
        f"{p.get('clients')} clients, {p.get('keys')} keys"
    )
    head = ["level", "checked against" if p.get("model") else "claims", *map(esc, kinds)]
    head += ["committed", "held" if p.get("model") else "claim held"]
    return (
        f'<h2>the matrix</h2><p class="sub">{title}; cells: in how many runs each anomaly type '
        "appeared, allowed or not. Below: the first run of each row whose history breaks the "
        "model.</p>" + _table(head, rows)
    )


HERMITAGE_COLOURS = {"anomaly": "invalid", "prevented": "valid"}
CELL_COLOURS = {PREVENTED_CELL: "valid", ANOMALY_CELL: "invalid"}


def _hermitage(report: Report) -> str:
    doc = report.summary
    levels = doc.get("levels") or []
    return (
        f"<h2>Hermitage: {esc(doc.get('database'))} ({esc(doc.get('server-version'))})</h2>"
        + _hermitage_rows(levels)
        + _hermitage_variants(levels)
    )


def _hermitage_rows(levels: list[dict[str, Any]]) -> str:
    """Hermitage's own table: a row per level, a cell per column (from every variant that ran)."""
    rows = []
    for lv in levels:
        row = lv.get("hermitage-row") or {}
        cells = []
        for col in COLUMNS:
            if col not in row:
                cells.append("<td>·</td>")
                continue
            cls = CELL_COLOURS.get(row[col], "undecided")
            cells.append(f'<td><span class="badge {cls}">{esc(SYMBOLS[row[col]])}</span></td>')
        rows.append([esc(lv["isolation"]), esc(lv["claimed-model"]), *cells])
    head = ["so-called isolation level", "checked as", *map(esc, COLUMNS)]
    return _table(head, rows, "data hermitage") + f'<p class="sub">{esc(LEGEND)}</p>'


def _hermitage_variants(levels: list[dict[str, Any]]) -> str:
    """Each scenario variant (a row) at each level (a column): what the database did, and
    every anomaly type the checker found in its history, allowed by the level or not."""
    names: list[str] = []
    for lv in levels:
        for sc in lv["scenarios"]:
            if sc["scenario"] not in names:
                names.append(sc["scenario"])
    by_level = [{sc["scenario"]: sc for sc in lv["scenarios"]} for lv in levels]
    rows = []
    for name in names:
        cells = []
        for by in by_level:
            sc = by.get(name)
            if sc is None:
                cells.append("<td></td>")
                continue
            cls = HERMITAGE_COLOURS.get(sc["result"], "undecided")
            found = ", ".join(sc.get("checker-anomaly-types") or []) or "-"
            agree = (
                "" if sc.get("agrees") else ' <span class="badge invalid">checker disagrees</span>'
            )
            cells.append(
                f'<td><span class="badge {cls}">{esc(sc["result"])}</span>{agree}'
                f"<br><small>checker: {esc(found)}</small></td>"
            )
        rows.append([esc(name), *cells])
    head = ["variant", *(esc(lv["isolation"]) for lv in levels)]
    return (
        "<h3>each variant</h3>"
        + _table(head, rows, "data hermitage")
        + '<p class="sub">prevented: the database kept the anomaly out; prevented by abort: it '
        "refused one of the transactions; anomaly: it happened. checker: every anomaly type the "
        "checker found in the variant's history, allowed by the level or not.</p>"
    )
