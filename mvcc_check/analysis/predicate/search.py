"""Cycles of a closed-predicate history: item types and predicate types told apart.

The same cycle search as the other workloads, over three graphs that share the
ww and wr edges (wrp counts as wr) and the process or realtime edges:

1. the item graph, with the item anti-dependencies (rw): G0, G1c, G-single-item,
   G-nonadjacent-item, G2-item, each decided exactly as for the item workloads;
2. the predicate graph, whose only anti-dependencies are the pairs an item read
   cannot explain, predicate ones (rwp): every cycle there with an anti-dependency
   is Adya's predicate type, G-single, G-nonadjacent or G2 (Elle's names), so the
   cycles whose anti-dependencies are all predicate ones are decided exactly
   (G-single above all: its one anti-dependency is a predicate one);
3. the whole graph (rw and rwp): a cycle there that mixes item and predicate
   anti-dependencies, explained with a predicate one, is named so too.

Elle's model-level tests (*-cycle-exists) run on the whole graph, Adya's DSG.
A mixed cycle is reported where the shortest cycle of its shape in its component
takes a predicate anti-dependency; where an item cycle of the same shape is
shorter, only the item type may be named for that component. The item type
implies the predicate one (G2-item implies G2), so the verdict and `not` are
the same either way. One cycle per type and component of the whole graph is kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from mvcc_check.analysis.anomalies import PREDICATE_TYPES
from mvcc_check.analysis.graph import PROCESS, REALTIME, RW, DependencyGraph, EdgeBuilder
from mvcc_check.analysis.order import process_edges_columns, realtime_edges_columns
from mvcc_check.analysis.predicate.infer import PredicateInference
from mvcc_check.analysis.search.find import find_cycles
from mvcc_check.analysis.search.model_cycles import cycle_exists
from mvcc_check.history.pairing import TxnColumns

_PREDICATE_NAMES = PREDICATE_TYPES  # G-single-item: G-single, ... (the anomaly table)


def predicate_name(name: str) -> str | None:
    """The predicate type of an item cycle type's shape (G2-item-realtime -> G2-realtime)."""
    for item, pred in _PREDICATE_NAMES.items():
        if name == item or name.startswith(item + "-"):
            return pred + name[len(item) :]
    return None


def _joined(n: int, *parts: EdgeBuilder) -> DependencyGraph:
    b = EdgeBuilder()
    for p in parts:
        b.extend(p)
    return b.build(n)


def _predicate_only(inf: PredicateInference) -> EdgeBuilder:
    """The rwp edges of pairs no item read explains as rw."""
    out = EdgeBuilder()
    for a, b, typ in inf.reasons:
        if typ == "rwp" and (a, b, "rw") not in inf.reasons:
            out.add(a, b, RW)
    return out


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
    n = tc.n
    whole = _joined(n, inf.edges, inf.item_rw, inf.predicate_rw, order)
    if whole.edge_count == 0:
        found["empty-transaction-graph"] = True
    a = find_cycles(_joined(n, inf.edges, inf.item_rw, order), tc, inf, extra, frozenset(found))
    for name, items in a.cycles.items():
        found.setdefault(name, []).extend(items)
    with_pred = replace(inf, explainer=inf.explainer.with_predicates())  # type: ignore[attr-defined]
    pred_graph = _joined(n, inf.edges, _predicate_only(inf), order)
    c = find_cycles(pred_graph, tc, with_pred, extra, frozenset(found))
    b = find_cycles(whole, tc, with_pred, extra, frozenset(found))
    _add_predicate_cycles(found, [c.cycles, b.cycles], whole, tc)
    for name, record in cycle_exists(b.cyclic_models, found, extra).items():
        found[name] = [record]
    return whole.edge_count, b.components


def _add_predicate_cycles(
    found: dict[str, Any], sources: list[dict[str, list]], whole: DependencyGraph, tc: TxnColumns
) -> None:
    """Cycles explained with a predicate anti-dependency, renamed to their predicate type;
    the shortest per type and component of the whole graph."""
    comp = np.full(whole.n, -1, np.int64)
    for i, nodes in enumerate(whole.sccs()):
        comp[nodes] = i
    index_to_txn = {int(tc.cols.index_of(tc.op_row(t))): t for t in range(tc.n)}
    best: dict[tuple[str, int], dict] = {}
    for cycles in sources:
        for name, items in sorted(cycles.items()):
            pred = predicate_name(name)
            if pred is None:
                continue
            for record in items:
                if not any(step.get("type") == "rwp" for step in record["steps"]):
                    continue
                first = index_to_txn[int(record["cycle"][0]["index"])]
                key = (pred, int(comp[first]))
                if key not in best or len(record["steps"]) < len(best[key]["steps"]):
                    record["type"] = pred
                    best[key] = record
    for (pred, _), record in sorted(best.items(), key=lambda kv: kv[0]):
        found.setdefault(pred, []).append(record)
