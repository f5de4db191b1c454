"""Cycle plots on disk, in Elle's plot-directory layout:
`DIR/<history>/<anomaly-type>/<n>.dot` and `<n>.svg` (n from 0), the SVG
rendered by Graphviz `dot` in one process for all files. Without `dot` the DOT
files are still written, and the HTML shows the project's own drawing."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from mvcc_check.report.bundle import Report
from mvcc_check.report.cycle_graph import cycle_graph, to_dot
from mvcc_check.report.per_model import EXAMPLES_PER_TYPE, cycle_records
from mvcc_check.report.svgdraw import cycle_svg

DOT_TIMEOUT_S = 120


@dataclass
class CyclePicture:
    kind: str
    n: int
    record: dict[str, Any]
    graph: nx.MultiDiGraph
    dot_path: Path
    svg_path: Path | None = None
    svg: str = ""  # inline: Graphviz's drawing, else the project's
    drawn_by: str = "mvcc-check"


def slug(name: str, taken: set[str]) -> str:
    """A directory name for a history: its file name without the extension, made safe."""
    base = Path(name).name
    if "." in base and not base.startswith("."):
        base = base.rsplit(".", 1)[0]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "history"
    out, i = base, 2
    while out in taken:
        out, i = f"{base}-{i}", i + 1
    taken.add(out)
    return out


def plot_cycles(
    report: Report, directory: Path, cap: int = EXAMPLES_PER_TYPE
) -> tuple[dict[int, list[CyclePicture]], list[str], str | None]:
    """Write every history's first `cap` cycles per type; return the pictures by history
    position, each shown history's directory name, and a note when `dot` is missing."""
    pictures: dict[int, list[CyclePicture]] = {}
    dirs: list[str] = []
    taken: set[str] = {"index.html"}
    for i, h in enumerate(report.histories):
        d = slug(h.name, taken)
        dirs.append(d)
        if not h.in_html:
            continue
        pics = []
        for kind in h.doc.get("anomaly-types") or []:
            for n, rec in enumerate(cycle_records(h.doc, kind)[:cap]):
                g = cycle_graph(rec)
                path = directory / d / kind / f"{n}.dot"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(to_dot(g, f"{kind} {n}"), encoding="utf-8")
                pics.append(CyclePicture(kind, n, rec, g, path))
        pictures[i] = pics
    all_pics = [p for ps in pictures.values() for p in ps]
    note = render_svgs(all_pics) if all_pics else None
    for k, p in enumerate(all_pics):
        if not p.svg:
            p.svg = cycle_svg(p.graph, f"cy{k}", f"{p.kind} {p.n}")
    return pictures, dirs, note


def dot_program() -> str | None:
    return shutil.which("dot")


def render_svgs(pics: list[CyclePicture]) -> str | None:
    """Render each picture's DOT to SVG with one `dot` run; None, or a note saying why not."""
    dot = dot_program()
    if dot is None:
        return "Graphviz `dot` not found: wrote the .dot files only; the HTML shows mvcc-check's own drawings"
    try:
        run = subprocess.run(
            [dot, "-Tsvg", "-O", *(str(p.dot_path) for p in pics)],
            capture_output=True,
            timeout=DOT_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"Graphviz `dot` failed ({e}): the HTML shows mvcc-check's own drawings"
    for p in pics:
        made = p.dot_path.with_name(p.dot_path.name + ".svg")  # -O names it 0.dot.svg
        if made.exists():
            p.svg_path = p.dot_path.with_suffix(".svg")
            made.replace(p.svg_path)
            p.svg = inline_svg(p.svg_path.read_text(encoding="utf-8"))
            p.drawn_by = "Graphviz"
    if run.returncode != 0:
        first = run.stderr.decode(errors="replace").strip().splitlines()[:1]
        return f"Graphviz `dot` failed on some plots ({' '.join(first)}): those show mvcc-check's own drawings"
    return None


def inline_svg(text: str) -> str:
    """An SVG file's <svg> element, without the XML prolog, doctype and comments."""
    start = text.find("<svg")
    body = text[start:] if start >= 0 else text
    return re.sub(r"<!--.*?-->", "", body, flags=re.S).strip()
