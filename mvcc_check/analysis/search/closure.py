"""Reachability inside many small graphs at once, as bitsets.

The cycle search asks, for thousands of small strongly connected components,
whether some node reaches another over a subset of relations (G-single: does
the target of an rw edge reach its source over non-rw steps?). Answering that
with one breadth-first search per question costs a Python loop per edge; here
every component's transitive closure is computed together instead: components
of similar size are padded to a common size N and stacked, each node's
successors held as a row of N bits (uint64 words), and Warshall's algorithm
runs once per pivot k over the whole stack (a row that reaches k takes k's
row). The cost is about B * N^2 * N/64 word operations per stack of B
components, done by numpy. Larger components are left to the caller.

Paths that must use at least one edge of a marked subset T (a realtime step,
say) are answered from the same closure R: a reaches b through T exactly when
some T edge x -> y has a ~>* x and y ~>* b (reflexively), i.e. by the rows of
R* T R*, which one more Warshall-like pass computes.
"""

from __future__ import annotations

import numpy as np

MAX_NODES = 1024  # components above this size are not closed here (the caller searches them)
_MIN_PAD = 8
_ONE = np.uint64(1)


class Closure:
    """Transitive closures of many small graphs, queried in bulk.

    Graph g has nodes 0..sizes[g]-1 and the edges (graph[i], src[i], dst[i]).
    With `via` (the indices of some of those edges), a path counts only if it
    uses at least one of them. Graphs larger than MAX_NODES are not closed:
    `closed[g]` is False for them.
    """

    def __init__(
        self,
        sizes: np.ndarray,
        graph: np.ndarray,
        src: np.ndarray,
        dst: np.ndarray,
        via: np.ndarray | None = None,
    ) -> None:
        sizes = np.asarray(sizes, np.int64)
        self.closed = sizes <= MAX_NODES
        self.bucket_of = np.where(self.closed, _padded(sizes), 0)
        self.slot = np.zeros(len(sizes), np.int64)
        self.rows: dict[int, np.ndarray] = {}
        marked = np.zeros(len(graph), bool)
        if via is not None:
            marked[via] = True
        keep = self.closed[graph]
        graph, src, dst, marked = graph[keep], src[keep], dst[keep], marked[keep]
        edge_order = np.argsort(self.bucket_of[graph], kind="stable")
        graph, src, dst, marked = (
            graph[edge_order],
            src[edge_order],
            dst[edge_order],
            marked[edge_order],
        )
        edge_bucket = self.bucket_of[graph]
        member_order = np.argsort(self.bucket_of, kind="stable")
        member_bucket = self.bucket_of[member_order]
        for n in np.unique(self.bucket_of[self.closed]).tolist():
            lo, hi = np.searchsorted(member_bucket, [n, n + 1]).tolist()
            members = member_order[lo:hi]
            self.slot[members] = np.arange(len(members))
            rows = np.zeros((len(members), n, (n + 63) // 64), np.uint64)
            lo, hi = np.searchsorted(edge_bucket, [n, n + 1]).tolist()
            g, s, d = self.slot[graph[lo:hi]], src[lo:hi], dst[lo:hi]
            _or_into(rows, g, s, _bit_rows(d, rows.shape[2]))
            _warshall(rows, rows)
            if via is not None:
                m = marked[lo:hi]
                # M[x]: what a T edge out of x leads to, y itself included.
                through = np.zeros_like(rows)
                _or_into(through, g[m], s[m], rows[g[m], d[m]] | _bit_rows(d[m], rows.shape[2]))
                _warshall(rows, through)  # through[a] |= through[x] for every x that a reaches
                rows = through
            self.rows[n] = rows

    def reaches(self, graph: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For each query i: does a[i] reach b[i] by one or more edges in graph[i]
        (through a marked edge, if the closure was built with `via`)? Every
        queried graph must be closed."""
        graph, a, b = (np.asarray(x, np.int64) for x in (graph, a, b))
        out = np.zeros(len(graph), bool)
        if len(graph) == 0:
            return out
        if not self.closed[graph].all():
            raise ValueError("reachability asked of a graph too large to close")
        buckets = self.bucket_of[graph]
        for n, rows in self.rows.items():
            sel = np.flatnonzero(buckets == n)
            if len(sel) == 0:
                continue
            word = rows[self.slot[graph[sel]], a[sel], b[sel] >> 6]
            out[sel] = (word >> (b[sel] & 63).astype(np.uint64)) & _ONE != 0
        return out


def _padded(sizes: np.ndarray) -> np.ndarray:
    """The stack size each graph joins: a multiple of 8 up to 64 nodes, of 64 above
    (whole words; the closure costs about N^3/64, so padding is kept tight)."""
    small = np.maximum(_MIN_PAD, (sizes + 7) // 8 * 8)
    return np.where(sizes <= 64, small, (sizes + 63) // 64 * 64)


def _bit_rows(nodes: np.ndarray, words: int) -> np.ndarray:
    """One row of `words` words per node, with only that node's bit set."""
    out = np.zeros((len(nodes), words), np.uint64)
    out[np.arange(len(nodes)), nodes >> 6] = np.left_shift(_ONE, (nodes & 63).astype(np.uint64))
    return out


def _or_into(rows: np.ndarray, slot: np.ndarray, node: np.ndarray, values: np.ndarray) -> None:
    """rows[slot[i], node[i]] |= values[i] for every i (repeated targets OR together)."""
    if len(slot) == 0:
        return
    cell = slot * rows.shape[1] + node
    order = np.argsort(cell, kind="stable")
    cell, values = cell[order], values[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    flat = rows.reshape(-1, rows.shape[2])
    flat[cell[starts]] |= np.bitwise_or.reduceat(values, starts, axis=0)


def _warshall(reach: np.ndarray, target: np.ndarray) -> None:
    """For each pivot k, every row of `reach` that has bit k takes target's row k,
    into `target`. With target = reach this is Warshall's transitive closure in
    place; with another array it ORs each node's target row over all it reaches."""
    for k in range(reach.shape[1]):
        has = (reach[:, :, k >> 6] >> np.uint64(k & 63)) & _ONE  # (B, n): 1 where the row reaches k
        if not has.any():
            continue
        target |= has[:, :, None] * target[:, k, None, :]
