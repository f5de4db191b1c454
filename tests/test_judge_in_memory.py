"""judge(ops) gives the verdict `check` gives for the same ops saved as JSON Lines (the
recorder's file), without writing or parsing them: the same validation, the same
ignored ops, the same anomalies with the same quoted ops; and it leaves the
producer's ops as they were."""

from __future__ import annotations

import copy

import pytest

from mvcc_check import CheckOptions, check, judge, parse_history_text
from mvcc_check.engine.bugs import BUGS, bugs_for
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.errors import HistoryError
from mvcc_check.history.recorder import ops_jsonl
from mvcc_check.report.json_report import result_json
from mvcc_check.workload import WorkloadSpec


def _through_the_file(ops, options, source):
    return check(parse_history_text(ops_jsonl(ops), source=source, format="jsonl"), options)


def _same(a, b) -> None:
    assert result_json(a) == result_json(b)
    assert a.stats == b.stats
    assert a.all_anomaly_types == b.all_anomaly_types


RUNS = [(lv, None) for lv in ("read-uncommitted", "read-committed", "snapshot-isolation")] + [
    (b.level, b.name) for b in BUGS.values()
]


@pytest.mark.parametrize("workload", ["list-append", "rw-register"])
@pytest.mark.parametrize(("level", "bug"), RUNS)
def test_engine_runs_judged_in_memory_as_through_their_file(level, bug, workload):
    spec = WorkloadSpec(workload=workload, txns=200, clients=5, keys=4, seed=2)
    run = run_engine(level, spec, bugs=(bug,) if bug else (), crash_rate=0.05)
    before = copy.deepcopy(run.ops)
    options = CheckOptions(models=("strict-serializable",), workload=workload)
    _same(judge(run.ops, options, "<run>"), _through_the_file(run.ops, options, "<run>"))
    assert run.ops == before  # the producer's ops are not changed


PREDICATE_RUNS = [(lv, None) for lv in ("read-committed", "snapshot-isolation")] + [
    (b.level, b.name) for b in bugs_for("closed-predicate")
]


@pytest.mark.parametrize(("level", "bug"), PREDICATE_RUNS)
def test_closed_predicate_runs_judged_in_memory_as_through_their_file(level, bug):
    """The init op, inserts, deletes and predicate reads (with their row maps) too."""
    spec = WorkloadSpec(workload="closed-predicate", txns=150, clients=5, keys=4, seed=3)
    run = run_engine(level, spec, bugs=(bug,) if bug else (), crash_rate=0.05)
    assert run.ops[0]["f"] == "init"
    before = copy.deepcopy(run.ops)
    options = CheckOptions(models=("serializable",), workload="closed-predicate")
    in_memory = judge(run.ops, options, "<run>")
    _same(in_memory, _through_the_file(run.ops, options, "<run>"))
    assert run.ops == before
    if bug in ("skip-predicate-locks", "skip-predicate-siread"):
        assert in_memory.anomaly_types  # the judged run is not vacuous


def test_ignored_ops_and_tuples_are_read_as_from_the_file():
    ops = [
        {"type": "invoke", "process": 0, "f": "txn", "value": [("append", 1, 1)], "index": 0},
        {"type": "info", "process": "nemesis", "f": "kill", "value": {"node": 1}, "index": 1},
        {"type": "ok", "process": 0, "f": "txn", "value": [("append", 1, 1)], "index": 2},
        {"type": "info", "process": "1", "f": "txn", "value": [["r", 1, None]], "index": 3},
        {"type": "invoke", "process": 1, "f": "txn", "value": [["r", 1, None]], "index": 4},
        {"type": "ok", "process": 1, "f": "txn", "value": [["r", 1, (1,)]], "index": 5},
    ]
    options = CheckOptions(models=("serializable",))
    got = judge(ops, options, "<mem>")
    _same(got, _through_the_file(ops, options, "<mem>"))
    assert got.stats["ignored"] == 2 and got.stats["ignored-client-like"] == "line 4"


def test_bad_ops_are_refused_naming_the_line_the_file_would_have():
    ops = [{"type": "ok", "process": 0, "value": [["x", 1, 1]]}]
    with pytest.raises(HistoryError, match="<mem>: line 1: micro-op 0 has unknown kind"):
        judge(ops, source="<mem>")
