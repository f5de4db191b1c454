"""The complete search, per model: candidate completion first, regions searched
only where it fails, every valid answer verified on the whole graph.

Cost: the candidate is sorts and one strongly-connected-components pass over
the model's graph (linear after sorting); only regions where it fails are
searched, exponential in the worst case and bounded by a work budget of
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
from mvcc_check.analysis.complete.witness import candidate, commit_rank, consequences
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


def decide(
    tc: TxnColumns,
    inf: Inference,
    requested: tuple[str, ...],
    found: set[str],
    edges_for: EdgesFor,
    n_edges: int,
) -> Outcome:
    """For each family model the requested ones imply and `found` does not already
    rule out: whether some completion avoids every cycle it forbids."""
    ow: OpenWrites = getattr(inf, "open_writes", None) or NONE
    out = Outcome()
    stats = out.stats
    stats.update({"open-writes": len(ow.key), "models-searched": [], "regions": 0})
    stats.update({"regions-over-budget": 0, "witnessed": []})
    units = None if tc.n <= ALWAYS_DECIDED else BUDGET_FLOOR + BUDGET_PER_ITEM * (tc.n + n_edges)
    budget = Budget(units)
    ruled = models.anomalies_to_impossible_models(found)
    settled: set[str] = set()
    order = cons = None
    readers: Readers | None = None
    for mg in to_decide(requested):
        if mg.model in ruled or mg.model in settled:
            continue
        if order is None:
            order = candidate(ow, commit_rank(tc))
            cons = consequences(ow, order)
        assert cons is not None
        stats["models-searched"].append(mg.name)
        src, dst, rel = edges_for(mg.mask)
        base = encode(mg, tc.n, src, dst, rel)
        if _verified(mg, tc.n, base, cons):
            stats["witnessed"].append(mg.name)
            settled |= models.implied_models([mg.model])
            continue
        if readers is None:
            readers = Readers(ow)
        verdict = _search(mg, tc, inf, base, ow, order, readers, budget, out)
        if verdict is True:
            stats["witnessed"].append(mg.name)
            settled |= models.implied_models([mg.model])
        elif verdict is False:
            ruled |= models.impossible_models([mg.model])
            ruled |= models.anomalies_to_impossible_models(out.anomalies)
    return out


def _verified(mg: ModelGraph, n: int, base: Encoded, cons: tuple) -> bool:
    """Is the model's graph of the fixed edges and a completion's acyclic?"""
    extra = encode(mg, n, *cons)
    src = np.concatenate([base.src, extra.src[n if mg.si else 0 :]])
    dst = np.concatenate([base.dst, extra.dst[n if mg.si else 0 :]])
    return not len(cyclic_nodes(base.size, src, dst))


def _search(
    mg: ModelGraph,
    tc: TxnColumns,
    inf: Inference,
    base: Encoded,
    ow: OpenWrites,
    order: np.ndarray,
    readers: Readers,
    budget: Budget,
    out: Outcome,
) -> bool | None:
    """Search the regions where the candidate fails: False with a finding when one
    fails in every case, True when all have a witness (verified), else None."""
    cand = consequences(ow, order)
    extra = encode(mg, tc.n, *cand)
    lo = tc.n if mg.si else 0
    src = np.concatenate([base.src, extra.src[lo:]])
    dst = np.concatenate([base.dst, extra.dst[lo:]])
    failing = cyclic_nodes(base.size, src, dst)
    mine = order.copy()
    undecided = []
    for region in regions(base.size, base.src, base.dst, ow, mg.si, failing):
        out.stats["regions"] += 1
        try:
            problem = build(
                mg, base, region, ow, readers, None if budget.left is None else MAX_PAIRS
            )
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
            return False
        for lo_, hi_, entries in span_orders(problem, result.orientation, region, ow):
            mine[lo_:hi_] = entries
    if undecided:
        out.over_budget.append({"model": mg.name, "regions": undecided})
        return None
    if _verified(mg, tc.n, base, consequences(ow, mine)):
        return True
    out.over_budget.append({"model": mg.name, "regions": [], "why": "witness not verified"})
    return None
