"""The C edge passes (`analysis/_edges.c`): coalescing against a dictionary (unique pairs in
(source, target) order, relation bits OR-ed, self-loops dropped), grouping by component."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mvcc_check.analysis._edges import coalesce, group

from mvcc_check.analysis.graph import DependencyGraph


@st.composite
def edge_lists(draw):
    n = draw(st.integers(1, 40))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.integers(1, 31)), max_size=300))
    return n, edges


@settings(max_examples=300, deadline=None)
@given(edge_lists())
def test_coalesce_matches_a_dictionary(case) -> None:
    n, edges = case
    want: dict[tuple[int, int], int] = {}
    for a, b, r in edges:
        if a != b:
            want[(a, b)] = want.get((a, b), 0) | r
    src = np.array([e[0] for e in edges], np.int64)
    dst = np.array([e[1] for e in edges], np.int64)
    rel = np.array([e[2] for e in edges], np.int8)
    g = DependencyGraph.from_arrays(n, src, dst, rel)
    got = list(zip(g.src.tolist(), g.dst.tolist(), g.rel.tolist(), strict=True))
    assert got == [(a, b, r) for (a, b), r in sorted(want.items())]


def test_long_buckets_are_sorted_too() -> None:
    """A node with many targets (past the insertion sort's cut-off), in reverse order."""
    dst = np.arange(500, 0, -1, dtype=np.int64)
    g = DependencyGraph.from_arrays(
        501, np.zeros(500, np.int64), np.concatenate([dst[:250], dst[:250]]), np.ones(500, np.int8)
    )
    assert g.dst.tolist() == list(range(251, 501)) and (g.src == 0).all()


def test_parts_are_coalesced_together() -> None:
    """The same edge in two parts is one edge, its bits OR-ed; parts may be empty."""
    a = (np.array([0, 1], np.int64), np.array([1, 2], np.int64), np.array([1, 2], np.int8))
    b = (np.array([0], np.int64), np.array([1], np.int64), np.array([4], np.int8))
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))
    g = DependencyGraph.from_parts(3, [a, empty, b])
    assert list(zip(g.src.tolist(), g.dst.tolist(), g.rel.tolist(), strict=True)) == [
        (0, 1, 5),
        (1, 2, 2),
    ]


@pytest.mark.parametrize("n", [2, 3, 1000, 300_000])
def test_big_graphs_coalesced_on_two_threads_match_numpy(n) -> None:
    """From 2**20 edges the work is split at the middle node over two threads; the
    result is numpy's unique pairs with OR-ed bits, whatever the halves hold (all
    edges on one side with n = 2 and 3, repeats across parts)."""
    rng = np.random.default_rng(n)
    m = (1 << 20) + 5
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    rel = rng.integers(1, 32, m).astype(np.int8)
    parts = [
        (src[: m // 3], dst[: m // 3], rel[: m // 3]),
        (src[m // 3 :], dst[m // 3 :], rel[m // 3 :]),
    ]
    g = DependencyGraph.from_parts(n, parts)
    keep = src != dst
    key = src[keep] * n + dst[keep]
    uniq, inv = np.unique(key, return_inverse=True)
    bits = np.zeros(len(uniq), np.int64)
    np.bitwise_or.at(bits, inv, rel[keep].astype(np.int64))
    assert np.array_equal(g.src, uniq // n) and np.array_equal(g.dst, uniq % n)
    assert np.array_equal(g.rel.astype(np.int64), bits)


def test_bad_arrays_are_refused() -> None:
    out = np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1, np.int8)
    one, rel = np.array([5], np.int64), np.array([1], np.int8)
    with pytest.raises(ValueError, match="out of range"):
        coalesce(3, [(one, np.array([0], np.int64), rel)], *out)
    with pytest.raises(ValueError, match="lengths"):
        coalesce(9, [(one, np.array([0, 1], np.int64), rel)], *out)
    with pytest.raises(TypeError, match="4-byte items, expected 8"):
        coalesce(9, [(one.astype(np.int32), one, rel)], *out)
    with pytest.raises(ValueError, match="shorter"):
        coalesce(9, [(one, one, rel), (one, one, rel)], *out)
    with pytest.raises(ValueError, match="part is"):
        coalesce(9, [(one, one)], *out)


@settings(max_examples=200, deadline=None)
@given(edge_lists(), st.data())
def test_group_keeps_the_edges_inside_components_in_order(case, data) -> None:
    """`group` against the numpy it replaced: the edges with both ends in one component,
    grouped by component, in input order within each, renumbered compactly."""
    n, edges = case
    comps = data.draw(st.integers(0, 5))
    comp_of = np.array(data.draw(st.lists(st.integers(-1, comps - 1), min_size=n, max_size=n)))
    comp_of = comp_of.astype(np.int64)
    compact = np.where(comp_of >= 0, np.arange(n) + 100, -1).astype(np.int64)
    src = np.array([e[0] for e in edges], np.int64)
    dst = np.array([e[1] for e in edges], np.int64)
    rel = np.array([e[2] for e in edges], np.int8)
    m = len(src)
    out = [np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int8)]
    edge_comp, bounds = np.empty(m, np.int64), np.empty(comps + 1, np.int64)
    count = group(comp_of, compact, src, dst, rel, comps, *out, edge_comp, bounds)
    ls, ld = comp_of[src], comp_of[dst]
    inside = np.flatnonzero((ls == ld) & (ls >= 0))
    order = inside[np.argsort(ls[inside], kind="stable")]
    assert count == len(order)
    assert out[0][:count].tolist() == compact[src[order]].tolist()
    assert out[1][:count].tolist() == compact[dst[order]].tolist()
    assert out[2][:count].tolist() == rel[order].tolist()
    assert edge_comp[:count].tolist() == ls[order].tolist()
    assert bounds.tolist() == np.searchsorted(ls[order], np.arange(comps + 1)).tolist()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_realtime_frontier_matches_binary_searches(data) -> None:
    """`_edges.realtime` (galloping searches from the previous answer) gives the edges the
    numpy binary searches gave, on sorted invocation rows and any completion rows."""
    from mvcc_check.analysis._edges import realtime

    nk = data.draw(st.integers(0, 200))
    k_inv = np.sort(np.array(data.draw(st.lists(st.integers(0, 500), min_size=nk, max_size=nk))))
    k_inv = np.unique(k_inv).astype(np.int64)
    k_ids = np.arange(len(k_inv), dtype=np.int64) * 3
    done = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(k_inv) - 1, 0))))), np.int64)
    done = done[done < len(k_inv)]
    d_ids, d_inv = k_ids[done], k_inv[done]
    d_at = np.array([int(i) + data.draw(st.integers(1, 300)) for i in d_inv], np.int64)
    d_at = d_at.reshape(-1)
    first_after = np.r_[np.minimum.accumulate(d_at[::-1])[::-1], np.iinfo(np.int64).max]
    first_after = first_after.astype(np.int64)
    until = first_after[np.searchsorted(d_inv, d_at, side="right")]
    lo = np.searchsorted(k_inv, d_at, side="right")
    hi = np.searchsorted(k_inv, until, side="right")
    want = [(int(a), int(b)) for i, a in enumerate(d_ids) for b in k_ids[lo[i] : hi[i]]]
    args = (k_ids, k_inv, d_ids, d_inv, d_at, first_after)
    total = realtime(*args, None, None)
    src, dst = np.empty(total, np.int64), np.empty(total, np.int64)
    assert realtime(*args, src, dst) == total == len(want)
    assert list(zip(src.tolist(), dst.tolist(), strict=True)) == want
