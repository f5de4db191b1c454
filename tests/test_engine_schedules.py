"""Hypothesis over the scheduler's choices: every interleaving of a few transactions."""

from hypothesis import find, given, settings
from hypothesis import strategies as st

from mvcc_check.engine.scheduler import run_engine
from mvcc_check.lab.engine_runs import check_ops
from mvcc_check.workload import WorkloadSpec

SKEW = [
    [["r", 1, None], ["r", 2, None], ["append", 1, 1]],
    [["r", 1, None], ["r", 2, None], ["append", 2, 1]],
]
LOST = [[["r", 3, None], ["append", 3, 1]], [["r", 3, None], ["append", 3, 2]]]
SPEC = WorkloadSpec(txns=2, clients=2, keys=2)
choices = st.lists(st.integers(0, 3), max_size=16)


def anomalies(level, txns, picks, model="serializable"):
    """Every anomaly type found (allowed by the model or not)."""
    run = run_engine(level, SPEC, txns=txns, choices=picks, rollback_rate=0)
    found = set(check_ops(run.ops, model, "list-append").all_anomaly_types)
    return found - {"empty-transaction-graph"}


def test_hypothesis_finds_and_shrinks_write_skew_under_snapshot_isolation():
    picks = find(choices, lambda c: "G2-item" in anomalies("snapshot-isolation", SKEW, c))
    # Minimal: both begin and read before either writes; the rest runs in order.
    assert "G2-item" in anomalies("snapshot-isolation", SKEW, picks)
    assert len(picks) <= 8


def test_hypothesis_finds_lost_update_under_mysql_repeatable_read():
    picks = find(
        choices, lambda c: "lost-update" in anomalies("repeatable-read", LOST, c, "read-committed")
    )
    assert len(picks) <= 8


@settings(max_examples=200, deadline=None)
@given(picks=choices, txns=st.sampled_from([SKEW, LOST, SKEW + LOST]), clients=st.integers(2, 4))
def test_no_interleaving_breaks_the_serializable_levels(picks, txns, clients):
    spec = WorkloadSpec(txns=len(txns), clients=clients, keys=2)
    for level in ("serializable", "serializable-2pl"):
        run = run_engine(level, spec, txns=txns, choices=picks, rollback_rate=0)
        result = check_ops(run.ops, "serializable", "list-append")
        assert set(result.all_anomaly_types) <= {"empty-transaction-graph"}, (
            level,
            result.anomaly_types,
        )


@settings(max_examples=200, deadline=None)
@given(picks=choices)
def test_no_interleaving_loses_an_update_under_snapshot_isolation(picks):
    assert not anomalies("snapshot-isolation", LOST, picks, "snapshot-isolation")
