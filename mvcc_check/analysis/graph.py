"""A typed dependency graph over dense integer transaction ids.

Edges are collected in flat arrays (source, target, relation bits) and
coalesced with numpy, so the whole-history pass never builds a Python object
per edge; strongly connected components come from a small C pass (`_scc.c`).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

from mvcc_check.analysis import _edges, _scc

WW = 1
WR = 2
RW = 4
PROCESS = 8
REALTIME = 16
DATA = WW | WR | RW

REL_NAMES = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime"}


def scc_labels(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Strongly connected component label of every node of the edges src -> dst (any
    order, duplicates allowed), numbered sinks first: for every edge a -> b,
    label[a] >= label[b], equal exactly inside one component (`_scc.c`, Tarjan)."""
    labels = np.empty(n, np.int64)
    _scc.scc(n, np.ascontiguousarray(src, np.int64), np.ascontiguousarray(dst, np.int64), labels)
    return labels


Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # (src int64, dst int64, rel int8) of some edges


class EdgeBuilder:
    """Collects edges: arrays of them in bulk (`add_arrays`, kept as they are) and single
    ones (`add`). Duplicates and self-edges are fine: `build` coalesces every part at
    once, in C, without concatenating them first."""

    __slots__ = ("parts", "src", "dst", "rel")

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.src = array("q")  # the single edges
        self.dst = array("q")
        self.rel = array("b")

    def add(self, a: int, b: int, rel: int) -> None:
        if a != b:
            self.src.append(a)
            self.dst.append(b)
            self.rel.append(rel)

    def add_arrays(self, src: np.ndarray, dst: np.ndarray, rel: int) -> None:
        """Edges src[i] -> dst[i], all of relation rel (self-edges are dropped at build)."""
        if len(src):
            self.parts.append(
                (
                    np.ascontiguousarray(src, np.int64),
                    np.ascontiguousarray(dst, np.int64),
                    np.full(len(src), rel, np.int8),
                )
            )

    def extend(self, other: EdgeBuilder) -> None:
        self.parts.extend(other.all_parts())

    def all_parts(self) -> list[Part]:
        singles = (
            np.frombuffer(self.src, dtype=np.int64),
            np.frombuffer(self.dst, dtype=np.int64),
            np.frombuffer(self.rel, dtype=np.int8),
        )
        return [*self.parts, singles] if len(self.src) else list(self.parts)

    def __len__(self) -> int:
        return len(self.src) + sum(len(p[0]) for p in self.parts)

    def arrays(self) -> Part:
        """Every edge collected, in order (parts first, then the single edges)."""
        parts = self.all_parts()
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8)
        return tuple(np.concatenate(c) for c in zip(*parts, strict=True))  # type: ignore[return-value]

    def release(self) -> None:
        """Drop the collected edges (once built: the graph holds its own copy)."""
        self.parts, self.src, self.dst, self.rel = [], array("q"), array("q"), array("b")

    def build(self, n: int) -> DependencyGraph:
        return DependencyGraph.from_parts(n, self.all_parts())


