"""rw-register inference and anomalies, one small hand-written history each.

Writes are unique per key, so every read names its writer (wr). The version
order is only partly known: nil comes first, and `wfr_keys`,
`sequential_keys` and `linearizable_keys` add facts. Each test states which
facts it relies on.
"""

from __future__ import annotations

import pytest
from histgen import History, concurrent, cycle_types, serial, txn

from mvcc_check import HistoryError, OptionError

SER = "serializable"
STRICT = "strict-serializable"
SESSION = "strong-session-serializable"


def reg(*descs: str) -> History:
    return serial(*descs, register=True)


def rtxn(desc: str, **kw) -> object:
    return txn(desc, register=True, **kw)


def only_cycle(result, name):
    cycles = cycle_types(result)[name]
    assert len(cycles) == 1, cycles
    return cycles[0]


def test_workload_is_detected():
    r = reg("wx1", "rx1")
    result = r.check(SER)
    assert result.workload == "rw-register"
    assert result.valid is True


def test_serial_writes_and_reads_are_valid():
    for model in (SER, STRICT, SESSION):
        r = reg("wx1", "rx1", "wx2 wy1", "rx2 ry1").check(model)
        assert r.valid is True, model


def test_wr_edges_cycle_is_g1c():
    r = reg("wx1 ry1", "wy1 rx1").check(SER)
    assert r.anomaly_types == ["G1c"]
    assert only_cycle(r, "G1c") == ["wr", "wr"]
    steps = r.anomalies["G1c"][0]["steps"]
    assert {(s["key"], s["value"]) for s in steps} == {("x", 1), ("y", 1)}


def test_rw_edge_from_initial_read_g_single_item():
    # T2 saw x = 1 from T1 (wr) but y = nil, before T1's y = 1 (rw).
    r = reg("wx1 wy1", "rx1 ry").check(SER)
    assert r.anomaly_types == ["G-single-item"]
    assert sorted(only_cycle(r, "G-single-item")) == ["rw", "wr"]
    rw = [s for s in r.anomalies["G-single-item"][0]["steps"] if s["type"] == "rw"][0]
    assert rw["key"] == "y" and rw["value"] is None and rw["value'"] == 1
    assert r.not_ == ["consistent-view", "repeatable-read"]


def test_g2_item_write_skew():
    r = reg("rx wy1", "ry wx1").check(SER)
    assert r.anomaly_types == ["G2-item"]
    assert only_cycle(r, "G2-item") == ["rw", "rw"]
    assert reg("rx wy1", "ry wx1").check("snapshot-isolation").valid is True


def test_g_nonadjacent_item():
    # rw wr rw wr: T1 misses T2's x, T3 sees T2's y, T3 misses T4's z, T1 sees T4's u.
    r = reg("rx ru1", "wx1 wy1", "ry1 rz", "wz1 wu1").check(SER)
    assert r.anomaly_types == ["G-nonadjacent-item"]
    assert sorted(only_cycle(r, "G-nonadjacent-item")) == ["rw", "rw", "wr", "wr"]


def test_without_version_facts_two_writes_are_unordered():
    # x = 1 and x = 2 both follow nil but their order is unknown: no ww edge, no cycle.
    r = reg("wx1 wy2", "wx2 wy1", "rx1 ry1").check(SER)
    assert r.valid is True


def test_g0_needs_version_facts_wfr_keys():
    # wfr: T2 read x = 1 then wrote x = 2, so 1 < 2 (T1 ww T2); T1 read y = 3 then
    # wrote y = 4, so 3 < 4 (T2 ww T1). Without wfr only the wr edges remain (G1c).
    h = reg("wx1 ry3 wy4", "rx1 wx2 wy3")
    r = h.check(SER, wfr_keys=True)
    assert r.anomaly_types == ["G0"]
    assert only_cycle(r, "G0") == ["ww", "ww"]
    assert r.not_ == ["read-uncommitted"]
    r = h.check(SER)
    assert r.anomaly_types == ["G1c"]


def test_lost_update_without_and_with_wfr():
    h = reg("wx0", "rx0 wx1", "rx0 wx2")
    r = h.check(SER)
    # With no version facts, only the shared read shows: both read 0 and wrote x.
    assert r.anomaly_types == ["lost-update"]
    (lu,) = r.anomalies["lost-update"]
    assert lu["key"] == "x" and lu["value"] == 0 and len(lu["txns"]) == 2
    assert r.not_ == ["cursor-stability", "update-atomic"]
    # wfr: 0 < 1 and 0 < 2, so each reader of 0 anti-depends on the other's write.
    r = h.check(SER, wfr_keys=True)
    assert r.anomaly_types == ["G2-item", "lost-update"]
    assert only_cycle(r, "G2-item") == ["rw", "rw"]


