"""The C strongly-connected-components pass (`analysis/_scc.c`) against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mvcc_check.analysis._scc import scc

from mvcc_check.analysis.graph import scc_labels


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 30))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=90))
    return n, edges


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_components_and_their_order_match_networkx(g) -> None:
    """Same partition as networkx, and labels a reverse topological order: every edge
    a -> b has label[a] >= label[b], equal exactly within a component."""
    n, edges = g
    src = np.array([a for a, _ in edges], np.int64)
    dst = np.array([b for _, b in edges], np.int64)
    labels = scc_labels(n, src, dst)
    ref = nx.DiGraph()
    ref.add_nodes_from(range(n))
    ref.add_edges_from(edges)
    expected = {frozenset(c) for c in nx.strongly_connected_components(ref)}
    got: dict[int, set[int]] = {}
    for node, label in enumerate(labels.tolist()):
        got.setdefault(label, set()).add(node)
    assert {frozenset(c) for c in got.values()} == expected
    assert sorted(got) == list(range(len(expected)))  # numbered 0..k-1
    for a, b in edges:
        assert labels[a] >= labels[b]


def test_labels_depend_only_on_the_input() -> None:
    rng = np.random.default_rng(7)
    src, dst = rng.integers(0, 500, 2000), rng.integers(0, 500, 2000)
    assert (scc_labels(500, src, dst) == scc_labels(500, src.copy(), dst.copy())).all()


def test_bad_arguments_are_refused_not_read_past() -> None:
    out = np.empty(3, np.int64)
    with pytest.raises(ValueError, match="out of range"):
        scc(3, np.array([0, 3]), np.array([1, 1]), out)
    with pytest.raises(ValueError, match="out of range"):
        scc(3, np.array([0, -1]), np.array([1, 1]), out)
    with pytest.raises(ValueError, match="one length"):
        scc(3, np.array([0, 1]), np.array([1]), out)
    with pytest.raises(ValueError, match="one length"):
        scc(4, np.array([0]), np.array([1]), out)
    with pytest.raises(TypeError):
        scc(3, np.array([0], np.int32), np.array([1], np.int32), out)
