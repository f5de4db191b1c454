"""Whole-graph existence passes: for each cycle type, which components hold one,
and anchor edges through which such a cycle passes (decided over all components
at once, instead of one search per component and type)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mvcc_check.analysis.graph import RW, DependencyGraph
from mvcc_check.analysis.search.closure import Closure


class Anchors:
    """Anchor edges (global ids) through which a cycle of one type is known to pass,
    grouped by component; `components` are those holding such a cycle."""

    def __init__(
        self,
        comp: np.ndarray,
        src: np.ndarray,
        dst: np.ndarray,
        undecided: set[int] | None = None,
        promising: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        order = np.lexsort((dst, src, comp))
        comp, src, dst = comp[order], src[order], dst[order]
        new = np.ones(len(comp), bool)  # drop repeats: one anchor may come from several composites
        new[1:] = (comp[1:] != comp[:-1]) | (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        comp, src, dst = comp[new], src[new], dst[new]
        if promising is not None and len(comp):  # within each component, promising anchors first
            order = np.lexsort((~promising(src, dst), comp))
            comp, src, dst = comp[order], src[order], dst[order]
        self._src, self._dst = src, dst
        first = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]]) if len(comp) else comp[:0]
        ends = np.r_[first[1:], len(comp)][: len(first)]
        self._range = dict(
            zip(comp[first].tolist(), zip(first.tolist(), ends.tolist(), strict=True), strict=True)
        )
        self.components = self._range.keys()
        self.undecided = undecided or set()  # components this pass could not decide

    def of(self, component: int) -> list[tuple[int, int]]:
        lo, hi = self._range[component]
        return list(zip(self._src[lo:hi].tolist(), self._dst[lo:hi].tolist(), strict=True))


LabelCache = dict[tuple[int, bool], Any]
"""SCC labels of the graph's edges cut to a relation mask (False), or the extension graph's
composites and labels (True); computed once for the existence passes and the model tests."""


def labels_of(inside: DependencyGraph, mask: int, cache: LabelCache) -> np.ndarray:
    lab = cache.get((mask, False))
    if lab is None:
        lab = cache[(mask, False)] = inside.select(mask).scc_labels()
    return lab


def scc_decidable_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    local: np.ndarray,
    sizes: np.ndarray,
    specs,
    cache: LabelCache,
) -> dict[str, Anchors]:
    """For every type whose existence can be decided over the whole graph at once,
    the anchor edges of its cycles, by component; instead of one test per component
    and type. Components left out of a G-single result (too large for the bitset
    closure) are decided by the per-component search."""
    out: dict[str, Anchors] = {}
    closes_two_cycle = _reversed_edge_test(inside)
    for spec in specs:
        if spec.rw_rule == "nonadjacent":
            out[spec.name] = _nonadjacent_presence(inside, comp_of, spec, cache, closes_two_cycle)
            continue
        if spec.rw_rule == "one":
            out[spec.name] = _single_presence(inside, comp_of, local, sizes, spec, closes_two_cycle)
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
        if spec.extra:
            with_extra = np.unique(lab[sub.src[same & ((sub.rel & spec.extra) != 0)]])
            anchor &= np.isin(lab[sub.src], with_extra)
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
    local: np.ndarray,
    sizes: np.ndarray,
    spec,
    promising: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Anchors:
    """rw edges u -> v with a path v ~> u over the spec's non-rw steps (through at least
    one extra step when the spec needs one), from transitive closures of every
    component at once."""
    plain = inside.select(spec.allowed & ~RW)
    pc = comp_of[plain.src]
    via = np.flatnonzero(plain.rel & spec.extra) if spec.extra else None
    closure = Closure(sizes, pc, local[plain.src], local[plain.dst], via)
    rw = inside.select(RW)
    rc = comp_of[rw.src]
    closed = closure.closed[rc]
    hit = np.zeros(len(rc), bool)
    hit[closed] = closure.reaches(rc[closed], local[rw.dst[closed]], local[rw.src[closed]])
    return Anchors(
        rc[hit],
        rw.src[hit],
        rw.dst[hit],
        set(np.flatnonzero(~closure.closed).tolist()),
        promising=promising,
    )


def _composites(
    graph: DependencyGraph, mask: int
) -> tuple[DependencyGraph, np.ndarray, np.ndarray, np.ndarray]:
    """The non-rw edges (relations in mask) and, for each non-rw edge x -> y followed by
    an rw edge y -> z, the pair (x, z) with the first edge's index (Cerone & Gotsman's
    extension of a dependency graph by one anti-dependency)."""
    plain = graph.select(mask & ~RW)
    rw = graph.select(RW)
    order = np.argsort(rw.src, kind="stable")
    rs, rd = rw.src[order], rw.dst[order]
    lo = np.searchsorted(rs, plain.dst, "left")
    hi = np.searchsorted(rs, plain.dst, "right")
    counts = hi - lo
    first = np.repeat(np.arange(len(plain.src)), counts)
    starts = np.repeat(lo, counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    return plain, plain.src[first], rd[starts], first


def extension_labels(inside: DependencyGraph, mask: int, cache: LabelCache):
    """The composites of mask and the SCC labels of the extension graph they make."""
    hit = cache.get((mask, True))
    if hit is None:
        plain, xs, zs, first = _composites(inside, mask)
        src = np.concatenate([plain.src, xs])
        dst = np.concatenate([plain.dst, zs])
        lab = DependencyGraph(inside.n, src, dst, np.ones(len(src), np.int8)).scc_labels()
        hit = cache[(mask, True)] = (plain, xs, zs, first, lab)
    return hit


def _nonadjacent_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    spec,
    cache: LabelCache,
    promising: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Anchors:
    """Components with a closed walk whose rw steps are non-adjacent: a cycle of the
    extension graph through a composite edge (with an extra step somewhere on it when
    the spec needs one, possibly inside a composite edge). Anchors: the rw edges of
    the composites on such cycles."""
    plain, xs, zs, first, lab = extension_labels(inside, spec.allowed, cache)
    internal = lab[xs] == lab[zs]
    if spec.extra:
        has_x = (plain.rel & spec.extra) != 0
        plain_in = lab[plain.src] == lab[plain.dst]
        with_x = np.concatenate(
            [lab[plain.src[plain_in & has_x]], lab[xs[internal & has_x[first]]]]
        )
        internal &= np.isin(lab[xs], np.unique(with_x))
    ys = plain.dst[first[internal]]
    return Anchors(comp_of[ys], ys, zs[internal], promising=promising)