def test_g1a_aborted_read():
    h = History().serial(rtxn("wx1", status="fail"), rtxn("rx1"), rtxn("wy1"), rtxn("ry1"))
    r = h.check(SER)
    assert r.anomaly_types == ["G1a"]
    (g,) = r.anomalies["G1a"]
    assert g["element"] == 1 and g["writer"]["type"] == "fail"
    assert r.not_ == ["read-committed"]


def test_g1b_intermediate_read():
    r = reg("wx1 wx2", "rx1").check(SER)
    assert r.anomaly_types == ["G1b"]
    (g,) = r.anomalies["G1b"]
    assert g["element"] == 1


def test_reading_a_final_write_is_not_g1b():
    assert reg("wx1 wx2", "rx2").check(SER).valid is True


def test_internal_read_after_own_write():
    r = reg("wx1", "wx2 rx1", "rx2").check(SER)
    assert r.anomaly_types == ["internal"]
    (it,) = r.anomalies["internal"]
    assert it["expected"] == 2


def test_internal_two_reads_disagree():
    r = reg("wx1", "rx1 rx2", "wx2").check(SER)
    assert r.anomaly_types == ["internal"]
    (it,) = r.anomalies["internal"]
    assert it["expected"] == 1 and it["mop"] == ["r", "x", 2]


def test_future_read():
    r = reg("rx1 wx1", "rx1").check(SER)
    assert r.anomaly_types == ["future-read"]
    (fr,) = r.anomalies["future-read"]
    assert fr["element"] == 1


def test_cyclic_versions_linearizable_keys():
    # Real time orders the three: 1 < 2 by the writes, 2 < 1 by the last read of 1.
    h = reg("wx1", "wx2", "rx1")
    r = h.check(SER, linearizable_keys=True)
    assert r.valid is False
    assert r.anomaly_types == ["cyclic-versions"]
    (cv,) = r.anomalies["cyclic-versions"]
    assert cv["key"] == "x" and set(cv["scc"]) == {1, 2}
    assert r.not_ == ["read-uncommitted"]
    # Without a version source the stale read is indistinguishable from a valid order.
    assert h.check(SER).valid is True
    assert h.check(STRICT).valid is True


def test_cyclic_versions_sequential_keys():
    # One process writes 1 then 2, then reads 1: its own versions went backwards.
    h = History().serial(rtxn("wx1", process=0), rtxn("wx2", process=0), rtxn("rx1", process=0))
    r = h.check(SER, sequential_keys=True)
    assert r.anomaly_types == ["cyclic-versions"]


def test_linearizable_keys_order_writes_by_real_time():
    # T1 (x = 1) finished before T2 (x = 2, y = 2) began, so 1 < 2; T3 overlaps both
    # and saw x = 1 but y = 2: it missed T2's x yet saw its y (read skew).
    def h() -> History:
        hist = History()
        t1, t2, t3 = rtxn("wx1", process=0), rtxn("wx2 wy2", process=1), rtxn("rx1 ry2", process=2)
        hist.invoke(t3)
        hist.serial(t1, t2)
        hist.complete(t3)
        return hist

    assert h().check(SER).valid is True
    r = h().check(SER, linearizable_keys=True)
    assert r.anomaly_types == ["G-single-item"]
    assert sorted(only_cycle(r, "G-single-item")) == ["rw", "wr"]


def test_g1c_process_and_realtime():
    # T3 (process 1, last) wrote x = 1, which T1 read; T1 wrote y = 1, which T2
    # (process 1, before T3) read: wr, wr, then process 1's order closes the cycle.
    def h() -> History:
        return History().serial(
            rtxn("rx1 wy1", process=0), rtxn("ry1", process=1), rtxn("wx1", process=1)
        )

    assert h().check(SER).valid is True
    r = h().check(SESSION)
    assert r.anomaly_types == ["G1c-process"]
    assert sorted(only_cycle(r, "G1c-process")) == ["process", "wr", "wr"]
    r = h().check(STRICT)
    assert r.anomaly_types == ["G1c-realtime"]


def test_g_single_item_realtime():
    # T2 read y = nil after T1 (which wrote y) had finished, and T1 read T2's x.
    h = History()
    t1, t2 = rtxn("ry wx1", process=0), rtxn("wy1", process=1)
    h.serial(t2)
    h.serial(t1)
    r = h.check(STRICT)
    assert r.anomaly_types == ["G-single-item-realtime"]
    assert only_cycle(r, "G-single-item-realtime") == ["rw", "realtime"]
    assert h.check(SER).valid is True


