"""A timeline of one example's transactions, as SVG: one lane per process, each
transaction a bar from invocation to completion (ok, fail and info told apart),
and the cycle's dependencies drawn between the bars.

The axis is the ops' `time` when every op drawn has one, else their index in
the history (op positions), which orders them just as well.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from mvcc_check.report.cycle_graph import colour
from mvcc_check.report.faults import Fault
from mvcc_check.report.svgdraw import arrow_markers, esc, marker_id, svg_open

BAR_FILL = {"ok": "#4c9a6a", "fail": "#c8352b", "info": "#e0a030"}
LANE_H = 66
BAR_H = 20
LEFT = 92
RIGHT = 24
TOP = 54
AXIS_H = 34
WIDTH = 560


@dataclass
class Bar:
    name: str
    process: Any
    type: str
    start: float
    end: float
    open_end: bool  # an info op with no completion: the bar runs to the axis' end


def _bars(g: nx.MultiDiGraph, invocations: dict[int, dict]) -> tuple[list[Bar], str]:
    """The bars and the axis' unit, "time" or "op index"."""
    rows = []
    for name, data in g.nodes(data=True):
        op = data["op"]
        inv = invocations.get(op.get("index"))
        rows.append((name, op, inv))
    use_time = all(
        _num(op.get("time")) is not None and (inv is None or _num(inv.get("time")) is not None)
        for _, op, inv in rows
    )
    unit = "time" if use_time else "index"
    bars = []
    for name, op, inv in rows:
        end = float(op.get(unit) if unit == "index" else _num(op.get("time")))
        start = end if inv is None else float(inv.get(unit) if unit == "index" else inv["time"])
        open_end = op.get("type") == "info" and inv is None
        bars.append(Bar(name, op.get("process"), op.get("type", "?"), start, end, open_end))
    return bars, unit


def _num(t: Any) -> float | None:
    return float(t) if isinstance(t, int | float) and not isinstance(t, bool) and t >= 0 else None


def timeline_svg(
    g: nx.MultiDiGraph,
    invocations: dict[int, dict],
    prefix: str,
    faults: Sequence[Fault] = (),
) -> str:
    """The SVG timeline of the cycle's transactions and dependencies, with the faults
    that overlap it drawn on the same axis."""
    bars, unit = _bars(g, invocations)
    procs = sorted({b.process for b in bars}, key=lambda p: (not isinstance(p, int), str(p)))
    lane = {p: i for i, p in enumerate(procs)}
    t0 = lo = min(b.start for b in bars)
    hi = max(b.end for b in bars)
    span = (hi - lo) or 1.0
    pad = span * 0.04
    lo, hi = lo - pad, hi + pad + (span * 0.12 if any(b.open_end for b in bars) else 0)
    plot_w = WIDTH - LEFT - RIGHT

    def x(v: float) -> float:
        return LEFT + (v - lo) / (hi - lo) * plot_w

    height = TOP + LANE_H * len(procs) + AXIS_H
    parts = [svg_open(WIDTH, height, "timeline", "timeline"), arrow_markers(prefix)]
    for p, i in lane.items():
        y = TOP + i * LANE_H
        shade = "#f7f8fa" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE_H}" fill="{shade}"/>')
        parts.append(f'<text x="8" y="{y + LANE_H / 2 + 4}" fill="#374151">process {esc(p)}</text>')
    parts.extend(_faults(faults, unit, lo, hi, x, TOP + LANE_H * len(procs)))
    boxes = {}
    for b in bars:
        y = TOP + lane[b.process] * LANE_H + (LANE_H - BAR_H) / 2
        x1 = x(b.start)
        x2 = x(hi) - 4 if b.open_end else x(b.end)
        if x2 - x1 < 26:  # keep a bar wide enough to read its name
            x1, x2 = (x1 + x2) / 2 - 13, (x1 + x2) / 2 + 13
        boxes[b.name] = (x1, y, x2 - x1)
        parts.append(_bar(b, x1, y, x2 - x1))
    parts.extend(_deps(g, boxes, prefix))
    parts.append(_axis(lo, hi, t0, unit, x, TOP + LANE_H * len(procs)))
    parts.append(_legend())
    parts.append("</svg>")
    return "".join(parts)


FAULT_COLOUR = "#7c3aed"


def _faults(
    faults: Sequence[Fault], unit: str, lo: float, hi: float, x, bottom: float
) -> list[str]:
    """Each fault overlapping [lo, hi]: a shaded span (start to end) or a dashed line (a moment)."""
    out = []
    for f in faults:
        start = f.start_time if unit == "time" else f.start_index
        end = f.end_time if unit == "time" else f.end_index
        if start is None:
            continue
        if end is None and f.open:
            end = hi
        if (end if end is not None else start) < lo or start > hi:
            continue
        x1 = x(max(start, lo))
        title = f"fault {f.label}" + (" (not seen to end)" if f.open else "")
        out.append(f'<g class="fault"><title>{esc(title)}</title>')
        if end is None:
            out.append(
                f'<line x1="{x1:.1f}" y1="{TOP - 8}" x2="{x1:.1f}" y2="{bottom:.1f}" '
                f'stroke="{FAULT_COLOUR}" stroke-width="1.5" stroke-dasharray="3 3"/>'
            )
        else:
            x2 = x(min(end, hi))
            out.append(
                f'<rect x="{x1:.1f}" y="{TOP - 8}" width="{max(x2 - x1, 2):.1f}" '
                f'height="{bottom - TOP + 8:.1f}" fill="{FAULT_COLOUR}" fill-opacity="0.10" '
                f'stroke="{FAULT_COLOUR}" stroke-opacity="0.5"/>'
            )
        out.append(
            f'<text x="{x1 + 3:.1f}" y="{TOP - 11}" fill="{FAULT_COLOUR}">{esc(f.label)}</text></g>'
        )
    return out


