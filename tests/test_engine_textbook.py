"""Textbook reproductions, as the shrinker found them (table-driven regression tests).

Each row is a tiny, fully determined engine run: level (and bug), sessions,
the scheduler's picks (then one session at a time), which transactions roll
back, and the transactions. The run must show the anomaly under the model;
and no interleaving of the same transactions may show anything under the
serializable levels.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mvcc_check.engine.scheduler import run_engine
from mvcc_check.lab.engine_runs import check_ops
from mvcc_check.workload import WorkloadSpec

A, R = "append", "r"
CASES = [
    # level, bug, model, anomaly, sessions, picks, rollbacks, transactions
    ("snapshot-isolation", None, "serializable", "G2-item", 2, [0, 1], [],
     [[[A, 1, 1], [R, 2, None]], [[R, 1, None], [A, 2, 1]]]),
    ("serializable", "skip-dangerous-structure", "serializable", "G2-item", 2, [0, 1], [],
     [[[A, 1, 1], [R, 2, None]], [[R, 1, None], [A, 2, 1]]]),
    ("snapshot-isolation", "skip-first-updater", "snapshot-isolation", "lost-update", 2, [0, 1],
     [], [[[R, 1, None], [A, 1, 1]], [[R, 1, None], [A, 1, 2]]]),
    ("repeatable-read", None, "snapshot-isolation", "lost-update", 2, [0, 1], [],
     [[[R, 1, None], [A, 1, 1]], [[R, 1, None], [A, 1, 2]]]),
    ("read-committed", None, "snapshot-isolation", "lost-update", 2, [0, 1, 1], [],
     [[[R, 1, None], [A, 1, 1]], [[R, 1, None], [A, 1, 2]]]),
    ("read-committed", None, "snapshot-isolation", "G-single-item", 3, [1, 1, 1, 0, 2, 2, 1], [],
     [[[A, 1, 1], [A, 2, 1]], [[R, 1, None]], [[R, 2, None], [A, 1, 2]]]),
    ("repeatable-read", None, "snapshot-isolation", "G-single-item", 2, [0, 1], [],
     [[[A, 1, 1], [A, 2, 1]], [[R, 2, None], [A, 1, 2]], [[R, 1, None]]]),
    ("read-committed", "read-aborted", "read-committed", "G1a", 2, [0, 1, 0, 1, 1], [1],
     [[[A, 1, 1], [R, 2, None]], [[A, 2, 1]]]),
    ("read-committed", "dirty-read", "read-committed", "G1a", 2, [1, 1], [0],
     [[[A, 1, 1]], [[R, 1, None]]]),
    ("read-uncommitted", None, "read-committed", "G1a", 2, [1, 1], [0],
     [[[A, 1, 1]], [[R, 1, None]]]),
    ("read-uncommitted", None, "read-committed", "G1b", 2, [1, 1], [],
     [[[A, 1, 1], [A, 1, 2]], [[R, 1, None]]]),
    ("serializable-2pl", "early-lock-release", "serializable", "G2-item", 3, [2, 2], [],
     [[[R, 1, None], [A, 2, 1]], [[A, 1, 1]], [[R, 2, None], [R, 1, None]]]),
    ("snapshot-isolation", "stale-snapshot", "snapshot-isolation", "G-single-item", 2,
     [0, 0, 0, 0, 0, 0, 1, 1, 1], [],
     [[[A, 1, 1]], [[R, 1, None], [A, 1, 2]], [[A, 2, 1]], [[R, 1, None]]]),
]  # fmt: skip


def run_case(level, bug, sessions, picks, rollbacks, txns):
    spec = WorkloadSpec(txns=len(txns), clients=sessions, keys=2)
    return run_engine(
        level,
        spec,
        txns=txns,
        bugs=(bug,) if bug else (),
        choices=picks,
        rollbacks=frozenset(rollbacks),
    )


@pytest.mark.parametrize(
    "level,bug,model,anomaly,sessions,picks,rollbacks,txns",
    CASES,
    ids=[f"{c[0]}{'+' + c[1] if c[1] else ''}:{c[3]}" for c in CASES],
)
def test_textbook_run_shows_the_anomaly(
    level, bug, model, anomaly, sessions, picks, rollbacks, txns
):
    run = run_case(level, bug, sessions, picks, rollbacks, txns)
    result = check_ops(run.ops, model, "list-append")
    assert result.valid is False
    assert anomaly in result.anomaly_types


@settings(max_examples=150, deadline=None)
@given(
    case=st.sampled_from(CASES),
    picks=st.lists(st.integers(0, 3), max_size=20),
    level=st.sampled_from(["serializable", "serializable-2pl"]),
)
def test_no_interleaving_of_the_textbook_transactions_breaks_serializable(case, picks, level):
    *_, sessions, _, rollbacks, txns = case
    run = run_case(level, None, sessions, picks, rollbacks, txns)
    result = check_ops(run.ops, "serializable", "list-append")
    assert set(result.anomaly_types) <= {"empty-transaction-graph"}, result.anomaly_types