@dataclass
class DependencyGraph:
    """n nodes; unique (src, dst) pairs with OR-ed relation bits, and no self-loops."""

    n: int
    src: np.ndarray
    dst: np.ndarray
    rel: np.ndarray

    @classmethod
    def from_arrays(
        cls, n: int, src: np.ndarray, dst: np.ndarray, rel: np.ndarray
    ) -> DependencyGraph:
        return cls.from_parts(
            n,
            [
                (
                    np.ascontiguousarray(src, np.int64),
                    np.ascontiguousarray(dst, np.int64),
                    np.ascontiguousarray(rel, np.int8),
                )
            ],
        )

    @classmethod
    def from_parts(cls, n: int, parts: list[Part]) -> DependencyGraph:
        """The graph of every part's edges: unique pairs in (src, dst) order with their
        bits OR-ed, self-loops dropped (a transaction never depends on itself), in C
        (`_edges.c`)."""
        m = sum(len(p[0]) for p in parts)
        out_src, out_dst, out_rel = (
            np.empty(m, np.int64),
            np.empty(m, np.int64),
            np.empty(m, np.int8),
        )
        count = _edges.coalesce(n, parts, out_src, out_dst, out_rel)
        for column in (out_src, out_dst, out_rel):
            column.resize(count, refcheck=False)  # in place, no copy
        return cls(n, out_src, out_dst, out_rel)

    @property
    def edge_count(self) -> int:
        return self.__dict__.get("_released", len(self.src))

    def release_edges(self) -> None:
        """Drop the edge arrays and the cuts made of them, keeping the count and the
        components (the search, done with the whole graph, frees it this way)."""
        self.__dict__["_released"] = len(self.src)
        self.__dict__.pop("_selected", None)
        self.src, self.dst, self.rel = self.src[:0], self.dst[:0], self.rel[:0]

    def drop_selected(self) -> None:
        """Forget the cuts `select` kept (they are made again if asked for)."""
        self.__dict__.pop("_selected", None)

    def select(self, mask: int) -> DependencyGraph:
        """The edges carrying any relation in mask, with their bits cut to mask
        (kept per mask: the existence passes and model tests ask for the same cuts)."""
        cache = self.__dict__.setdefault("_selected", {})
        cut = cache.get(mask)
        if cut is None:
            m = len(self.src)
            src, dst, rel = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int8)
            count = _edges.select(
                np.ascontiguousarray(self.src, np.int64),
                np.ascontiguousarray(self.dst, np.int64),
                np.ascontiguousarray(self.rel, np.int8),
                mask,
                src,
                dst,
                rel,
            )
            for column in (src, dst, rel):
                column.resize(count, refcheck=False)
            cut = cache[mask] = DependencyGraph(self.n, src, dst, rel)
        return cut

    def sccs(self) -> list[np.ndarray]:
        """Components that hold a cycle (those of two or more nodes), largest first.

        Computed once per graph (the cycle search and the model-level tests both need them).
        """
        cached = self.__dict__.get("_sccs")
        if cached is None:
            cached = self.__dict__["_sccs"] = self._compute_sccs()
        return cached

    def _compute_sccs(self) -> list[np.ndarray]:
        if self.edge_count == 0:
            return []
        labels = self.scc_labels()
        cyclic = np.bincount(labels) > 1  # (no self-loops: see from_arrays)
        big = np.flatnonzero(cyclic)
        if len(big) == 0:
            return []
        nodes = np.flatnonzero(cyclic[labels])  # only those in cyclic components, ascending
        order = nodes[np.argsort(labels[nodes], kind="stable")]  # ascending within each label
        sorted_labels = labels[order]
        lo = np.searchsorted(sorted_labels, big, "left")
        hi = np.searchsorted(sorted_labels, big, "right")
        # A defined order, whatever numbering the SCC algorithm chose: largest first,
        # then by smallest transaction id.
        rank = np.lexsort((order[lo], -(hi - lo)))
        return [order[a:b] for a, b in zip(lo[rank].tolist(), hi[rank].tolist(), strict=True)]

    def scc_labels(self) -> np.ndarray:
        """Strongly connected component label of every node (see `scc_labels`)."""
        return scc_labels(self.n, self.src, self.dst)

    def cyclic_part(self) -> DependencyGraph:
        """Only the edges inside components that hold a cycle: every cycle of any
        subgraph lies there, so model-level cycle tests need nothing else."""
        comps = self.sccs()
        if not comps:
            return DependencyGraph(self.n, self.src[:0], self.dst[:0], self.rel[:0])
        labels = np.full(self.n, -1, np.int64)
        for i, nodes in enumerate(comps):
            labels[nodes] = i
        ls = labels[self.src]
        keep = (ls >= 0) & (ls == labels[self.dst])
        return DependencyGraph(self.n, self.src[keep], self.dst[keep], self.rel[keep])
