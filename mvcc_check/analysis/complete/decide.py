"""The complete search, per model: candidate completion first, regions searched
only where it fails, every valid answer verified on the whole graph.

Cost: the candidate is sorts and gathers over the edges, and a strongly-
connected-components pass only over the part of the graph where a cycle can be
(verify.py; none at all on the benchmark's serializable runs); only regions
where it fails are searched, exponential in the worst case and bounded by a work budget of
`BUDGET_PER_ITEM` units per transaction and edge (unbounded up to
`ALWAYS_DECIDED` transactions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mvcc_check.analysis import models
from mvcc_check.analysis.complete.cases import finding
from mvcc_check.analysis.complete.choices import NONE, OpenWrites
from mvcc_check.analysis.complete.modelgraph import (
    Encoded,
    ModelGraph,
    cyclic_nodes,
    encode,
    to_decide,
)
from mvcc_check.analysis.complete.problem import Readers, build, n_pairs, span_orders
from mvcc_check.analysis.complete.regions import regions
from mvcc_check.analysis.complete.search import Budget, OverBudget, Search, Witness
from mvcc_check.analysis.complete.verify import cycle_nodes
from mvcc_check.analysis.complete.witness import (
    candidate,
    commit_rank,
    consequences,
    info_placed,
)
from mvcc_check.analysis.inference import Inference
from mvcc_check.history.pairing import TxnColumns

ALWAYS_DECIDED = 50  # transactions: never over budget up to here
BUDGET_PER_ITEM = 20
BUDGET_FLOOR = 2_000_000
MAX_PAIRS = 50_000  # open pairs in one region beyond which it is over budget at once

Edges = tuple[np.ndarray, np.ndarray, np.ndarray]
EdgesFor = Callable[[int], Edges]
"""The history's typed edges a model's mask needs (the dependency graph's, with
process or realtime edges computed where the graph has none)."""


@dataclass
class Outcome:
    anomalies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    over_budget: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    deferred: list[str] = field(
        default_factory=list
    )  # fixed edges alone cyclic: the cycle search's


def decide(
    tc: TxnColumns,
    inf: Inference,
    requested: tuple[str, ...],
    found: set[str],
    edges_for: EdgesFor,
    n_edges: int,
    whole: tuple[int, np.ndarray | None] = (0, None),
) -> Outcome:
    """For each requested family model that `found` does not already rule out:
    whether some completion avoids every cycle it forbids. Models whose fixed edges
    alone hold a forbidden cycle are left to the cycle search (`deferred`).

    `whole`: the relations of the dependency graph, and which transactions lie in
    its strongly connected components that hold a cycle (None: there are none);
    every model's fixed cycles lie inside them (process order is realtime order)."""
    lazy = getattr(inf, "open_writes", None)
    ow: OpenWrites = NONE
    out = Outcome()
    stats = out.stats
    size = 0 if lazy is None else lazy.size
    stats.update({"open-writes": size, "models-searched": [], "regions": 0})
    stats.update({"regions-over-budget": 0, "witnessed": []})
    units = None if tc.n <= ALWAYS_DECIDED else BUDGET_FLOOR + BUDGET_PER_ITEM * (tc.n + n_edges)
    budget = Budget(units)
    ruled = models.anomalies_to_impossible_models(found)
    settled: set[str] = set()
    order = cons = rank = None
    readers: Readers | None = None
    for mg in to_decide(requested):
        if mg.model in ruled or mg.model in settled:
            continue
        stats["models-searched"].append(mg.name)
        if _whole_graph_cyclic(mg, whole):  # (before its edges are cut out: 50 ms at 1M)
            out.deferred.append(mg.name)
            continue
        fixed = edges_for(mg.mask)
        if _fixed_cycle(mg, tc.n, fixed, whole):
            out.deferred.append(mg.name)  # a cycle without any open choice: the cycle search's
            continue
        if order is None:
            ow = NONE if lazy is None else lazy.get()
            rank = commit_rank(tc)
            order = candidate(ow, info_placed(tc, rank, fixed))
            cons = consequences(ow, order)
        failing = cycle_nodes(mg, tc.n, rank, [fixed, cons])
        verdict: bool | None = True
        if len(failing):
            readers = readers or Readers(ow)
            base = encode(mg, tc.n, *fixed)
            verdict, mine = _search(mg, tc, inf, base, failing, ow, order, readers, budget, out)
            if verdict and len(cycle_nodes(mg, tc.n, rank, [fixed, consequences(ow, mine)])):
                out.over_budget.append({"model": mg.name, "regions": [], "why": "unverified"})
                verdict = None  # (a bug if ever: never a "valid" without its witness)
        if verdict is True:
            stats["witnessed"].append(mg.name)
            settled |= models.implied_models([mg.model])
        elif verdict is False:
            ruled |= models.impossible_models([mg.model])
            ruled |= models.anomalies_to_impossible_models(out.anomalies)
    return out


def _whole_graph_cyclic(mg: ModelGraph, whole: tuple[int, np.ndarray | None]) -> bool:
    """Is the model's graph the whole dependency graph, and does that hold a cycle?"""
    relations, in_cycle = whole
    return in_cycle is not None and not mg.si and not relations & ~mg.mask


def _fixed_cycle(
    mg: ModelGraph, n: int, fixed: Edges, whole: tuple[int, np.ndarray | None]
) -> bool:
    """Do the fixed edges alone hold a cycle the model forbids? Decided inside the
    dependency graph's cyclic components only (the cycle search computes them too)."""
    relations, in_cycle = whole
    if in_cycle is None:
        return False
    if _whole_graph_cyclic(mg, whole):
        return True
    src, dst, rel = fixed
    keep = in_cycle[src] & in_cycle[dst]
    enc = encode(mg, n, src[keep], dst[keep], rel[keep], txns=np.flatnonzero(in_cycle))
    return bool(len(cyclic_nodes(enc.size, enc.src, enc.dst)))


def _search(
    mg: ModelGraph,
    tc: TxnColumns,
    inf: Inference,
    base: Encoded,
    failing: np.ndarray,
    ow: OpenWrites,
    order: np.ndarray,
    readers: Readers,
    budget: Budget,
    out: Outcome,
) -> tuple[bool | None, np.ndarray]:
    """Search the regions where the candidate fails: False with a finding when one
    fails in every case, True when all have a witness (and the order with theirs),
    else None (over budget)."""
    mine = order.copy()
    place = np.empty(len(order), np.int64)
    place[order] = np.arange(len(order))
    undecided = []
    for region in regions(base.size, base.src, base.dst, ow, mg.si, failing):
        out.stats["regions"] += 1
        try:
            cap = None if budget.left is None else MAX_PAIRS
            problem = build(mg, base, region, ow, readers, cap, place)
            result = Search(problem, budget).run()
        except OverBudget:
            out.stats["regions-over-budget"] += 1
            undecided.append(
                {"txns": len(region.nodes) // (2 if mg.si else 1), "open-pairs": n_pairs(region)}
            )
            continue
        if not isinstance(result, Witness):
            name, record = finding(result, mg, tc, inf, problem)
            out.anomalies.setdefault(name, []).append(record)
            return False, mine
        for lo_, hi_, entries in span_orders(problem, result.orientation, region, ow):
            mine[lo_:hi_] = entries
    if undecided:
        out.over_budget.append({"model": mg.name, "regions": undecided})
        return None, mine
    return True, mine
