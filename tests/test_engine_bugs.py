"""Every deliberate bug is caught by the checker at the default matrix sizes."""

import pytest

from mvcc_check.engine import BUG_NAMES, BUGS
from mvcc_check.engine.bugs import ALL_BUGS, bugs_for
from mvcc_check.lab.engine_runs import matrix_trials, run_matrix, run_trial


@pytest.mark.parametrize("bug", BUG_NAMES)
def test_every_bug_is_caught_in_every_matrix_seed(bug):
    trials = [(label, t) for label, t in matrix_trials(bugs=True) if t.bug == bug]
    assert len(trials) >= 3
    for _, trial in trials:
        _, result = run_trial(trial)
        assert result.valid is False, (bug, trial.spec.seed)
        assert set(result.anomaly_types) & set(BUGS[bug].expect), (bug, result.anomaly_types)


@pytest.mark.parametrize("bug", BUG_NAMES)
def test_same_level_without_the_bug_keeps_its_claim(bug):
    for _, trial in matrix_trials(seeds=2, levels=(BUGS[bug].level,)):
        _, result = run_trial(trial)
        assert result.valid is True, (bug, trial.level, result.anomaly_types)


def test_matrix_rows_claims_and_bug_rows():
    rows = run_matrix(matrix_trials(txns=150, seeds=2, bugs=True))
    plain = [r for r in rows if r.bug is None]
    buggy = [r for r in rows if r.bug is not None]
    assert len(plain) == 6 and len(buggy) == len(BUG_NAMES)
    assert all(r.claim_held for r in plain)
    assert not any(r.claim_held for r in buggy)
    si = next(r for r in plain if r.level == "snapshot-isolation")
    assert si.counts["G2-item"] >= 1 and si.runs == 2


def test_bug_applies_to_its_own_level_only_where_it_means_something():
    from mvcc_check.engine.bugs import bug_applies

    for b in BUGS.values():
        assert bug_applies(b.name, b.level)
    assert not bug_applies("skip-first-updater", "read-committed")
    assert bug_applies("skip-first-updater", "serializable")
    assert not bug_applies("early-lock-release", "serializable")
    assert not bug_applies("read-aborted", "read-uncommitted")
    assert bug_applies("read-aborted", "serializable-2pl")


def test_every_bug_breaks_a_mechanism_its_own_level_has():
    from mvcc_check.engine.bugs import bug_applies
    from mvcc_check.engine.levels import LEVELS

    known = set().union(*(lv.mechanisms for lv in LEVELS.values()))
    for b in ALL_BUGS.values():
        assert b.breaks in known, b.name
        assert bug_applies(b.name, b.level), b.name
    assert not bug_applies("skip-predicate-locks", "serializable")  # SSI, not 2PL
    assert not bug_applies("skip-predicate-siread", "serializable-2pl")


def test_each_workload_runs_the_bugs_its_histories_can_show():
    """The item matrix runs the item bugs; closed-predicate (each key changed once)
    leaves out first-updater-wins and early lock release, and adds its predicate bugs."""
    assert [b.name for b in bugs_for("list-append")] == list(BUG_NAMES)
    assert [b.name for b in bugs_for("rw-register")] == list(BUG_NAMES)
    predicate = {b.name for b in bugs_for("closed-predicate")}
    assert predicate == (set(BUG_NAMES) - {"skip-first-updater", "early-lock-release"}) | {
        "skip-predicate-locks",
        "skip-predicate-siread",
    }
