"""Histories produced by a serial execution, or by a concurrent one whose results
come from a serial order that respects real time, are valid (property tests)."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st
from tinydb import (
    FAST,
    REGISTER_SOURCES,
    WORKLOADS,
    Planned,
    concurrent_history,
    plans,
    serial_history,
    verdict_is_valid,
)


@FAST
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(),
    procs=st.lists(st.integers(0, 3), min_size=10, max_size=10),
)
def test_serial_execution_is_strict_serializable(workload, txns, procs):
    text = serial_history(workload, txns, procs)
    verdict_is_valid(text, "strict-serializable")
    verdict_is_valid(text, "strong-session-serializable")
    if workload == "rw-register":
        # A serial execution satisfies every version-order assumption Elle offers.
        for sources in REGISTER_SOURCES[1:]:
            verdict_is_valid(text, "strict-serializable", **sources)


@FAST
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=14),
    slots=st.integers(1, 4),
    seed=st.integers(0, 2**32),
)
def test_concurrent_serializable_execution_is_valid(workload, txns, slots, seed):
    text = concurrent_history(workload, txns, slots, seed)
    verdict_is_valid(text, "serializable")
    # The serial order is each transaction's moment of effect, inside its
    # invocation-completion interval: it respects real time too.
    verdict_is_valid(text, "strict-serializable")
    if workload == "rw-register":
        # Writes after reads follow them, each process sees versions in order,
        # and each key is linearizable: every version source holds.
        for sources in REGISTER_SOURCES[1:]:
            verdict_is_valid(text, "strict-serializable", **sources)


def test_generators_do_overlap_transactions():
    """Guard against a scheduler that never interleaves (the property would be vacuous)."""
    txns = [Planned([("w", 0), ("r", 1)]) for _ in range(12)]
    text = concurrent_history("list-append", txns, 3, seed=7)
    open_count = 0
    max_open = 0
    for line in text.splitlines():
        op = orjson.loads(line)
        open_count += 1 if op["type"] == "invoke" else -1
        max_open = max(max_open, open_count)
    assert max_open >= 2
