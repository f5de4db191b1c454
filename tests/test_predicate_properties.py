"""Properties of the closed-predicate workload: serial executions are valid; the engine's
serializable levels never show G2, snapshot isolation does, and the predicate bugs are caught."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.analysis.checker import Verdict
from mvcc_check.lab.engine_runs import Trial, run_trial
from mvcc_check.workload import WorkloadSpec

PREDICATES = st.one_of(
    st.just("true"),
    st.builds(lambda v: ["=", v], st.integers(0, 3)),
    st.builds(lambda m, r: ["mod", m, r % m], st.integers(1, 3), st.integers(0, 2)),
)


def _matches(p, v) -> bool:
    if p == "true":
        return True
    if p[0] == "=":
        return v == p[1]
    return v % p[1] == p[2]


@st.composite
def serial_histories(draw):
    """A history run one transaction at a time against a plain dict: each key changed
    at most once, every read answered from the state at that moment."""
    n_keys = draw(st.integers(1, 6))
    init = {k: draw(st.integers(0, 1)) for k in range(n_keys) if draw(st.booleans())}
    state = dict(init)
    todo = list(range(n_keys + draw(st.integers(0, 3))))
    ops, nxt, index = [], 10, 0

    def op(typ, proc, value, f="txn"):
        nonlocal index
        ops.append({"index": index, "type": typ, "process": proc, "f": f, "value": value})
        index += 1

    if init:
        value = {str(k): v for k, v in init.items()}
        op("invoke", 0, value, "init")
        op("ok", 0, value, "init")
    for _ in range(draw(st.integers(1, 8))):
        mops = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["r", "rp", "change"]))
            if kind == "r":
                k = draw(st.integers(0, len(todo) + n_keys))
                mops.append(["r", k, state.get(k)])
            elif kind == "rp":
                p = draw(PREDICATES)
                seen = {str(k): v for k, v in sorted(state.items()) if _matches(p, v)}
                mops.append(["rp", p, seen])
            elif todo:
                k = todo.pop(draw(st.integers(0, len(todo) - 1)))
                if k in state and draw(st.booleans()):
                    del state[k]
                    mops.append(["delete", k, None])
                else:
                    nxt += 1
                    state[k] = nxt
                    mops.append(["w" if k in init else "insert", k, nxt])
        proc = draw(st.integers(0, 2))
        op("invoke", proc, [[f, k, None if f in ("r", "rp") else v] for f, k, v in mops])
        op("ok", proc, mops)
    return ops


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(serial_histories())
def test_serial_executions_are_strict_serializable(ops):
    text = "".join(json.dumps(o) + "\n" for o in ops)
    r = check(
        parse_history_text(text, "serial", "jsonl"),
        CheckOptions(models=("strict-serializable",), workload="closed-predicate"),
    )
    assert r.verdict is not Verdict.INVALID, (r.anomaly_types, text)


def _trial(level: str, seed: int, bug: str | None = None, txns: int = 300):
    spec = WorkloadSpec(workload="closed-predicate", txns=txns, clients=8, keys=6, seed=seed)
    return run_trial(Trial(level, spec, bug))[1]


def test_serializable_levels_never_show_predicate_cycles():
    for level in ("serializable", "serializable-2pl"):
        for seed in range(4):
            r = _trial(level, seed)
            assert r.verdict is Verdict.VALID, (level, seed, r.anomaly_types)
            assert not {"G2", "G-single", "G-nonadjacent"} & set(r.all_anomaly_types)


def test_snapshot_isolation_shows_phantoms_and_keeps_its_claim():
    found = set()
    for seed in range(3):
        r = _trial("snapshot-isolation", seed)
        assert r.verdict is Verdict.VALID, (
            seed,
            r.anomaly_types,
        )  # G2 is allowed by snapshot isolation
        found |= set(r.all_anomaly_types)
    assert "G2" in found


def test_predicate_bugs_are_caught_within_a_few_seeds():
    for bug, level, every in (
        ("skip-predicate-locks", "serializable-2pl", True),
        ("skip-predicate-siread", "serializable", False),
    ):
        caught = [
            {"G2", "G-single", "G-nonadjacent"} & set(_trial(level, s, bug).anomaly_types)
            for s in range(5)
        ]
        assert all(caught) if every else any(caught), (bug, caught)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    level=st.sampled_from(["serializable", "serializable-2pl"]),
    seed=st.integers(0, 10_000),
    clients=st.integers(2, 10),
    mops=st.integers(1, 5),
)
def test_serializable_engine_runs_of_any_shape_are_serializable(level, seed, clients, mops):
    spec = WorkloadSpec(
        workload="closed-predicate", txns=120, clients=clients, keys=4, mops_per_txn=mops, seed=seed
    )
    r = run_trial(Trial(level, spec, crash_rate=0.02))[1]
    assert r.verdict is Verdict.VALID, (level, seed, r.anomaly_types)
