"""--shrink turns a large anomalous run into a textbook-sized one."""

from mvcc_check.engine.scheduler import run_engine
from mvcc_check.lab.engine_runs import Trial, check_ops, run_trial
from mvcc_check.lab.shrink_run import pick_target, shrink
from mvcc_check.workload import WorkloadSpec


def test_write_skew_of_1000_txns_shrinks_to_two_transactions():
    trial = Trial("snapshot-isolation", WorkloadSpec(txns=1000, clients=8, keys=6, seed=1))
    run, result = run_trial(trial, model="serializable")
    assert "G2-item" in result.anomaly_types
    sh = shrink(trial, run, "serializable", "G2-item")
    assert len(sh.txns) == 2
    assert sh.trial.spec.clients == 2
    assert "G2-item" in sh.result.anomaly_types
    # The small run replays from what Shrunk records, and is a real engine run.
    again = run_engine(
        sh.trial.level, sh.trial.spec, txns=sh.txns, rollbacks=sh.rollbacks, choices=sh.choices
    )
    assert again.ops == sh.run.ops
    assert "G2-item" in check_ops(again.ops, "serializable", "list-append").anomaly_types
    events = [ev for _, _, ev in sh.run.trace]
    assert events.count("begin") == 2 and events.count("commit (ok)") == 2


def test_aborted_read_bug_shrinks_small_and_keeps_needed_rollbacks():
    trial = Trial(
        "read-committed", WorkloadSpec(txns=600, clients=8, keys=6, seed=2), bug="read-aborted"
    )
    run, result = run_trial(trial)
    assert "G1a" in result.anomaly_types
    sh = shrink(trial, run, "read-committed", "G1a")
    assert len(sh.txns) <= 3
    assert sh.rollbacks  # G1a needs an aborted writer; here a voluntary rollback
    assert "G1a" in sh.result.anomaly_types


def test_pick_target_prefers_textbook_anomalies():
    assert pick_target(["G-single-item", "internal", "lost-update"]) == "lost-update"
    assert pick_target(["internal"]) == "internal"
    assert pick_target([]) is None


def test_read_uncommitted_g1a_shrinks_to_a_writer_that_rolls_back():
    trial = Trial("read-uncommitted", WorkloadSpec(txns=1000, clients=8, keys=6, seed=1))
    run, result = run_trial(trial, model="read-committed")
    assert "G1a" in result.anomaly_types
    sh = shrink(trial, run, "read-committed", "G1a")
    assert len(sh.txns) == 2 and len(sh.rollbacks) == 1
    assert "G1a" in sh.result.anomaly_types


def test_a_spent_budget_still_returns_a_real_smaller_run():
    trial = Trial(
        "snapshot-isolation", WorkloadSpec(txns=1000, clients=8, keys=8), bug="eager-vacuum"
    )
    run, result = run_trial(trial)
    target = pick_target(result.anomaly_types)
    sh = shrink(trial, run, "snapshot-isolation", target, max_checks=60)
    assert len(sh.txns) < 1000
    assert target in sh.result.anomaly_types  # the final, traced run still shows it
    assert sh.checks <= 60 + 400
