"""Differential checks of the cycle search: the exact and the exhaustive search agree,
and the forked two-process search agrees with one process (property tests)."""

from __future__ import annotations

import orjson
from histgen import check_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinydb import (
    FAULTS,
    WORKLOADS,
    concurrent_history,
    plans,
)

# -- the two cycle searches agree --------------------------------------------------
#
# Small components are searched exhaustively from every candidate edge; larger
# ones by exact existence tests (component and reachability arguments) and
# iterative deepening from the anchors those tests yield. Forcing each path on
# the same histories must give the same anomalies and the same cycle lengths.


def _threshold_name() -> str:
    from mvcc_check.analysis.search import shortest as cycles

    names = [
        n for n in dir(cycles) if n.endswith("_COMPONENT") and isinstance(getattr(cycles, n), int)
    ]
    assert len(names) == 1, (
        f"expected one small-component threshold in search/shortest.py, found {names}: update this test"
    )
    return names[0]


def _summary(r) -> dict[str, list[int]]:
    """Cycle lengths by type. Not for the -realtime types: realtime order is stored as a
    transitive reduction and a found cycle is then shortened (`shortcut_realtime`), so
    two searches may end on cycles of different lengths, both real (hypothesis found
    one: a 3-step and a 2-step G-single-item-realtime in one component)."""
    return {
        name: sorted(
            len(item["steps"]) for item in items if isinstance(item, dict) and "steps" in item
        )
        for name, items in r.anomalies.items()
        if isinstance(items, list) and not name.endswith("-realtime")
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=24, keys=(0, 1, 2)),
    slots=st.integers(2, 5),
    seed=st.integers(0, 2**32),
    model=st.sampled_from(["strict-serializable", "strong-session-serializable", "serializable"]),
    faulty=FAULTS,
)
def test_exact_and_exhaustive_cycle_searches_agree(workload, txns, slots, seed, model, faulty):
    """Two ways to one answer: exhaustive search of every component, and existence
    from the whole-graph passes (G-single by pruned reachability, G-nonadjacent by the
    two-layer graph) handing anchors to the bounded search. Same anomalies, same
    shortest cycle lengths."""
    from mvcc_check.analysis.search import shortest as cycles

    name = _threshold_name()
    saved = getattr(cycles, name)
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    try:
        setattr(cycles, name, 10**9)
        exhaustive = check_text(text, model)
        setattr(cycles, name, 0)
        whole_graph = check_text(text, model)
    finally:
        setattr(cycles, name, saved)
    assert whole_graph.anomaly_types == exhaustive.anomaly_types
    assert _summary(whole_graph) == _summary(exhaustive)


# -- the two-process component search gives the same answer ----------------------------


def side_by_side(a: str, b: str) -> str:
    """Two histories run one after the other on disjoint keys and processes."""
    ops = [orjson.loads(line) for line in a.splitlines()]
    for line in b.splitlines():
        op = orjson.loads(line)
        op["process"] += 1000
        op["value"] = [[f, ("b", k), v] for f, k, v in op["value"]]
        ops.append(op)
    for i, op in enumerate(ops):
        op["index"] = i
    return "\n".join(orjson.dumps(op).decode() for op in ops) + "\n"


TWO_HISTORIES = {
    "workload": st.sampled_from(WORKLOADS),
    "txns": plans(max_txns=12, keys=(0, 1)),
    "more": plans(max_txns=12, keys=(0, 1)),
    "seed": st.integers(0, 2**32),
    "model": st.sampled_from(["serializable", "strict-serializable"]),
    "faulty": FAULTS,
}


def same_with(module, name: str, value, workload, txns, more, seed, model, faulty) -> None:
    """Two histories side by side are checked as they are and with module.name set to
    value: the same JSON and the same stats."""
    text = side_by_side(
        concurrent_history(workload, txns, 3, seed, faulty=faulty),
        concurrent_history(workload, more, 3, seed + 1, faulty=faulty),
    )
    plain = check_text(text, model)
    saved = getattr(module, name)
    try:
        setattr(module, name, value)
        forced = check_text(text, model)
    finally:
        setattr(module, name, saved)
    assert orjson.dumps(forced.to_json(), option=orjson.OPT_NON_STR_KEYS) == orjson.dumps(
        plain.to_json(), option=orjson.OPT_NON_STR_KEYS
    )
    assert forced.stats == plain.stats


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**TWO_HISTORIES)
def test_forked_component_search_agrees(workload, txns, more, seed, model, faulty):
    """Big histories split the component searches over two processes; force that path."""
    from mvcc_check.analysis.search import parallel

    same_with(parallel, "PARALLEL_MIN_EDGES", 0, workload, txns, more, seed, model, faulty)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**TWO_HISTORIES, block=st.sampled_from([1, 3, 8]))
def test_component_search_in_blocks_agrees(workload, txns, more, seed, model, faulty, block):
    """Components are searched in blocks of about BLOCK_EDGES edges, each numbered
    apart; any block size gives the whole-share answer (the default puts these small
    histories in one block)."""
    from mvcc_check.analysis.search import find

    same_with(find, "BLOCK_EDGES", block, workload, txns, more, seed, model, faulty)
