"""The consistency-model hierarchy of analysis/models.py, drawn as SVG with a
verdict's models marked: ruled out, the `not` boundary (the weakest ruled out),
may still hold, and the models the user asked for.

The layout is the project's own (layers by longest path from the strongest
model, orders by barycentre), so the picture is the same with or without
Graphviz.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import networkx as nx

from mvcc_check.analysis.models import MODEL_IMPLIES, canonical, friendly
from mvcc_check.report.svgdraw import esc, svg_open, text_width

NODE_H = 24
LAYER_GAP = 46
NODE_GAP = 14
MARGIN = 16
CHAR_W = 6.4

STYLE = {  # status -> (fill, stroke, text colour)
    "boundary": ("#f9d4d1", "#b3261e", "#7f1d1d"),
    "ruled-out": ("#fdeceb", "#e08b85", "#7f1d1d"),
    "may-hold": ("#e7f4ea", "#5a9e6c", "#14532d"),
}


@cache
def model_graph() -> nx.DiGraph:
    """Canonical models, an edge from each model to each weaker one it implies."""
    g = nx.DiGraph()
    for a, b, source in MODEL_IMPLIES:
        g.add_edge(canonical(a), canonical(b), source=source)
    return g


@cache
def _layout() -> tuple[dict[str, tuple[float, float, float]], float, float]:
    """{model: (x, y, width)} and the picture's size."""
    g = model_graph()
    layer: dict[str, int] = {}
    for n in nx.topological_sort(g):
        layer[n] = max((layer[p] + 1 for p in g.predecessors(n)), default=0)
    layers: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for n in sorted(g, key=friendly):
        layers[layer[n]].append(n)
    for _ in range(4):  # barycentre sweeps: down (by parents), then up (by children)
        for row in layers[1:]:
            _sort_by(row, g.predecessors, layers)
        for row in reversed(layers[:-1]):
            _sort_by(row, g.successors, layers)
    widths = {n: len(friendly(n)) * CHAR_W + 18 for n in g}
    row_w = [sum(widths[n] for n in row) + NODE_GAP * (len(row) - 1) for row in layers]
    total_w = max(row_w) + 2 * MARGIN
    pos = {}
    for i, row in enumerate(layers):
        x = (total_w - row_w[i]) / 2
        for n in row:
            pos[n] = (x, MARGIN + 40 + i * LAYER_GAP, widths[n])
            x += widths[n] + NODE_GAP
    return pos, total_w, MARGIN + 40 + len(layers) * LAYER_GAP


def _sort_by(row: list[str], neighbours, layers: list[list[str]]) -> None:
    where = {n: i for r in layers for i, n in enumerate(r)}

    def centre(n: str) -> float:
        xs = [where[m] for m in neighbours(n)]
        return sum(xs) / len(xs) if xs else where[n]

    row.sort(key=centre)


def statuses(not_: Iterable[str], also_not: Iterable[str]) -> dict[str, str]:
    """Each canonical model's status for a verdict's `not` and `also-not`."""
    boundary = {canonical(m) for m in not_}
    ruled = boundary | {canonical(m) for m in also_not}
    return {
        n: "boundary" if n in boundary else "ruled-out" if n in ruled else "may-hold"
        for n in model_graph()
    }


def hierarchy_svg(not_: Iterable[str], also_not: Iterable[str], requested: Iterable[str]) -> str:
    """The hierarchy with a verdict's boundary marked; requested models ringed in blue."""
    g = model_graph()
    status = statuses(not_, also_not)
    asked = {canonical(m) for m in requested}
    pos, width, height = _layout()
    parts = [svg_open(width, height, "consistency models", "hierarchy"), _legend()]
    for a, b in g.edges:
        ax, ay, aw = pos[a]
        bx, by, bw = pos[b]
        x1, y1, x2, y2 = ax + aw / 2, ay + NODE_H, bx + bw / 2, by
        mid = (y1 + y2) / 2
        hot = status[a] != "may-hold" and status[b] != "may-hold"
        parts.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}" '
            f'fill="none" stroke="{"#e3a8a3" if hot else "#b8bec7"}" stroke-width="1.2">'
            f"<title>{esc(friendly(a))} implies {esc(friendly(b))} "
            f"({esc(g.edges[a, b]['source'])})</title></path>"
        )
    for n, (x, y, w) in pos.items():
        fill, stroke, ink = STYLE[status[n]]
        bold = status[n] == "boundary"
        weight = ' font-weight="bold"' if bold else ""
        if n in asked:
            parts.append(
                f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="{w + 8:.1f}" height="{NODE_H + 8}" '
                'rx="8" fill="none" stroke="#1d4ed8" stroke-width="2.2"/>'
            )
        parts.append(
            f'<g class="model {status[n]}"><title>{esc(friendly(n))}: {status[n]}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{NODE_H}" rx="5" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2.6 if bold else 1}"/>'
            f'<text x="{x + w / 2:.1f}" y="{y + 16:.1f}" text-anchor="middle" fill="{ink}"'
            f"{weight}>"
            f"{esc(friendly(n))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    items = [
        ("boundary", "not: the weakest models ruled out"),
        ("ruled-out", "also ruled out (stronger)"),
        ("may-hold", "not ruled out by what was found"),
    ]
    parts = []
    x = MARGIN
    for status, label in items:
        fill, stroke, _ = STYLE[status]
        parts.append(
            f'<rect x="{x:.1f}" y="{MARGIN}" width="22" height="14" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2.6 if status == "boundary" else 1}"/>'
            f'<text x="{x + 28:.1f}" y="{MARGIN + 11}" fill="#374151">{esc(label)}</text>'
        )
        x += 40 + text_width(label)
    parts.append(
        f'<rect x="{x:.1f}" y="{MARGIN - 2}" width="26" height="18" rx="5" fill="none" '
        f'stroke="#1d4ed8" stroke-width="2.2"/><text x="{x + 32:.1f}" y="{MARGIN + 11}" '
        'fill="#374151">requested model</text>'
    )
    parts.append(
        f'<text x="{MARGIN}" y="{MARGIN + 34}" fill="#6b7280">stronger above; a line joins a '
        "model to a weaker one it implies</text>"
    )
    return "".join(parts)
