"""Small SVG drawing helpers, and the project's own picture of a cycle (used
when Graphviz `dot` is not installed): the transactions on a circle, one
curved, labelled arrow per dependency."""

from __future__ import annotations

import math
from html import escape

import networkx as nx

from mvcc_check.report.cycle_graph import RELATION_COLOURS, colour

CHAR_W = 6.6  # average width of a 11px sans-serif character, for box sizes
LINE_H = 14


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def text_width(text: str, char_w: float = CHAR_W) -> float:
    return len(text) * char_w


def arrow_markers(prefix: str) -> str:
    """One arrowhead marker per relation colour, ids `<prefix>-<relation>`."""
    marks = []
    for rel, c in {**RELATION_COLOURS, "other": "#555555"}.items():
        marks.append(
            f'<marker id="{prefix}-{rel}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
        )
    return "<defs>" + "".join(marks) + "</defs>"


def marker_id(prefix: str, rel: str) -> str:
    return f"{prefix}-{rel if rel in RELATION_COLOURS else 'other'}"


def svg_open(width: float, height: float, label: str, cls: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{esc(label)}" font-family="Helvetica, Arial, sans-serif" font-size="11">'
    )


def _box(g: nx.MultiDiGraph, name: str) -> tuple[float, float, list[str]]:
    data = g.nodes[name]
    lines = [f"{name}  {data['header']}", *data["lines"]]
    w = max(text_width(line) for line in lines) + 16
    return w, LINE_H * len(lines) + 10, lines


def cycle_svg(g: nx.MultiDiGraph, prefix: str, title: str = "") -> str:
    """The cycle drawn by the project: boxes on a circle, curved arrows between them."""
    names = list(g.nodes)
    boxes = {n: _box(g, n) for n in names}
    n = len(names)
    # neighbours on the circle stand a box and an arrow with its label apart
    widest = max(w for w, _, _ in boxes.values())
    radius = 0.0 if n == 1 else max(90.0, (widest + 150) / (2 * math.sin(math.pi / n)))
    pos = {}
    for i, name in enumerate(names):
        angle = math.pi + 2 * math.pi * i / max(n, 1)  # T1 on the left, then clockwise
        pos[name] = (radius * math.cos(angle), -radius * math.sin(angle))
    # the picture's box: the boxes, and room for the arrows that bow out between them
    room = 60.0
    left = min(x - boxes[m][0] / 2 for m, (x, _) in pos.items()) - 20
    right = max(x + boxes[m][0] / 2 for m, (x, _) in pos.items()) + 20
    top = min(y - boxes[m][1] / 2 for m, (_, y) in pos.items()) - room
    bottom = max(y + boxes[m][1] / 2 for m, (_, y) in pos.items()) + room
    pos = {m: (x - left, y - top) for m, (x, y) in pos.items()}
    width, height = right - left, bottom - top
    parts = [svg_open(width, height, title or "cycle", "cycle"), arrow_markers(prefix)]
    pairs: dict[frozenset, int] = {}
    for a, b, data in g.edges(data=True):
        k = pairs.get(frozenset((a, b)), 0)
        pairs[frozenset((a, b))] = k + 1
        parts.append(_edge(pos, boxes, a, b, data, k, prefix))
    for name in names:
        x, y = pos[name]
        w, h, lines = boxes[name]
        parts.append(
            f'<g class="txn"><rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" rx="6" fill="#f4f6f8" stroke="#6b7280"/>'
        )
        for j, line in enumerate(lines):
            weight = ' font-weight="bold"' if j == 0 else ""
            parts.append(
                f'<text x="{x - w / 2 + 8:.1f}" y="{y - h / 2 + 17 + j * LINE_H:.1f}"{weight}>'
                f"{esc(line)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _edge(pos, boxes, a, b, data, k, prefix) -> str:
    """A curved arrow from box a to box b; the k-th one between a pair bends further."""
    (x1, y1), (x2, y2) = pos[a], pos[b]
    c = colour(data["rel"])
    dash = ' stroke-dasharray="6 4"' if data["rel"] == "rw" else ""
    if a == b:  # a self-loop: a small arc above the box
        w, h, _ = boxes[a]
        top = y1 - h / 2
        d = f"M{x1 - 12:.1f},{top:.1f} C{x1 - 40:.1f},{top - 50:.1f} {x1 + 40:.1f},{top - 50:.1f} {x1 + 12:.1f},{top:.1f}"
        lx, ly = x1, top - 42
    else:
        dx, dy = x2 - x1, y2 - y1
        dist = math.hypot(dx, dy) or 1.0
        nx_, ny_ = -dy / dist, dx / dist  # the left normal: the two ways of a pair part
        bend = 40.0 + 30.0 * k
        mx, my = (x1 + x2) / 2 + nx_ * bend, (y1 + y2) / 2 + ny_ * bend
        sx, sy = _border(pos[a], boxes[a], mx, my)
        ex, ey = _border(pos[b], boxes[b], mx, my)
        d = f"M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {ex:.1f},{ey:.1f}"
        lx, ly = (sx + 2 * mx + ex) / 4, (sy + 2 * my + ey) / 4
    label = esc(data["label"])
    return (
        f'<g class="dep {esc(data["rel"])}"><path d="{d}" fill="none" stroke="{c}" '
        f'stroke-width="1.6"{dash} marker-end="url(#{marker_id(prefix, data["rel"])})"/>'
        f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" fill="{c}" stroke="white" '
        f'stroke-width="3" paint-order="stroke">{label}</text></g>'
    )


def _border(centre, box, tx, ty) -> tuple[float, float]:
    """Where the line from the box's centre towards (tx, ty) leaves the box."""
    x, y = centre
    w, h, _ = box
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return x, y
    scale = min(
        (w / 2 + 3) / abs(dx) if dx else math.inf,
        (h / 2 + 3) / abs(dy) if dy else math.inf,
    )
    return x + dx * scale, y + dy * scale
