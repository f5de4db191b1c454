"""Whole-graph existence passes: for each cycle type, which components hold one,
and anchor edges through which such a cycle passes (decided over all components
at once, instead of one search per component and type)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mvcc_check.analysis._scc import reach
from mvcc_check.analysis.graph import RW, DependencyGraph, scc_labels


class Anchors:
    """Anchor edges (global ids) through which a cycle of one type is known to pass,
    grouped by component; `components` are those holding such a cycle."""

    def __init__(
        self,
        comp: np.ndarray,
        src: np.ndarray,
        dst: np.ndarray,
        promising: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        # By component, promising anchors first, then by edge (one sort: a repeated anchor,
        # which may come from several composites, is promising or not alike: adjacent).
        keys = (dst, src, comp) if promising is None else (dst, src, ~promising(src, dst), comp)
        order = np.lexsort(keys)
        comp, src, dst = comp[order], src[order], dst[order]
        new = np.ones(len(comp), bool)  # drop the repeats
        new[1:] = (comp[1:] != comp[:-1]) | (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        comp, src, dst = comp[new], src[new], dst[new]
        self._src, self._dst = src, dst
        first = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]]) if len(comp) else comp[:0]
        ends = np.r_[first[1:], len(comp)][: len(first)]
        self._range = dict(
            zip(comp[first].tolist(), zip(first.tolist(), ends.tolist(), strict=True), strict=True)
        )
        self.components = self._range.keys()

    def of(self, component: int, offset: int = 0) -> list[tuple[int, int]]:
        """The component's anchors, numbered from `offset` (its first node's id) on."""
        lo, hi = self._range[component]
        src, dst = self._src[lo:hi] - offset, self._dst[lo:hi] - offset
        return list(zip(src.tolist(), dst.tolist(), strict=True))


LabelCache = dict[tuple[int, bool], Any]
"""SCC labels of the graph's edges cut to a relation mask (False), or the two-layer graph of
that mask (True, see `two_layer_graph`); computed once for the existence passes and the model
tests."""


def labels_of(inside: DependencyGraph, mask: int, cache: LabelCache) -> np.ndarray:
    lab = cache.get((mask, False))
    if lab is None:
        lab = cache[(mask, False)] = inside.select(mask).scc_labels()
    return lab


def scc_decidable_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    specs,
    cache: LabelCache,
) -> dict[str, Anchors]:
    """For every type whose existence can be decided over the whole graph at once,
    the anchor edges of its cycles, by component; instead of one test per component
    and type."""
    out: dict[str, Anchors] = {}
    closes_two_cycle = _reversed_edge_test(inside)
    for spec in specs:
        if spec.rw_rule == "nonadjacent":
            out[spec.name] = _nonadjacent_presence(inside, comp_of, spec, cache, closes_two_cycle)
            continue
        if spec.rw_rule == "one":
            out[spec.name] = _single_presence(inside, comp_of, spec, cache, closes_two_cycle)
            continue
        sub = inside.select(spec.allowed)
        lab = labels_of(inside, spec.allowed, cache)
        same = lab[sub.src] == lab[sub.dst]
        if spec.rw_rule == "adjacent":
            rw_in = same & ((sub.rel & RW) != 0)
            has_rw_out = np.zeros(inside.n, bool)
            has_rw_out[sub.src[rw_in]] = True
            anchor = rw_in & has_rw_out[sub.dst]
        else:
            anchor = same & ((sub.rel & spec.anchor) != 0)
        if spec.extra:  # components (of the cut) with an extra edge inside
            with_extra = np.zeros(inside.n, bool)
            with_extra[lab[sub.src[same & ((sub.rel & spec.extra) != 0)]]] = True
            anchor &= with_extra[lab[sub.src]]
        out[spec.name] = Anchors(
            comp_of[sub.src[anchor]], sub.src[anchor], sub.dst[anchor], promising=closes_two_cycle
        )
    return out


def _reversed_edge_test(graph: DependencyGraph) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A test of which edges a -> b have an edge b -> a back: anchors that may close a
    cycle of two steps, the shortest there is, so the search tries them first."""
    n = graph.n
    keys = np.sort(graph.src * n + graph.dst)
    if len(keys) == 0:
        return lambda src, dst: np.zeros(len(src), bool)

    def test(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        back = dst * n + src
        at = np.minimum(np.searchsorted(keys, back), len(keys) - 1)
        return keys[at] == back

    return test


def _single_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    spec,
    cache: LabelCache,
    promising: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Anchors:
    """rw edges u -> v with a path v ~> u over the spec's non-rw steps (through at least
    one extra step when the spec needs one). The non-rw graph's components, numbered
    sinks first, rule most edges out at once (v ~> u needs order[v] >= order[u]) and
    bound the depth-first search (`_scc.reach`) that decides the rest exactly."""
    mask = spec.allowed & ~RW
    plain = inside.select(mask)
    order = labels_of(inside, mask, cache)
    rw = inside.select(RW)
    cand = np.flatnonzero(order[rw.dst] >= order[rw.src])
    hit = np.zeros(len(cand), np.uint8)
    if len(cand):
        src = plain.src
        if len(src) > 1 and (src[1:] < src[:-1]).any():  # (the search's graphs are sorted)
            by = np.argsort(src, kind="stable")
            plain = DependencyGraph(inside.n, src[by], plain.dst[by], plain.rel[by])
        indptr = np.zeros(inside.n + 1, np.int64)
        np.cumsum(np.bincount(plain.src, minlength=inside.n), out=indptr[1:])
        reach(
            indptr,
            np.ascontiguousarray(plain.dst, np.int64),
            np.ascontiguousarray(plain.rel, np.uint8),
            order,
            np.ascontiguousarray(rw.src[cand], np.int64),
            np.ascontiguousarray(rw.dst[cand], np.int64),
            spec.extra,
            hit,
        )
    on = cand[hit.view(bool)]
    return Anchors(comp_of[rw.src[on]], rw.src[on], rw.dst[on], promising=promising)


def two_layer_graph(inside: DependencyGraph, mask: int, cache: LabelCache) -> TwoLayer:
    """The graph of walks whose rw steps are never adjacent, with its SCC labels.

    Each transaction t is two nodes: t (the walk did not just take an rw step) and
    n + t (it did). A non-rw step x -> y leaves either x or n + x for y; an rw step
    y -> z leaves only y, for n + z. Its closed walks are exactly the closed walks
    of the dependency graph (relations in mask) with no two rw steps in a row,
    cyclically; its cycles through an rw step are those of Cerone & Gotsman's
    extension graph through a composite (non-rw; rw) edge, without building the
    composites, whose number is the product of degrees. Only the labels are kept;
    the edges are made again when asked for."""
    hit = cache.get((mask, True))
    if hit is None:
        g = TwoLayer(inside, mask)
        src, dst = g.edges()
        g.labels = scc_labels(2 * g.n, src, dst)
        hit = cache[(mask, True)] = g
    return hit


class TwoLayer:
    """`two_layer_graph`'s graph: its SCC labels, and its edges on demand (the non-rw
    edges twice, then the rw edges)."""

    def __init__(self, inside: DependencyGraph, mask: int) -> None:
        self.inside, self.mask, self.n = inside, mask, inside.n
        self.labels = np.zeros(0, np.int64)

    @property
    def plain(self) -> DependencyGraph:
        return self.inside.select(self.mask & ~RW)

    @property
    def rw(self) -> DependencyGraph:
        return self.inside.select(RW & self.mask)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        plain, rw, n = self.plain, self.rw, self.n
        src = np.concatenate([plain.src, plain.src + n, rw.src])
        dst = np.concatenate([plain.dst, plain.dst, rw.dst + n])
        return src, dst


def _nonadjacent_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    spec,
    cache: LabelCache,
    promising: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Anchors:
    """Components with a closed walk whose rw steps are non-adjacent: a cycle of the
    two-layer graph through an rw step (with an extra step somewhere on it when the
    spec needs one). Anchors: the rw edges on such cycles."""
    g = two_layer_graph(inside, spec.allowed, cache)
    lab, n, plain, rw = g.labels, g.n, g.plain, g.rw
    internal = lab[rw.src] == lab[rw.dst + n]
    if spec.extra:
        has_x = (plain.rel & spec.extra) != 0
        inner = (lab[plain.src] == lab[plain.dst]) | (lab[plain.src + n] == lab[plain.dst])
        with_x = np.zeros(2 * n, bool)
        with_x[lab[plain.dst[inner & has_x]]] = True
        internal &= with_x[lab[rw.src]]
    return Anchors(
        comp_of[rw.src[internal]], rw.src[internal], rw.dst[internal], promising=promising
    )
