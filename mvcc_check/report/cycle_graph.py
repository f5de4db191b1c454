"""A cycle's explanation record as a networkx graph, and that graph as Graphviz DOT.

The record is the JSON form the checker gives (`cycle`: the ops, the first
repeated at the end; `steps`: one typed dependency per hop). Nodes are the
transactions T1, T2, ... in the order the cycle meets them; each edge is one
step, labelled by its relation with key and values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mvcc_check.report.text import _val as value_text

if TYPE_CHECKING:  # networkx is imported where a graph is made: `check -o json` needs none
    import networkx as nx

# One colour per relation, shared by the cycle pictures, the timelines and the legend.
RELATION_COLOURS = {
    "ww": "#1f6fb4",
    "wr": "#2a8a3e",
    "rw": "#c8352b",
    "process": "#7b4fb0",
    "realtime": "#d07a12",
}
OTHER_COLOUR = "#555555"
MAX_MOPS_SHOWN = 8
MAX_VALUE_CHARS = 40


def short(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mop_text(mop: list[Any]) -> str:
    return f"{mop[0]} {short(value_text(mop[1]))} {short(value_text(mop[2]))}"


def op_header(op: dict[str, Any]) -> str:
    return f"op {op.get('index')} · p{op.get('process')} · {op.get('type')}"


def op_lines(op: dict[str, Any]) -> list[str]:
    """The transaction's micro-ops, one a line, cut after MAX_MOPS_SHOWN."""
    mops = op.get("value") or []
    lines = [mop_text(m) for m in mops[:MAX_MOPS_SHOWN]]
    if len(mops) > MAX_MOPS_SHOWN:
        lines.append(f"… {len(mops) - MAX_MOPS_SHOWN} more")
    return lines


def edge_label(step: dict[str, Any]) -> str:
    """The relation with its key and values: `rw x: [1 2] → 3`, `realtime`, `process 4`."""
    t = step.get("type", "?")
    if t == "process":
        return f"process {step.get('process')}"
    if t == "realtime":
        return "realtime"
    key = short(value_text(step.get("key")), 24)
    v1 = short(value_text(step.get("value")), 24)
    if t == "wr":
        return f"wr {key}: {v1}"
    v2 = short(value_text(step.get("value'")), 24)
    return f"{t} {key}: {v1} → {v2}"


def colour(relation: str) -> str:
    return RELATION_COLOURS.get(relation, OTHER_COLOUR)


def cycle_graph(record: dict[str, Any]) -> nx.MultiDiGraph:
    """Transactions as nodes (attributes op, header, lines), steps as edges (rel, label, step)."""
    ops = record["cycle"][:-1] if len(record["cycle"]) > 1 else record["cycle"]
    import networkx as nx

    g = nx.MultiDiGraph(type=record.get("type", ""))
    names: dict[Any, str] = {}
    for op in ops:
        if op.get("index") not in names:
            name = f"T{len(names) + 1}"
            names[op.get("index")] = name
            g.add_node(name, op=op, header=op_header(op), lines=op_lines(op))
    for i, step in enumerate(record.get("steps") or []):
        a = names[ops[i % len(ops)].get("index")]
        b = names[ops[(i + 1) % len(ops)].get("index")]
        rel = step.get("type", "?")
        g.add_edge(a, b, key=i, rel=rel, label=edge_label(step), step=step)
    return g


def _q(text: str) -> str:
    """A DOT double-quoted string body (escapes, newlines as \\n)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(g: nx.MultiDiGraph, title: str = "") -> str:
    """DOT for the cycle graph: boxes listing each transaction's micro-ops, coloured edges."""
    out = [
        f'digraph "{_q(title or g.graph.get("type", "cycle"))}" {{',
        '  graph [rankdir=LR, fontname="Helvetica", bgcolor="white", pad="0.2", nodesep="0.5"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", color="#6b7280", '
        'fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10, penwidth=1.6];',
    ]
    for name, data in g.nodes(data=True):
        # \l ends a left-justified line in a Graphviz label
        body = "".join(_q(line) + "\\l" for line in data["lines"])
        out.append(f'  "{_q(name)}" [label="{_q(name)}  {_q(data["header"])}\\n{body}"];')
    for a, b, data in g.edges(data=True):
        c = colour(data["rel"])
        style = ', style="dashed"' if data["rel"] == "rw" else ""
        out.append(
            f'  "{_q(a)}" -> "{_q(b)}" [label="{_q(data["label"])}", color="{c}", '
            f'fontcolor="{c}"{style}];'
        )
    out.append("}")
    return "\n".join(out) + "\n"


def example_ops(item: Any) -> list[dict[str, Any]]:
    """The transactions a non-cycle anomaly record quotes (`op`, `writer`, `txns`)."""
    if not isinstance(item, dict):
        return []
    ops = [item.get("op"), item.get("writer"), *(item.get("txns") or [])]
    return [op for op in ops if isinstance(op, dict) and "index" in op]


def anomaly_graph(kind: str, item: Any) -> nx.MultiDiGraph | None:
    """A non-cycle anomaly's transactions as nodes (as in cycle_graph); for a read of
    an aborted or intermediate write (G1a, G1b) one wr edge from writer to reader."""
    ops = example_ops(item)
    if not ops:
        return None
    import networkx as nx

    g = nx.MultiDiGraph(type=kind)
    names: dict[Any, str] = {}
    for op in ops:
        if op["index"] not in names:
            names[op["index"]] = name = f"T{len(names) + 1}"
            g.add_node(name, op=op, header=op_header(op), lines=op_lines(op))
    writer, reader = item.get("writer"), item.get("op")
    if isinstance(writer, dict) and isinstance(reader, dict) and "element" in item:
        key = (item.get("mop") or [None, "?"])[1]
        label = f"wr {short(value_text(key), 24)}: {short(value_text(item['element']), 24)}"
        g.add_edge(names[writer["index"]], names[reader["index"]], rel="wr", label=label)
    return g
