"""The strongly connected regions of every completion at once.

Every open pair of a key's writes may go either way, so the graph of all
possible edges has, per key, each write before and after each other, and each
reader before each of them. One hub node per key (two in the snapshot graph:
one for ww targets, one for rw targets) gives the same strongly connected
components in linear size. A cycle of any completion lies inside one such
region, and each open pair's edges lie inside one, so regions are decided one
by one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.analysis.complete.choices import OpenWrites
from mvcc_check.analysis.graph import scc_labels


@dataclass(frozen=True)
class Region:
    """Model-graph nodes of one region (sorted) and the open keys inside it
    (rows of OpenWrites.spans())."""

    nodes: np.ndarray
    spans: np.ndarray


def regions(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    ow: OpenWrites,
    si: bool,
    wanted: np.ndarray,
) -> list[Region]:
    """The regions of the model graph (n nodes, edges src -> dst) holding a node of
    `wanted` (the nodes on a cycle of the candidate completion)."""
    spans = ow.spans()
    g = len(spans)
    group = np.full(len(ow.key), -1, np.int64)
    for i, (lo, hi) in enumerate(spans.tolist()):
        group[lo:hi] = i
    w = np.flatnonzero(group >= 0)
    rd = np.flatnonzero(group[ow.reader_of] >= 0)
    wt, wg = ow.txn[w], group[w]
    rt, rg = ow.reader[rd], group[ow.reader_of[rd]]
    if si:  # c(w) -> Hs -> s(w'); s(r) -> Hc -> c(w')
        hs, hc_w, hc_r = n + 2 * wg, n + 2 * wg + 1, n + 2 * rg + 1
        hub_src = [2 * wt + 1, hs, 2 * rt, hc_w]
        hub_dst = [hs, 2 * wt, hc_r, 2 * wt + 1]
        total = n + 2 * g
    else:
        hub_src = [wt, n + wg, rt]
        hub_dst = [n + wg, wt, n + rg]
        total = n + g
    s = np.concatenate([src, *hub_src]).astype(np.int64)
    d = np.concatenate([dst, *hub_dst]).astype(np.int64)
    labels = scc_labels(total, s, d)
    hub_label = labels[n + (2 if si else 1) * np.arange(g)] if g else np.zeros(0, np.int64)
    out = []
    for lab in np.unique(labels[wanted]).tolist():
        nodes = np.flatnonzero(labels[:n] == lab)
        out.append(Region(nodes, spans[hub_label == lab]))
    return out
