"""The shortest cycle of each type in one component: breadth-first search over
(transaction, automaton state) pairs from anchor edges, in C (`_bfs.c`)."""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis.graph import RW
from mvcc_check.analysis.search._bfs import bfs as _c_bfs
from mvcc_check.analysis.search._bfs import deepen as _c_deepen
from mvcc_check.analysis.search._bfs import exhaustive as _c_exhaustive
from mvcc_check.analysis.search.specs import CycleSpec

# Components of at most this many transactions are searched exhaustively.
TINY_COMPONENT = 16


class Component:
    """One strongly connected component, with local node numbers 0..n-1."""

    def __init__(
        self,
        nodes: list[int],
        src: list[int] | np.ndarray,
        dst: list[int] | np.ndarray,
        rel: list[int] | np.ndarray,
        rel_union: int | None = None,
        rw_edges: int | None = None,
    ) -> None:
        """The edges src -> dst (relation bits rel) come as lists or as arrays (the
        search's blocks hand over slices of theirs). `rel_union` (all relation bits
        present) and `rw_edges` (how many edges carry rw) may be given when the caller
        has them at hand (computed for all components at once)."""
        self.nodes = nodes  # global ids
        self.n = len(nodes)
        self.src, self.dst, self.rel = src, dst, rel
        if rel_union is None or rw_edges is None:
            rel_union = rw_edges = 0
            for r in rel:
                rel_union |= r
                rw_edges += 1 if r & RW else 0
        self.rel_union = rel_union
        self.rw_edges = rw_edges
        self._out: list[list[tuple[int, int]]] | None = None
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The edges as arrays (src, dst int64, rel uint8), in order (no copy when they
        came as such)."""
        if self._arrays is None:
            self._arrays = (
                np.ascontiguousarray(self.src, np.int64),
                np.ascontiguousarray(self.dst, np.int64),
                np.ascontiguousarray(self.rel, np.uint8),
            )
        return self._arrays

    @property
    def out(self) -> list[list[tuple[int, int]]]:
        """Out-edges (target, relation bits) of each node, built on first use."""
        if self._out is None:
            out: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
            for a, b, r in zip(self.src, self.dst, self.rel, strict=True):
                out[a].append((b, r))
            self._out = out
        return self._out


Step = tuple[int, int, int]  # (from local, to local, relation bit)


class SearchSpace:
    """The edges of many components in one numbering (each component a contiguous range
    of node ids, edges sorted by source), as CSR per relation mask, with the scratch
    space of the C search: built once and shared by every CycleFinder of a process."""

    def __init__(
        self, n: int, src: np.ndarray, dst: np.ndarray, rel: np.ndarray, largest: int | None = None
    ) -> None:
        """n nodes; `largest`: the size of the largest component (default n)."""
        if len(src) and (
            np.any(src[1:] < src[:-1])
            or min(src.min(), dst.min()) < 0
            or max(src.max(), dst.max()) >= n
        ):
            raise AssertionError("search space edges out of order or range; a bug in mvcc-check")
        self.n = n
        self.src = np.ascontiguousarray(src, np.int64)
        self.dst = np.ascontiguousarray(dst, np.int64)
        self.rel = np.ascontiguousarray(rel, np.uint8)
        self._csr: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        m = (n if largest is None else largest) * 16
        self.stamp = np.zeros(m, np.int32)
        self.parent = np.zeros(m, np.int64)
        self.pbit = np.zeros(m, np.uint8)
        self.queue = np.zeros(2 * m, np.int64)
        self._gen = 0

    @classmethod
    def of_component(cls, comp: Component) -> SearchSpace:
        return cls(
            comp.n,
            np.array(comp.src, np.int64),
            np.array(comp.dst, np.int64),
            np.array(comp.rel, np.uint8),
        )

    def csr(self, mask: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """indptr, targets and relation bits of the edges cut to mask (cached per mask)."""
        got = self._csr.get(mask)
        if got is None:
            bits = self.rel & mask
            keep = bits != 0
            indptr = np.zeros(self.n + 1, np.int64)
            np.cumsum(np.bincount(self.src[keep], minlength=self.n), out=indptr[1:])
            got = self._csr[mask] = (indptr, self.dst[keep], np.ascontiguousarray(bits[keep]))
        return got

    def generation(self) -> int:
        """A fresh stamp for one search (the stamps are reset when they run out)."""
        self._gen += 1
        if self._gen >= 2**31 - 1:
            self.stamp[:] = 0
            self._gen = 1
        return self._gen


class CycleFinder:
    """Finds the shortest cycle of each type in one component."""

    def __init__(
        self,
        comp: Component,
        budget: int | None = None,
        space: SearchSpace | None = None,
        offset: int = 0,
    ) -> None:
        """`space` holds the component's edges from node `offset` on (a space of its
        own when not given)."""
        self.c = comp
        self.budget = budget if budget is not None else max(200_000, 40 * (len(comp.src) + comp.n))
        self.work = 0
        self.at_least = 0
        self.space = space if space is not None else SearchSpace.of_component(comp)
        self.offset = offset

    # -- witnesses --------------------------------------------------------
    def _bfs(
        self, spec: CycleSpec, u: int, v: int, limit: int | None, order=None
    ) -> list[Step] | None:
        """Shortest path of steps from v back to u accepted by spec (after the anchor u -> v),
        breadth first over (node, automaton state) pairs; in C (`_bfs.c`). With `order`
        (a reverse topological order of the component's sub-components), nodes below
        u's position are not entered."""
        sp = self.space
        order_arr = None if order is None else np.asarray(order, np.int64)
        steps, work = _c_bfs(
            *_graph_and_automaton(sp, spec),
            u,
            v,
            -1 if limit is None else limit,
            order_arr,
            order[u] if order is not None else 0,
            sp.stamp,
            sp.parent,
            sp.pbit,
            sp.queue,
            sp.generation(),
            self.offset,
        )
        self.work += work
        return steps

    def _deepen(
        self, spec: CycleSpec, anchors: list[tuple[int, int]]
    ) -> tuple[int, list[Step] | None, int]:
        """Iterative deepening over the anchors, in C (`_bfs.deepen`): for limit = 1, 2,
        ... while the work stays within budget, a search bounded by limit from every
        anchor in turn. (anchor index, its path, limit) of the first path found, else
        (-1, None, the limit where it stopped)."""
        sp = self.space
        pairs = np.array(anchors, np.int64).reshape(-1, 2)
        j, steps, work, limit, sp._gen = _c_deepen(
            *_graph_and_automaton(sp, spec),
            np.ascontiguousarray(pairs[:, 0]),
            np.ascontiguousarray(pairs[:, 1]),
            self.budget - self.work,
            self.c.n * 16,
            sp.stamp,
            sp.parent,
            sp.pbit,
            sp.queue,
            sp._gen,
            self.offset,
        )
        self.work += work
        return j, steps, limit

    def shortest(
        self, spec: CycleSpec, anchors: list[tuple[int, int]] | None = None
    ) -> list[Step] | None:
        """The shortest cycle of this type found (None exactly when none exists).

        Iterative deepening over all anchors finds the shortest cycle overall;
        if the work budget runs out first, the first anchor is searched without
        a bound, which always succeeds because the first anchor is known to lie
        on a cycle of the type. `anchors` are edges known to lie on such cycles
        (the whole-graph passes in presence.py found them).
        """
        self.work = 0
        self.at_least = 0  # set when the budget runs out: a lower bound on the shortest length
        c = self.c
        if not c.rel_union & spec.anchor or (spec.extra and not c.rel_union & spec.extra):
            return None
        if spec.rw_rule in ("nonadjacent", "adjacent") and c.rw_edges < 2:
            return None
        if spec.rw_rule == "nonadjacent" and not c.rel_union & spec.allowed & ~RW:
            return None
        if c.n <= TINY_COMPONENT:
            return self._exhaustive(spec)
        if anchors is None:
            raise ValueError(f"{spec.name}: anchors come from the whole-graph passes (presence)")
        if not anchors:
            return None
        j, path, limit = self._deepen(spec, anchors)
        if path is not None:
            u, v = anchors[j]
            return [(u, v, spec.anchor), *path]
        # The budget ran out during the search to limit - 1 steps after the anchor, so
        # every anchor was searched to limit - 2 in vain: no cycle of this type has
        # fewer than limit steps. What follows is a witness, maybe longer.
        self.at_least = limit
        for u, v in anchors:  # the first anchor is always verified: this returns
            path = self._bfs(spec, u, v, None)
            if path is not None:
                return [(u, v, spec.anchor), *path]
        raise AssertionError(
            f"{spec.name}: anchors known to lie on a cycle yielded none; a bug in mvcc-check"
        )

    def _exhaustive(self, spec: CycleSpec) -> list[Step] | None:
        """Tiny components: an unbounded search from every candidate anchor both decides and
        finds the shortest cycle, cheaper than setting up the existence tests. In C
        (`_bfs.exhaustive`): every anchor edge in the component's order (by source),
        each search bounded by the best found so far."""
        sp = self.space
        us, vs, rels = self.c.arrays()
        u, v, path, work, sp._gen = _c_exhaustive(
            *_graph_and_automaton(sp, spec),
            us, vs, rels, spec.anchor,
            sp.stamp, sp.parent, sp.pbit, sp.queue, sp._gen, self.offset,
        )  # fmt: skip
        self.work += work
        return None if path is None else [(u, v, spec.anchor), *path]


_AUTOMATA: dict[CycleSpec, tuple[np.ndarray, np.ndarray]] = {}


def _graph_and_automaton(sp: SearchSpace, spec: CycleSpec) -> tuple:
    """The C searches' first arguments: the CSR cut to the spec's relations, its
    automaton's table and accepting states, and its start state."""
    return (*sp.csr(spec.allowed), *_automaton(spec), spec.start_state())


def _automaton(spec: CycleSpec) -> tuple[np.ndarray, np.ndarray]:
    """The spec's transition table and accepting states as the C search takes them."""
    got = _AUTOMATA.get(spec)
    if got is None:
        table = np.array(spec.table, np.int8)  # type: ignore[attr-defined]
        accepting = np.array(spec.accepting, np.uint8)  # type: ignore[attr-defined]
        got = _AUTOMATA[spec] = (table, accepting)
    return got
