"""One region as a search problem: local nodes, its fixed edges, its open pairs."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from mvcc_check.analysis.complete.choices import OpenWrites
from mvcc_check.analysis.complete.modelgraph import Encoded, ModelGraph, node_of
from mvcc_check.analysis.complete.regions import Region
from mvcc_check.analysis.complete.search import Edge, OverBudget, Pair, Problem
from mvcc_check.analysis.graph import RW, WW


class Readers:
    """The readers of each write entry (a CSR index over OpenWrites' reader entries)."""

    def __init__(self, ow: OpenWrites) -> None:
        o = np.argsort(ow.reader_of, kind="stable")
        self.txn = ow.reader[o]
        self.off = np.zeros(len(ow.key) + 1, np.int64)
        np.cumsum(np.bincount(ow.reader_of, minlength=len(ow.key)), out=self.off[1:])

    def of(self, entry: int) -> list[int]:
        return self.txn[self.off[entry] : self.off[entry + 1]].tolist()


def n_pairs(region: Region) -> int:
    sizes = region.spans[:, 1] - region.spans[:, 0]
    return int((sizes * (sizes - 1) // 2).sum())


def build(
    mg: ModelGraph,
    enc: Encoded,
    region: Region,
    ow: OpenWrites,
    readers: Readers,
    max_pairs: int | None,
    place: np.ndarray,
) -> Problem:
    """The region's problem (OverBudget when it has more than max_pairs open pairs);
    each pair's first way is the order `place` (per entry) gives, tried first."""
    if max_pairs is not None and n_pairs(region) > max_pairs:
        raise OverBudget
    nodes = region.nodes
    local = {int(x): i for i, x in enumerate(nodes.tolist())}
    inside = np.zeros(enc.size, bool)
    inside[nodes] = True
    keep = np.flatnonzero(inside[enc.src] & inside[enc.dst])
    fixed: list[Edge] = [
        (local[u], local[v], (a, b, r, -1, -1))
        for u, v, a, b, r in zip(
            enc.src[keep].tolist(),
            enc.dst[keep].tolist(),
            enc.a[keep].tolist(),
            enc.b[keep].tolist(),
            enc.rel[keep].tolist(),
            strict=True,
        )
    ]

    def way(e1: int, e2: int) -> list[Edge]:
        """The edges of entry e1's write coming before e2's."""
        t1, t2, key = int(ow.txn[e1]), int(ow.txn[e2]), int(ow.key[e1])
        out: list[Edge] = []
        u, v = local.get(int(node_of(mg, t1, True))), local.get(int(node_of(mg, t2, False)))
        if u is not None and v is not None:
            out.append((u, v, (t1, t2, WW, key, -1)))
        c2 = local.get(int(node_of(mg, t2, True)))
        for r in readers.of(e1):
            u = local.get(int(node_of(mg, r, False)))
            if r != t2 and u is not None and c2 is not None:
                out.append((u, c2, (r, t2, RW, key, t1)))
        return out

    pairs = []
    for lo, hi in region.spans.tolist():
        for e1, e2 in combinations(sorted(range(lo, hi), key=lambda e: place[e]), 2):
            pairs.append(
                Pair(
                    int(ow.key[e1]), (int(ow.txn[e1]), int(ow.txn[e2])), (way(e1, e2), way(e2, e1))
                )
            )
    return Problem(len(nodes), fixed, pairs)


def span_orders(
    problem: Problem, orientation: dict[int, int], region: Region, ow: OpenWrites
) -> list[tuple[int, int, np.ndarray]]:
    """(lo, hi, entries in order) of each open key of the region, by the witness's
    orientation of its pairs (an entry's place: how many of its key's writes precede it)."""
    later: dict[tuple[int, int], int] = {}
    for i, p in enumerate(problem.pairs):
        t = p.txns[1] if orientation.get(i, 0) == 0 else p.txns[0]
        later[(p.key, t)] = later.get((p.key, t), 0) + 1
    out = []
    for lo, hi in region.spans.tolist():
        ranked = sorted(range(lo, hi), key=lambda e: later.get((int(ow.key[e]), int(ow.txn[e])), 0))
        out.append((lo, hi, np.array(ranked, np.int64)))
    return out
