"""Cycle-search internals: the bitset closure agrees with plain graph search, and the
work budget never makes a longer cycle pass for the shortest."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mvcc_check.analysis.search import closure as reach
from mvcc_check.analysis.search.closure import Closure


@st.composite
def graph_sets(draw):
    """A few small graphs; some edges marked."""
    sizes = draw(st.lists(st.integers(1, 140), min_size=1, max_size=5))
    edges = []
    for g, n in enumerate(sizes):
        m = draw(st.integers(0, 3 * n))
        for _ in range(m):
            a = draw(st.integers(0, n - 1))
            b = draw(st.integers(0, n - 1))
            edges.append((g, a, b, draw(st.booleans())))
    return sizes, edges


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


@settings(max_examples=60, deadline=None)
@given(graph_sets(), st.booleans())
def test_closure_matches_networkx(gs, with_via):
    sizes, edges = gs
    arr = np.array([e[:3] for e in edges], np.int64).reshape(-1, 3)
    via = np.flatnonzero([e[3] for e in edges]) if with_via else None
    c = Closure(np.array(sizes), arr[:, 0], arr[:, 1], arr[:, 2], via)
    qg, qa, qb, want = [], [], [], []
    for g, n in enumerate(sizes):
        pairs = _reachable(n, [(a, b, m) for gg, a, b, m in edges if gg == g], with_via)
        for a in range(n):
            for b in range(n):
                qg.append(g)
                qa.append(a)
                qb.append(b)
                want.append((a, b) in pairs)
    assert c.reaches(np.array(qg), np.array(qa), np.array(qb)).tolist() == want


def test_large_graphs_are_left_to_the_caller(monkeypatch):
    monkeypatch.setattr(reach, "MAX_NODES", 4)
    c = Closure(np.array([3, 5]), np.array([0, 1]), np.array([0, 0]), np.array([1, 1]))
    assert c.closed.tolist() == [True, False]
    assert c.reaches(np.array([0]), np.array([0]), np.array([1])).tolist() == [True]


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
