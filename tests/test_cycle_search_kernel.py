"""The C breadth-first search of the cycle finder against a plain Python one:
the same path (or none) and the same work count, on random components, for
every cycle type, with and without a depth limit and a Tarjan floor."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mvcc_check.analysis.graph import PROCESS, REALTIME
from mvcc_check.analysis.search.shortest import Component, CycleFinder
from mvcc_check.analysis.search.specs import cycle_specs

SPECS = cycle_specs(REALTIME) + cycle_specs(PROCESS)[5:]


def reference_bfs(spec, out, u, v, limit, order=None):
    """(steps or None, work): the search as it was written in Python."""
    table, accepting = spec.table, spec.accepting
    start = v * 16 + spec.start_state()
    parent = {start: (-1, 0)}
    frontier = [start]
    depth = work = 0
    floor = order[u] if order is not None else None
    while frontier:
        depth += 1
        if limit is not None and depth > limit:
            return None, work
        work += len(frontier)
        nxt = []
        for key in frontier:
            base = (key & 15) * 32
            for b, r in out[key >> 4]:
                if floor is not None and order[b] < floor:
                    continue
                for bit in (1, 2, 4, 8, 16):
                    if not r & spec.allowed & bit:
                        continue
                    q2 = table[base + bit]
                    if q2 < 0 or b * 16 + q2 in parent:
                        continue
                    k2 = b * 16 + q2
                    parent[k2] = (key, bit)
                    if b == u and accepting[q2]:
                        steps = []
                        while parent[k2][0] >= 0:
                            prev, bit2 = parent[k2]
                            steps.append((prev >> 4, k2 >> 4, bit2))
                            k2 = prev
                        return steps[::-1], work
                    nxt.append(k2)
        frontier = nxt
    return None, work


@st.composite
def components(draw):
    n = draw(st.integers(2, 9))
    pairs = draw(
        st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=30)
    )
    edges = sorted((a, b, draw(st.integers(1, 31))) for a, b in pairs if a != b)
    if not edges:
        edges = [(0, 1, 1)]
    src, dst, rel = (list(x) for x in zip(*edges, strict=True))
    return Component(list(range(n)), src, dst, rel)


@settings(max_examples=300, deadline=None)
@given(
    comp=components(),
    spec=st.sampled_from(SPECS),
    data=st.data(),
)
def test_c_search_matches_python(comp, spec, data) -> None:
    n = comp.n
    u, v = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    limit = data.draw(st.one_of(st.none(), st.integers(0, 6)))
    order = data.draw(st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    finder = CycleFinder(comp)
    for _ in range(2):  # twice: scratch space reused across calls
        finder.work = 0
        got = finder._bfs(spec, u, v, limit, order)
        assert (got, finder.work) == reference_bfs(spec, comp.out, u, v, limit, order)


def reference_deepen(finder, spec, anchors):
    """The iterative deepening as CycleFinder.shortest wrote it in Python."""
    limit = 1
    while finder.work <= finder.budget and limit < finder.c.n * 16:
        for j, (u, v) in enumerate(anchors):
            path = finder._bfs(spec, u, v, limit)
            if path is not None:
                return j, path, limit
            if finder.work > finder.budget:
                break
        limit += 1
    return -1, None, limit


@settings(max_examples=300, deadline=None)
@given(
    comp=components(),
    spec=st.sampled_from(SPECS),
    budget=st.one_of(st.none(), st.integers(0, 40)),
    data=st.data(),
)
def test_c_deepening_matches_python(comp, spec, budget, data) -> None:
    """The C loop over limits and anchors finds the same anchor, path and limit, does
    the same work, and leaves the stamps usable (a second round agrees too)."""
    n = comp.n
    node = st.integers(0, n - 1)
    anchors = data.draw(st.lists(st.tuples(node, node), min_size=1, max_size=5))
    mine, theirs = CycleFinder(comp, budget=budget), CycleFinder(comp, budget=budget)
    for _ in range(2):
        mine.work = theirs.work = 0
        assert mine._deepen(spec, anchors) == reference_deepen(theirs, spec, anchors)
        assert mine.work == theirs.work


def reference_exhaustive(finder, spec):
    """CycleFinder._exhaustive as it was written in Python (over the C single search)."""
    best = None
    for u in range(finder.c.n):
        for v, r in finder.c.out[u]:
            if not r & spec.anchor:
                continue
            limit = None if best is None else len(best) - 2
            if limit is not None and limit < 1:
                return best
            path = finder._bfs(spec, u, v, limit)
            if path is not None and (best is None or len(path) + 1 < len(best)):
                best = [(u, v, spec.anchor), *path]
    return best


@settings(max_examples=300, deadline=None)
@given(comp=components(), spec=st.sampled_from(SPECS))
def test_c_exhaustive_matches_python(comp, spec) -> None:
    """The C loop over a tiny component's anchor edges finds the same cycle (the
    first of the shortest), with the same work; twice, the scratch space reused."""
    mine, theirs = CycleFinder(comp), CycleFinder(comp)
    for _ in range(2):
        mine.work = theirs.work = 0
        assert mine._exhaustive(spec) == reference_exhaustive(theirs, spec)
        assert mine.work == theirs.work