def _bar(b: Bar, x: float, y: float, w: float) -> str:
    fill = BAR_FILL.get(b.type, "#888888")
    dash = ' stroke-dasharray="4 3"' if b.type == "info" else ""
    title = f"{b.name}: {b.type}"
    if b.open_end:
        title += " (never completed)"
    return (
        f'<g class="bar {esc(b.type)}"><title>{esc(title)}</title>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BAR_H}" rx="3" '
        f'fill="{fill}" fill-opacity="{0.45 if b.type == "info" else 0.9}" stroke="#1f2937"'
        f'{dash}/><text x="{x + w / 2:.1f}" y="{y + 14:.1f}" text-anchor="middle" '
        f'font-weight="bold" fill="#111827">{esc(b.name)}</text></g>'
    )


def _deps(g: nx.MultiDiGraph, boxes: dict, prefix: str) -> list[str]:
    """One arrow per dependency: realtime and process from a's end to b's start, the
    others from bar middle to bar middle, bowed above the lanes they join."""
    out = []
    for k, (a, b, data) in enumerate(g.edges(data=True)):
        ax, ay, aw = boxes[a]
        bx, by, bw = boxes[b]
        rel = data["rel"]
        if rel in ("realtime", "process"):
            x1, x2 = ax + aw, bx
        else:
            x1, x2 = ax + aw / 2, bx + bw / 2
        y1, y2 = ay, by
        if ay == by:  # the same lane: arc above it
            cx, my = (x1 + x2) / 2, ay - 28 - 8 * (k % 3)
        else:  # between lanes: bowed to the left of the way, so a pair's two ways part
            down = by > ay
            y1 = ay + (BAR_H if down else 0)
            y2 = by + (0 if down else BAR_H)
            dx, dy = x2 - x1, y2 - y1
            dist = math.hypot(dx, dy) or 1.0
            bend = 22 + 12 * (k % 2)
            cx, my = (x1 + x2) / 2 - dy / dist * bend, (y1 + y2) / 2 + dx / dist * bend
        c = colour(rel)
        dash = ' stroke-dasharray="6 4"' if rel == "rw" else ""
        lx, ly = (x1 + 2 * cx + x2) / 4, (y1 + 2 * my + y2) / 4 + 4
        # the label stands outside the bow, away from a pair's other way
        bow = cx - (x1 + x2) / 2
        anchor = "middle" if abs(bow) < 1 else ("start" if bow > 0 else "end")
        lx += 4 if bow > 0 else -4 if bow < 0 else 0
        out.append(
            f'<g class="dep {esc(rel)}"><path d="M{x1:.1f},{y1:.1f} Q{cx:.1f},{my:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="{c}" stroke-width="1.6"{dash} '
            f'marker-end="url(#{marker_id(prefix, rel)})"/>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" fill="{c}" stroke="white" '
            f'stroke-width="3" paint-order="stroke">{esc(data["label"])}</text></g>'
        )
    return out


def _axis(lo: float, hi: float, t0: float, unit: str, x, y: float) -> str:
    parts = [f'<line x1="{LEFT}" y1="{y + 4}" x2="{WIDTH - RIGHT}" y2="{y + 4}" stroke="#9ca3af"/>']
    for v in _ticks(lo, hi, t0, unit):
        label = _duration(v - t0, hi - lo) if unit == "time" else f"{v:.0f}"
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{y + 4}" x2="{x(v):.1f}" y2="{y + 9}" stroke="#9ca3af"/>'
            f'<text x="{x(v):.1f}" y="{y + 21}" text-anchor="middle" fill="#6b7280">'
            f"{esc(label)}</text>"
        )
    name = "time since the first bar" if unit == "time" else "op index (the history has no times)"
    parts.append(f'<text x="{LEFT}" y="{y + 33}" fill="#6b7280">{esc(name)}</text>')
    return "".join(parts)


def _ticks(lo: float, hi: float, t0: float, unit: str) -> list[float]:
    """Round steps (1, 2 or 5 times a power of ten) from t0; whole ones on an index axis."""
    raw = (hi - lo) / 5 or 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if unit == "index":
        step = max(1.0, float(math.ceil(step)))
    first = t0 + math.ceil((lo - t0) / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _duration(ns: float, span: float) -> str:
    """A time offset in the unit that suits the axis' span."""
    for unit, size in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if span >= size:
            return f"{ns / size:.4g} {unit}"
    return f"{ns:.4g} ns"


def _legend() -> str:
    parts = []
    x = LEFT
    for kind, fill in BAR_FILL.items():
        dash = ' stroke-dasharray="4 3"' if kind == "info" else ""
        parts.append(
            f'<rect x="{x}" y="10" width="18" height="12" rx="2" fill="{fill}" '
            f'fill-opacity="{0.45 if kind == "info" else 0.9}" stroke="#1f2937"{dash}/>'
            f'<text x="{x + 24}" y="20" fill="#374151">{kind}</text>'
        )
        x += 70
    return "".join(parts)
