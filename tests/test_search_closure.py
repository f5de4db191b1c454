"""Cycle-search internals: the G-single reachability pass agrees with plain graph search, and the
work budget never makes a longer cycle pass for the shortest."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mvcc_check.analysis._scc import reach

from mvcc_check.analysis.graph import scc_labels


@st.composite
def marked_graphs(draw):
    """One small graph; some edges marked (bit 16), the others not (bit 1)."""
    n = draw(st.integers(1, 40))
    m = draw(st.integers(0, 3 * n))
    edges = [
        (draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)), draw(st.booleans()))
        for _ in range(m)
    ]
    return n, edges


def _reachable(n: int, edges: list[tuple[int, int, bool]], with_via: bool) -> set[tuple[int, int]]:
    """Reference: pairs (a, b) with a path of one or more edges from a to b (using at
    least one marked edge when with_via), by BFS over a two-layer graph: layer 1 is
    entered by a marked edge (or by any edge without with_via)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(2 * n))
    for x, y, marked in edges:
        g.add_edge(x + n, y + n)
        g.add_edge(x, y + n) if marked or not with_via else g.add_edge(x, y)
    return {(a, b - n) for a in range(n) for b in nx.descendants(g, a) if b >= n}


@settings(max_examples=200, deadline=None)
@given(marked_graphs(), st.booleans())
def test_reach_matches_networkx(g, with_via):
    """`_scc.reach`, pruned by the graph's component order, answers every pair as a
    plain search does (through a marked edge when asked)."""
    n, edges = g
    edges.sort(key=lambda e: e[0])  # CSR order
    src = np.array([a for a, _, _ in edges], np.int64)
    dst = np.array([b for _, b, _ in edges], np.int64)
    bits = np.array([16 if m else 1 for _, _, m in edges], np.uint8)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    order = scc_labels(n, src, dst)
    pairs = _reachable(n, edges, with_via)
    qu = np.array([u for u in range(n) for _ in range(n)], np.int64)  # does v reach u?
    qv = np.array([v for _ in range(n) for v in range(n)], np.int64)
    hit = np.zeros(len(qu), np.uint8)
    reach(indptr, dst, bits, order, qu, qv, 16 if with_via else 0, hit)
    want = [(v, u) in pairs for u, v in zip(qu.tolist(), qv.tolist(), strict=True)]
    assert hit.astype(bool).tolist() == want


def test_reach_refuses_inconsistent_arrays():
    one = np.zeros(1, np.int64)
    flag = np.zeros(1, np.uint8)
    with pytest.raises(ValueError, match="sizes"):
        reach(np.array([0, 2]), np.array([0]), flag, one, one, one, 0, flag.copy())
    with pytest.raises(ValueError, match="out of range"):
        reach(np.array([0, 1]), np.array([5]), flag, one, one, one, 0, flag.copy())


def test_a_cycle_found_after_the_work_budget_is_not_claimed_shortest():
    """Past the budget the search returns a witness through the first anchor and
    says how short a cycle it had ruled out; the report marks longer witnesses."""
    from mvcc_check.analysis.graph import WW
    from mvcc_check.analysis.search.shortest import Component, CycleFinder
    from mvcc_check.analysis.search.specs import cycle_specs

    g0 = cycle_specs(0)[0]
    src, dst = [0, 1, 2, 3, 4, 5], [1, 2, 3, 0, 5, 4]  # a 4-cycle and a 2-cycle, ww only
    comp = Component(
        list(range(100, 120)), src, dst, [WW] * 6
    )  # 20 nodes: past the exhaustive size
    anchors = [(0, 1), (4, 5)]
    roomy = CycleFinder(comp)
    assert len(roomy.shortest(g0, anchors)) == 2 and roomy.at_least == 0
    tight = CycleFinder(comp, budget=0)
    assert len(tight.shortest(g0, anchors)) == 4 and tight.at_least == 2


def test_text_report_says_when_a_cycle_is_only_a_witness():
    from mvcc_check.report.text import explain_cycle

    op = {"index": 1, "type": "ok", "process": 0, "value": [["append", 1, 1]]}
    other = {"index": 3, "type": "ok", "process": 1, "value": [["append", 1, 2]]}
    step = {"type": "ww", "key": 1, "value": 1, "value'": 2}
    record = {"type": "G0", "cycle": [op, other, op], "steps": [step, dict(step)]}
    assert not any("witness" in line for line in explain_cycle(record))
    record["shortest?"] = False
    assert "witness" in explain_cycle(record)[-1]


def test_scc_labels_survive_repeated_edges() -> None:
    """csgraph loops forever on a CSR with repeated entries; scc_labels must not hand it one."""
    import numpy as np

    from mvcc_check.analysis.graph import scc_labels

    labels = scc_labels(3, np.array([0, 1, 1, 2]), np.array([1, 2, 2, 2]))
    assert len(set(labels.tolist())) == 3
    labels = scc_labels(3, np.array([0, 1, 2]), np.array([1, 2, 0]))
    assert len(set(labels.tolist())) == 1
