"""Whether a model's graph of fixed and completion edges has a cycle, looked for
only where one can be.

Ranks transactions by commit (witness.commit_rank). An edge from a later to an
earlier rank is backward; a cycle needs a backward edge, and every node of a
cycle lies in the rank interval of one of its backward edges (follow the cycle
from the node: to come back, it must cross the node's rank downwards). So the
strongly connected components are computed only over the edges between such
nodes: in a history whose commit order explains it, few or none."""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis.complete.modelgraph import ModelGraph, cyclic_nodes, encode

Edges = tuple[np.ndarray, np.ndarray, np.ndarray]


def suspects(rank: np.ndarray, parts: list[Edges]) -> np.ndarray | None:
    """Per txn, whether it may lie on a cycle of the union of the edge parts (None:
    none may; no edge goes backward).

    The order used is the commit rank with one correction: a transaction with a
    backward edge to v is moved to just before v (a reader that missed a write
    serializes before its writer), so that far fewer edges stay backward. Any
    total preorder works for the interval argument (an edge between equal keys
    counts as backward)."""
    key = 2 * rank.astype(np.int64)
    moved = False
    for src, dst, _ in parts:
        back = np.flatnonzero(key[src] >= key[dst])
        if len(back):
            np.minimum.at(key, src[back], 2 * rank[dst[back]] - 1)
            moved = True
    if not moved:
        return None
    lo_parts, hi_parts = [], []
    for src, dst, _ in parts:
        ks, kd = key[src], key[dst]
        back = ks >= kd
        if back.any():
            lo_parts.append(kd[back])
            hi_parts.append(ks[back])
    if not lo_parts:
        return None
    lo, hi = np.concatenate(lo_parts) + 1, np.concatenate(hi_parts) + 1  # (keys may be -1)
    size = int(key.max()) + 3
    depth = np.cumsum(np.bincount(lo, minlength=size) - np.bincount(hi + 1, minlength=size))
    return depth[key + 1] > 0


def cycle_nodes(mg: ModelGraph, n: int, rank: np.ndarray, parts: list[Edges]) -> np.ndarray:
    """The model-graph nodes on a cycle of the union of the parts (txn edges with
    relation bits), computed on the suspects' edges only."""
    sus = suspects(rank, parts)
    if sus is None:
        return np.zeros(0, np.int64)
    kept = []
    for src, dst, rel in parts:
        keep = sus[src] & sus[dst]
        kept.append((src[keep], dst[keep], rel[keep]))
    src, dst, rel = (np.concatenate(c) for c in zip(*kept, strict=True))
    enc = encode(mg, n, src, dst, rel, txns=np.flatnonzero(sus))
    return cyclic_nodes(enc.size, enc.src, enc.dst)
