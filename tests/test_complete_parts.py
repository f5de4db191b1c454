"""Parts of the complete search held to plain definitions: the restricted cycle
check against a whole-graph one, the snapshot graph against its rule (no two
adjacent rw edges), and the search against brute force over orientations."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from mvcc_check.analysis.complete.modelgraph import FAMILY, cyclic_nodes, encode
from mvcc_check.analysis.complete.verify import cycle_nodes
from mvcc_check.analysis.graph import DATA, RW, WR, WW


def _random_graph(rng: random.Random, n: int, m: int):
    src = np.array([rng.randrange(n) for _ in range(m)], np.int64)
    dst = np.array([rng.randrange(n) for _ in range(m)], np.int64)
    keep = src != dst
    rel = np.array([rng.choice([WW, WR, RW, WW | RW]) for _ in range(m)], np.int8)
    return src[keep], dst[keep], rel[keep]


@pytest.mark.parametrize("model", ["PL-3", "PL-SI"])
def test_restricted_cycle_check_finds_what_the_whole_graph_has(model):
    rng = random.Random(model)
    mg = FAMILY[model]
    for _ in range(300):
        n = rng.randint(2, 12)
        src, dst, rel = _random_graph(rng, n, rng.randint(1, 20))
        rank = np.array(rng.sample(range(3 * n), n), np.int64)
        half = len(src) // 2
        parts = [(src[:half], dst[:half], rel[:half]), (src[half:], dst[half:], rel[half:])]
        whole = encode(mg, n, src, dst, rel)
        expected = cyclic_nodes(whole.size, whole.src, whole.dst)
        got = cycle_nodes(mg, n, rank, parts)
        assert sorted(got.tolist()) == sorted(expected.tolist())


def _simple_cycles(n, edges):
    """Every simple cycle of a small multigraph, as lists of relations."""
    out = []
    for length in range(2, n + 1):
        for nodes in itertools.permutations(range(n), length):
            if nodes[0] != min(nodes):
                continue
            steps = [
                [r for a, b, r in edges if a == nodes[i] and b == nodes[(i + 1) % length]]
                for i in range(length)
            ]
            if all(steps):
                out.extend(list(p) for p in itertools.product(*steps))
    return out


def test_the_snapshot_graph_has_a_cycle_exactly_when_a_cycle_has_no_adjacent_rw():
    rng = random.Random(1)
    mg = FAMILY["PL-SI"]
    for _ in range(300):
        n = rng.randint(2, 5)
        src, dst, rel = _random_graph(rng, n, rng.randint(1, 8))
        single = [
            (a, b, r)
            for a, b, rr in zip(src.tolist(), dst.tolist(), rel.tolist(), strict=True)
            for r in (WW, WR, RW)
            if rr & r
        ]
        forbidden = any(
            any(r != RW for r in c)
            and not any(c[i] == RW == c[(i + 1) % len(c)] for i in range(len(c)))
            for c in _simple_cycles(n, single)
        )
        enc = encode(mg, n, src, dst, rel & DATA)
        assert bool(len(cyclic_nodes(enc.size, enc.src, enc.dst))) == forbidden
