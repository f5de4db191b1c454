"""Cycles of a closed-predicate history: item types and predicate types told apart.

Two searches with the same cycle search as the other workloads:

1. over the item graph (ww, wr and wrp, item rw): G0, G1c, G-single-item,
   G-nonadjacent-item, G2-item, each decided exactly as for the item workloads;
2. over the whole graph, where predicate anti-dependencies (rwp) are rw too: a
   cycle found there whose explanation takes a predicate anti-dependency is
   Adya's predicate type, G-single, G-nonadjacent or G2 (Elle names them so);
   one explained by item edges alone is already the first search's.

Elle's model-level tests (*-cycle-exists) run on the whole graph, Adya's DSG.
A predicate type is reported where the shortest cycle of its shape in a
component takes a predicate anti-dependency; where an item cycle of the same
shape is shorter, only the item type is named. The item type implies the
predicate one (G2-item implies G2), so the verdict and `not` are the same.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mvcc_check.analysis.graph import PROCESS, REALTIME, EdgeBuilder
from mvcc_check.analysis.order import process_edges_columns, realtime_edges_columns
from mvcc_check.analysis.predicate.infer import PredicateInference
from mvcc_check.analysis.search.find import find_cycles
from mvcc_check.analysis.search.model_cycles import cycle_exists
from mvcc_check.history.pairing import TxnColumns

_PREDICATE_NAMES = {
    "G-single-item": "G-single",
    "G-nonadjacent-item": "G-nonadjacent",
    "G2-item": "G2",
}


def predicate_name(name: str) -> str | None:
    """The predicate type of an item cycle type's shape (G2-item-realtime -> G2-realtime)."""
    for item, pred in _PREDICATE_NAMES.items():
        if name == item or name.startswith(item + "-"):
            return pred + name[len(item) :]
    return None


def search(
    tc: TxnColumns, inf: PredicateInference, extra: int, found: dict[str, Any]
) -> tuple[int, int]:
    """Add the cycles (and model-level findings) to `found`; return (edges, components)
    of the whole graph."""
    order = EdgeBuilder()
    if extra == REALTIME:
        realtime_edges_columns(tc, order)
    elif extra == PROCESS:
        process_edges_columns(tc, order)
    item = EdgeBuilder()
    item.extend(inf.edges)
    item.extend(order)
    whole = EdgeBuilder()
    whole.extend(item)
    whole.extend(inf.predicate_rw)
    item_graph, graph = item.build(tc.n), whole.build(tc.n)
    if graph.edge_count == 0:
        found["empty-transaction-graph"] = True
    a = find_cycles(item_graph, tc, inf, extra, frozenset(found))
    for name, items in a.cycles.items():
        found.setdefault(name, []).extend(items)
    explainer = inf.explainer.with_predicates()  # type: ignore[attr-defined]
    b = find_cycles(graph, tc, replace(inf, explainer=explainer), extra, frozenset(found))
    for name, items in b.cycles.items():
        pred = predicate_name(name)
        if pred is None:
            continue
        for record in items:
            if any(step.get("type") == "rwp" for step in record["steps"]):
                record["type"] = pred
                found.setdefault(pred, []).append(record)
    for name, record in cycle_exists(b.cyclic_models, found, extra).items():
        found[name] = [record]
    return graph.edge_count, b.components