def test_observed_info_write_is_a_graph_node():
    for status in ("info", "open"):
        h = History().serial(rtxn("wx1 wy1", status=status), rtxn("rx1 ry"))
        r = h.check(SER)
        # x = 1 was read, so the info txn took effect, y = 1 included: read skew.
        assert r.anomaly_types == ["G-single-item"], status


def test_unobserved_info_write_creates_no_edges():
    for status in ("info", "open"):
        h = History().serial(rtxn("wx1", status=status), rtxn("rx"))
        r = h.check(SER)
        assert r.valid == "unknown", status
        assert r.anomaly_types == ["empty-transaction-graph"]
        assert r.stats["edges"] == 0


def test_failed_writes_are_not_graph_nodes():
    # As nodes they would make a write skew with T2; failed, they did nothing.
    h = History().serial(rtxn("rx wy1", status="fail"), rtxn("ry wx1"), rtxn("rx1"))
    assert h.check(SER).valid is True


def test_empty_transaction_graph_is_unknown():
    r = reg("rx").check(STRICT)
    assert r.valid == "unknown"
    assert r.anomaly_types == ["empty-transaction-graph"]
    r = concurrent("rx", "wy1", register=True).check(SER)
    assert r.valid == "unknown"


def test_g_single_item_process_and_realtime():
    # Process 0 wrote y = 1, then read y = nil: it missed its own session's write.
    def h() -> History:
        return History().serial(
            rtxn("wy1", process=0), rtxn("ry wx1", process=0), rtxn("rx1 ry1", process=1)
        )

    assert h().check(SER).valid is True
    r = h().check(SESSION)
    assert r.anomaly_types == ["G-single-item-process"]
    assert only_cycle(r, "G-single-item-process") == ["rw", "process"]
    r = h().check(STRICT)
    assert r.anomaly_types == ["G-single-item-realtime"]


def test_g2_item_process():
    # Process 0 wrote y = 1 then read x = nil; process 1 wrote x = 1 and read y = nil.
    h = History().serial(rtxn("wy1", process=0), rtxn("rx", process=0), rtxn("wx1 ry", process=1))
    assert h.check(SER).valid is True
    r = h.check(SESSION)
    assert r.anomaly_types == ["G2-item-process"]
    assert sorted(only_cycle(r, "G2-item-process")) == ["process", "rw", "rw"]


def test_workload_override_and_mixed_workloads_are_input_errors():
    with pytest.raises(OptionError):
        reg("wx1", "rx1").check(SER, workload="bank")
    with pytest.raises(HistoryError, match="mixed workloads"):
        serial("wx1", "ay1").check(SER)
    with pytest.raises(HistoryError):
        reg("wx1", "rx1").check(SER, workload="list-append")
    with pytest.raises(OptionError, match="no-such-model"):
        reg("wx1", "rx1").check("no-such-model")


def test_g0_from_sequential_keys_as_elle():
    # Process 0 wrote x = 1 then read x = 2; process 1 wrote y = 1 then read y = 2:
    # per-process order gives 1 < 2 on both keys, so T1 < T2 on x and T2 < T1 on y.
    def h(with_reads: bool) -> History:
        ts = [rtxn("wx1 wy2", process=0), rtxn("wx2 wy1", process=1)]
        if with_reads:
            ts += [rtxn("rx2", process=0), rtxn("ry2", process=1)]
        return History().serial(*ts)

    r = h(False).check(SER, sequential_keys=True)
    assert (r.valid, r.anomaly_types) == ("unknown", ["empty-transaction-graph"])
    assert h(True).check(SER).valid is True  # no version facts: nothing to see
    r = h(True).check(SER, sequential_keys=True)
    assert r.anomaly_types == ["G0"]
    cyc = r.anomalies["G0"][0]
    assert [(s["type"], s["key"], s["value"], s["value'"]) for s in cyc["steps"]] in (
        [("ww", "x", 1, 2), ("ww", "y", 1, 2)],
        [("ww", "y", 1, 2), ("ww", "x", 1, 2)],
    )


def test_cyclic_versions_through_a_value_nobody_wrote():
    # As in Elle: x = 1 written, then x = 2 read (never written), then x = 1 read again.
    # The read of 2 is also a garbage read (Elle does not flag those).
    r = reg("wx1", "rx2", "rx1").check(STRICT, linearizable_keys=True)
    assert r.anomaly_types == ["cyclic-versions", "garbage-read"]
    assert r.anomalies["cyclic-versions"] == [{"key": "x", "scc": [1, 2]}]
    (g,) = r.anomalies["garbage-read"]
    assert g["mop"] == ["r", "x", 2] and g["element"] == 2
