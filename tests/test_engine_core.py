"""Textbook schedules driven step by step through the Engine API."""

import pytest

from mvcc_check.engine import BLOCKED, Abort, Engine, run_engine
from mvcc_check.history.recorder import HistoryRecorder
from mvcc_check.workload import WorkloadSpec


def committed(e, *mops):
    t = e.begin()
    for k, v in mops:
        assert e.write(t, k, v) is None
    e.commit(t)


def write_skew(level):
    """T1 and T2 both read x and y, then each appends to a different key."""
    e = Engine(level)
    committed(e, ("x", 0), ("y", 0))
    t1, t2 = e.begin(), e.begin()
    for t in (t1, t2):
        assert e.read(t, "x") == (0,)
        assert e.read(t, "y") == (0,)
    outcomes = {}
    for t, k in ((t1, "x"), (t2, "y")):
        try:
            e.write(t, k, 1)
        except Abort:
            outcomes[t.id] = "abort"
    for t in (t1, t2):
        if t.id not in outcomes:
            try:
                e.commit(t)
                outcomes[t.id] = "ok"
            except Abort:
                outcomes[t.id] = "abort"
    return [outcomes[t1.id], outcomes[t2.id]]


def test_snapshot_isolation_allows_write_skew():
    assert write_skew("snapshot-isolation") == ["ok", "ok"]


def test_serializable_aborts_write_skew():
    assert write_skew("serializable").count("abort") == 1


def test_serializable_bug_lets_write_skew_through():
    e = Engine("serializable", bugs=("skip-dangerous-structure",))
    committed(e, ("x", 0), ("y", 0))
    t1, t2 = e.begin(), e.begin()
    for t in (t1, t2):
        e.read(t, "x")
        e.read(t, "y")
    e.write(t1, "x", 1)
    e.write(t2, "y", 2)
    e.commit(t1)
    e.commit(t2)


def test_first_updater_wins_after_waiting():
    e = Engine("snapshot-isolation")
    committed(e, ("x", 0))
    t1, t2 = e.begin(), e.begin()
    assert e.write(t1, "x", 1) is None
    assert e.write(t2, "x", 2) is BLOCKED
    woken = e.commit(t1)
    assert woken == [t2]
    with pytest.raises(Abort, match="concurrent update"):
        e.write(t2, "x", 2)


def test_first_updater_proceeds_when_holder_aborts():
    e = Engine("snapshot-isolation")
    committed(e, ("x", 0))
    t1, t2 = e.begin(), e.begin()
    e.write(t1, "x", 1)
    assert e.write(t2, "x", 2) is BLOCKED
    assert e.abort(t1) == [t2]
    assert e.write(t2, "x", 2) is None
    e.commit(t2)
    t3 = e.begin()
    assert e.read(t3, "x") == (0, 2)


def test_mysql_repeatable_read_loses_updates():
    e = Engine("repeatable-read")
    committed(e, ("x", 0))
    t1, t2 = e.begin(), e.begin()
    assert e.read(t1, "x") == (0,)
    assert e.read(t2, "x") == (0,)
    e.write(t1, "x", 1)
    e.commit(t1)
    e.write(t2, "x", 2)  # no conflict check: acts on the latest committed version
    assert e.read(t2, "x") == (0, 1, 2)
    e.commit(t2)


def test_read_committed_takes_a_snapshot_per_statement():
    e = Engine("read-committed")
    committed(e, ("x", 0))
    t1, t2 = e.begin(), e.begin()
    assert e.read(t1, "x") == (0,)
    e.write(t2, "x", 1)
    assert e.read(t1, "x") == (0,)  # uncommitted: invisible
    e.commit(t2)
    assert e.read(t1, "x") == (0, 1)  # committed since: visible to the next statement


def test_read_uncommitted_sees_uncommitted_and_aborted_versions():
    e = Engine("read-uncommitted")
    t1, t2 = e.begin(), e.begin()
    e.write(t1, "x", 1)
    assert e.read(t2, "x") == (1,)
    e.abort(t1)
    assert e.read(t2, "x") is None


def test_read_aborted_bug():
    e = Engine("read-committed", bugs=("read-aborted",))
    t1, t2 = e.begin(), e.begin()
    e.write(t1, "x", 1)
    assert e.read(t2, "x") is None
    e.abort(t1)
    assert e.read(t2, "x") == (1,)


def test_two_phase_locking_blocks_and_detects_deadlock():
    e = Engine("serializable-2pl")
    committed(e, ("x", 0), ("y", 0))
    t1, t2 = e.begin(), e.begin()
    assert e.read(t1, "x") == (0,)
    assert e.read(t2, "y") == (0,)
    assert e.write(t1, "y", 1) is BLOCKED  # t2 holds a shared lock on y
    with pytest.raises(Abort, match="deadlock") as info:
        e.write(t2, "x", 2)  # t1 holds a shared lock on x and waits for t2
    assert info.value.woken == [t1]
    assert e.write(t1, "y", 1) is None
    e.commit(t1)
    assert e.stats()["deadlocks"] == 1


def test_vacuum_keeps_chains_short():
    e = Engine("snapshot-isolation")
    for i in range(200):
        committed(e, ("x", i))
    e.vacuum()
    assert len(e.chains["x"]) == 1
    assert e.longest_chain <= 2
    assert e.reclaimed == 199


def test_vacuum_keeps_versions_an_old_snapshot_sees():
    e = Engine("snapshot-isolation")
    committed(e, ("x", 0))
    old = e.begin()
    for i in range(1, 50):
        committed(e, ("x", i))
    e.vacuum()
    assert e.read(old, "x") == (0,)
    assert len(e.chains["x"]) == 50
    e.commit(old)
    e.vacuum()
    assert len(e.chains["x"]) == 1


@pytest.mark.parametrize("level", ["read-committed", "snapshot-isolation", "serializable-2pl"])
def test_same_seed_gives_byte_identical_history(tmp_path, level):
    spec = WorkloadSpec(txns=300, clients=6, keys=4, seed=11)
    outs = []
    for name in ("a", "b"):
        p = tmp_path / f"{name}.jsonl"
        with HistoryRecorder(p) as rec:
            run_engine(level, spec, recorder=rec, crash_rate=0.02)
        outs.append(p.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != b""
    other = tmp_path / "c.jsonl"
    with HistoryRecorder(other) as rec:
        run_engine(level, spec, recorder=rec, seed=12, crash_rate=0.02)
    assert other.read_bytes() != outs[0]


def test_replaying_the_schedule_gives_the_same_history():
    spec = WorkloadSpec(txns=100, clients=4, keys=3, seed=5)
    a = run_engine("serializable", spec)
    b = run_engine("serializable", spec, choices=a.schedule)
    assert a.ops == b.ops


def test_crashes_record_info_and_new_processes():
    spec = WorkloadSpec(txns=200, clients=3, keys=3, seed=2)
    r = run_engine("snapshot-isolation", spec, crash_rate=0.2)
    infos = [op for op in r.ops if op["type"] == "info"]
    assert infos
    kinds = {
        ev for _, _, ev in run_engine("snapshot-isolation", spec, crash_rate=0.2, trace=True).trace
    }
    assert {"crash mid-transaction (info)", "crash after commit (info)"} <= kinds
    assert max(op["process"] for op in r.ops) >= 3
