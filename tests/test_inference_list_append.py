"""List-append inference and anomalies, one small hand-written history each.

Edges are checked through the cycles they create (and, where a history has
no cycle, through the edge count the result reports). Expected verdicts
follow Adya's definitions and, where Elle's own test suite has the same
history, agree with Elle's answer.
"""

from __future__ import annotations

import pytest
from histgen import History, T, concurrent, cycle_types, serial, txn

from mvcc_check import CheckOptions, check, parse_history_text

SER = "serializable"
STRICT = "strict-serializable"
SESSION = "strong-session-serializable"


def only_cycle(result, name):
    """The step types of the one cycle reported for `name`."""
    cycles = cycle_types(result)[name]
    assert len(cycles) == 1, cycles
    return cycles[0]


# -- valid histories and the edges they carry -----------------------------


def test_serial_appends_and_reads_are_valid():
    r = serial("ax1", "rx1 ax2", "rx12 ay1", "ry1 rx12").check(STRICT)
    assert r.valid is True
    assert r.anomaly_types == [] and r.not_ == [] and r.also_not == []
    assert r.to_json() == {"valid?": True}


def test_ww_edges_from_longest_read_order():
    # x: 1 then 2 (T1 < T2); y: 2 then 1 (T2 < T1): a pure write cycle.
    r = serial("ax1 ay1", "ax2 ay2", "rx12 ry21").check(SER)
    assert r.valid is False
    assert r.anomaly_types == ["G0"]
    assert only_cycle(r, "G0") == ["ww", "ww"]
    assert r.not_ == ["read-uncommitted"]
    cyc = r.anomalies["G0"][0]
    assert {s["key"] for s in cyc["steps"]} == {"x", "y"}
    for s in cyc["steps"]:
        assert {s["value"], s["value'"]} == {1, 2}


def test_ww_order_agreeing_on_both_keys_is_valid():
    r = serial("ax1 ay1", "ax2 ay2", "rx12 ry12").check(SER)
    assert r.valid is True


def test_wr_edges_make_circular_information_flow_g1c():
    # T2 appended to x after T1 (ww T1 < T2, by the read [1 2]), yet T1 saw T2's y (wr T2 < T1).
    r = serial("ax1 ry1", "ax2 ay1", "rx12").check(SER)
    assert r.anomaly_types == ["G1c"]
    assert sorted(only_cycle(r, "G1c")) == ["wr", "ww"]
    assert r.not_ == ["read-committed"]


def test_pure_wr_cycle_is_g1c():
    r = concurrent("ax1 ry1", "ay1 rx1").check(SER)
    assert r.anomaly_types == ["G1c"]
    assert only_cycle(r, "G1c") == ["wr", "wr"]


def test_rw_edge_from_observed_order_g_single_item():
    # T2 appended to x after T1 (ww T1 < T2) but read y = [] before T1's append (rw T2 < T1).
    r = serial("ax1 ay1", "ax2 ry", "rx12").check(SER)
    assert r.anomaly_types == ["G-single-item"]
    assert sorted(only_cycle(r, "G-single-item")) == ["rw", "ww"]
    assert r.not_ == ["consistent-view", "repeatable-read"]
    assert "serializable" in r.also_not and "snapshot-isolation" in r.also_not


def test_rw_edge_to_an_unread_append_read_skew():
    # Nobody reads x after T1's append: it still comes after the [] that T2 read.
    r = serial("ax1 ay1", "rx ry1").check(SER)
    assert r.anomaly_types == ["G-single-item"]
    steps = r.anomalies["G-single-item"][0]["steps"]
    rw = [s for s in steps if s["type"] == "rw"]
    assert len(rw) == 1 and rw[0]["key"] == "x" and rw[0]["value'"] == 1 and rw[0]["value"] is None


def test_read_of_empty_list_precedes_every_append():
    # T1 read x = [], so it precedes both appends to x (rw T1 < T2, T1 < T3) although
    # their mutual order on x is unknown; yet it saw y = [1 2], T3's append last (wr T3 < T1).
    r = serial("rx ry12", "ax1 ay1", "ax2 ay2").check(SER)
    assert r.valid is False
    assert r.anomaly_types == ["G-single-item"]


def test_g_nonadjacent_item():
    # rw wr rw wr around four transactions: no two anti-dependencies adjacent.
    r = serial("ax1", "rx1 ry", "ay1", "ry1 rx").check(SER)
    assert r.anomaly_types == ["G-nonadjacent-item"]
    assert sorted(only_cycle(r, "G-nonadjacent-item")) == ["rw", "rw", "wr", "wr"]
    assert r.not_ == ["repeatable-read", "snapshot-isolation"]


def test_g_nonadjacent_is_allowed_by_read_committed():
    r = serial("ax1", "rx1 ry", "ay1", "ry1 rx").check("read-committed")
    assert r.valid is True


def test_adjacent_rw_edges_are_g2_item_and_si_allows_them():
    # A -rw-> B -rw-> C -wr-> D -rw-> E -wr-> A: two of the three rw steps are adjacent.
    h = serial("rx rv1", "ax1 ry", "ay1 az1", "rz1 ru", "au1 av1")
    assert h.check("snapshot-isolation").valid is True
    r = h.check(SER)
    assert r.anomaly_types == ["G2-item"]
    assert only_cycle(r, "G2-item") == ["rw", "rw", "wr", "rw", "wr"]


def test_nonadjacent_rw_edges_break_si():
    # The same ring with B's read of y dropped and an extra wr hop: rw wr rw wr rw wr.
    h = serial("rx rv1", "ax1 ay1", "ry1 rw", "aw1 az1", "rz1 ru", "au1 av1")
    r = h.check("snapshot-isolation")
    assert r.anomaly_types == ["G-nonadjacent-item"]
    assert sorted(only_cycle(r, "G-nonadjacent-item")) == ["rw", "rw", "rw", "wr", "wr", "wr"]


def test_g2_item_write_skew():
    r = serial("ax1 ry", "ay1 rx").check(SER)
    assert r.anomaly_types == ["G2-item"]
    assert only_cycle(r, "G2-item") == ["rw", "rw"]
    assert r.not_ == ["repeatable-read"]
    assert serial("ax1 ry", "ay1 rx").check("snapshot-isolation").valid is True


# -- lost update ----------------------------------------------------------


def test_lost_update_unobserved_versions_is_g2_item():
    r = serial("ax0", "rx0 ax1", "rx0 ax2").check(SER)
    assert r.anomaly_types == ["G2-item", "lost-update"]
    assert r.not_ == ["cursor-stability", "update-atomic"]
    (lu,) = r.anomalies["lost-update"]
    assert lu["key"] == "x" and lu["value"] == [0] and len(lu["txns"]) == 2
    assert only_cycle(r, "G2-item") == ["rw", "rw"]


def test_lost_update_observed_versions_is_g_single_item():
    # Once a read shows 1 before 2, the writer of 1 precedes the writer of 2
    # (ww), and the writer of 2 read [0] before 1 (rw): exactly one rw step.
    r = serial("ax0", "rx0 ax1", "rx0 ax2", "rx012").check(SER)
    assert r.anomaly_types == ["G-single-item", "lost-update"]
    assert sorted(only_cycle(r, "G-single-item")) == ["rw", "ww"]


def test_one_txn_appending_twice_after_its_read_is_not_lost_update():
    r = serial("rx ax1 ax2", "rx12").check(STRICT)
    assert r.valid is True


def test_lost_update_allowed_by_read_committed():
    r = serial("ax0", "rx0 ax1", "rx0 ax2").check("read-committed")
    assert r.valid is True


# -- aborted, intermediate and dirty reads --------------------------------


def test_g1a_aborted_read_with_empty_graph():
    h = History().serial(txn("ax1", status="fail"), txn("rx1"))
    r = h.check(SER)
    assert r.valid is False
    assert r.anomaly_types == ["G1a", "empty-transaction-graph"]
    (g1a,) = r.anomalies["G1a"]
    assert g1a["element"] == 1 and g1a["mop"] == ["r", "x", [1]]
    assert g1a["writer"]["type"] == "fail"
    assert r.not_ == ["read-committed"]


def test_g1a_is_allowed_by_read_uncommitted_but_graph_is_empty():
    h = History().serial(txn("ax1", status="fail"), txn("rx1"))
    r = h.check("read-uncommitted")
    assert r.valid == "unknown"
    assert r.anomaly_types == ["empty-transaction-graph"]


def test_failed_append_read_and_built_upon_is_g1a_and_dirty_update():
    h = History().serial(txn("ax1", status="fail"), txn("ax2"), txn("rx12"))
    r = h.check(SER)
    assert r.anomaly_types == ["G1a", "dirty-update"]
    (du,) = r.anomalies["dirty-update"]
    assert du["key"] == "x" and du["values"] == [1, 2]


def test_dirty_update_through_an_info_append():
    h = History().serial(
        txn("ax1", status="fail"), txn("ax2", status="info"), txn("ax3"), txn("rx123")
    )
    r = h.check(SER)
    assert r.anomaly_types == ["G1a", "dirty-update"]
    (du,) = r.anomalies["dirty-update"]
    # The record starts at the failed append; the info append after it was read,
    # so it took effect. (Elle names the first ok writer, 3, instead.)
    assert du["key"] == "x" and du["values"][0] == 1
    assert du["txns"][0]["type"] == "fail" and du["txns"][-1]["type"] != "fail"


def test_g1b_intermediate_read_is_also_g_single():
    # As in Elle: rx1 sees T1's first append and misses its second (rw T2 < T1).
    r = serial("ax1 ax2", "rx1").check(SER)
    assert r.anomaly_types == ["G-single-item", "G1b"]
    (g1b,) = r.anomalies["G1b"]
    assert g1b["element"] == 1 and g1b["mop"] == ["r", "x", [1]]
    assert sorted(only_cycle(r, "G-single-item")) == ["rw", "wr"]


def test_g1b_only_for_reads_ending_at_an_intermediate_append():
    r = serial("rx1", "rx12 ry3", "ax1 ax2 ay3", "rx12 ry3")
    result = r.check("read-committed")
    assert [a["mop"] for a in result.anomalies["G1b"]] == [["r", "x", [1]]]


def test_own_intermediate_read_is_not_g1b():
    r = serial("ax1 rx1 ax2", "rx12").check(SER)
    assert r.valid is True


# -- internal, duplicates, incompatible order, future reads ----------------


def test_internal_known_prefix():
    # T2 read [1], appended 2, then read [1] again: it must see [1 2].
    r = serial("ax1", "rx1 ax2 rx1").check(SER)
    assert r.anomaly_types == ["internal"]
    (it,) = r.anomalies["internal"]
    assert it["expected"] == [1, 2] and it["mop"] == ["r", "x", [1]]
    assert r.not_ == ["read-atomic"]


def test_internal_unknown_prefix():
    # T2 appended 2 with no earlier read: its read must end in 2, whatever precedes it.
    r = serial("ax1", "ax2 rx1").check(SER)
    assert r.anomaly_types == ["internal"]
    (it,) = r.anomalies["internal"]
    assert it["expected"] == ["...", 2]


def test_internal_consistent_reads_are_fine():
    r = serial("ax1", "ry ax3 rx13 ax4 rx134").check(SER)
    assert r.valid is True


def test_duplicate_elements():
    r = serial("ax1", "rx11").check(SER)
    assert r.anomaly_types == ["duplicate-elements"]
    (d,) = r.anomalies["duplicate-elements"]
    assert d["duplicates"] == {1: 2}
    assert r.not_ == ["read-uncommitted"]


def test_incompatible_order():
    r = serial("ax1", "ax2", "ax3", "rx13", "rx123").check(SER)
    assert r.anomaly_types == ["incompatible-order"]
    (io,) = r.anomalies["incompatible-order"]
    assert io["key"] == "x" and io["values"] == [[1, 3], [1, 2, 3]]
    assert r.not_ == ["read-committed"]


def test_future_read():
    r = serial("rx1 ax1", "rx1").check(SER)
    assert r.anomaly_types == ["future-read"]
    (fr,) = r.anomalies["future-read"]
    assert fr["element"] == 1


# -- process and realtime variants ------------------------------------------


def stale_read(p_reader: int) -> History:
    """ax1, ax2 completed; then a read of [1] (stale), then a read of [1 2]."""
    return History().serial(
        txn("ax1", process=0),
        txn("ax2", process=1),
        txn("rx1", process=p_reader),
        txn("rx12", process=3),
    )


def test_stale_read_is_serializable():
    assert stale_read(2).check(SER).valid is True
    assert stale_read(2).check(SESSION).valid is True  # a different process: no session order


def test_stale_read_is_g_single_item_realtime():
    r = stale_read(2).check(STRICT)
    assert r.anomaly_types == ["G-single-item-realtime"]
    assert only_cycle(r, "G-single-item-realtime") == ["rw", "realtime"]
    assert r.not_ == ["strong-snapshot-isolation"]
    assert r.also_not == ["strong-serializable"]
    rt = r.anomalies["G-single-item-realtime"][0]["steps"][1]
    assert rt["a'"]["type"] == "ok" and rt["b"]["type"] == "invoke"
    assert rt["a'"]["index"] < rt["b"]["index"]


def test_stale_read_in_the_same_process_is_g_single_item_process():
    r = stale_read(1).check(SESSION)
    assert r.anomaly_types == ["G-single-item-process"]
    assert only_cycle(r, "G-single-item-process") == ["rw", "process"]
    assert r.not_ == ["strong-session-snapshot-isolation"]
    step = r.anomalies["G-single-item-process"][0]["steps"][1]
    assert step["process"] == 1


def test_g0_process_and_realtime():
    def h():
        # process 0 appends 2 then 1, but a read shows 1 before 2.
        return History().serial(
            txn("ax2", process=0), txn("ax1", process=0), txn("rx12", process=1)
        )

    assert h().check(SER).valid is True
    r = h().check(SESSION)
    assert r.anomaly_types == ["G0-process"]
    assert sorted(only_cycle(r, "G0-process")) == ["process", "ww"]
    assert r.not_ == ["strong-session-read-uncommitted"]
    r = h().check(STRICT)
    assert r.anomaly_types == ["G0-realtime"]
    assert sorted(only_cycle(r, "G0-realtime")) == ["realtime", "ww"]


def test_g1c_process_and_realtime():
    def h():
        # T0 saw T2's x (wr T2 < T0); T1 saw T0's y (wr T0 < T1); process 2 ran T1 then T2.
        return History().serial(
            txn("rx1 ay1", process=1), txn("ry1", process=2), txn("ax1", process=2)
        )

    assert h().check(SER).valid is True
    r = h().check(SESSION)
    assert r.anomaly_types == ["G1c-process"]
    assert sorted(only_cycle(r, "G1c-process")) == ["process", "wr", "wr"]
    assert r.not_ == ["strong-session-read-committed"]
    r = h().check(STRICT)
    assert r.anomaly_types == ["G1c-realtime"]
    assert r.not_ == ["strong-read-committed"]


def test_g_nonadjacent_item_process():
    # rw (z), wr (z), rw (x), then process 1's order closes the cycle.
    h = History().serial(
        txn("rx rz1", process=0), txn("ax1", process=1), txn("rz", process=1), txn("az1", process=2)
    )
    assert h.check(SER).valid is True
    r = h.check(SESSION)
    assert r.anomaly_types == ["G-nonadjacent-item-process"]
    assert sorted(only_cycle(r, "G-nonadjacent-item-process")) == ["process", "rw", "rw", "wr"]
    assert r.not_ == ["strong-session-snapshot-isolation"]


def test_g_nonadjacent_item_realtime():
    # The same shape with the session order replaced by real time between two processes.
    h = History()
    t0, t1, t2, t3 = (
        txn("rx rz1", process=0),
        txn("ax1", process=1),
        txn("rz", process=4),
        txn("az1", process=2),
    )
    h.invoke(t0)
    h.invoke(t3)
    h.invoke(t1)
    h.complete(t1)
    h.invoke(t2)  # t1 completed before t2 began: realtime t1 < t2
    h.complete(t2)
    h.complete(t3)
    h.complete(t0)
    assert h.check(SER).valid is True
    r = h.check(STRICT)
    assert r.anomaly_types == ["G-nonadjacent-item-realtime"]
    assert sorted(only_cycle(r, "G-nonadjacent-item-realtime")) == ["realtime", "rw", "rw", "wr"]


def test_g2_item_process():
    # T3 appended y then T1 read x = [] (process 0); T2 appended x and read y = [].
    def h():
        return History().serial(
            txn("ay1", process=0), txn("rx", process=0), txn("ax1 ry", process=1)
        )

    assert h().check(SER).valid is True
    r = h().check(SESSION)
    assert r.anomaly_types == ["G2-item-process"]
    assert sorted(only_cycle(r, "G2-item-process")) == ["process", "rw", "rw"]
    assert r.not_ == ["strong-session-serializable"]
    assert r.also_not == ["strong-serializable"]


def test_g2_item_realtime():
    # b is concurrent with everything; c finished before a began (realtime c < a).
    # a missed b's append of y (rw a < b); b missed c's append of z (rw b < c).
    def h(c_before_a: bool) -> History:
        hist = History()
        a, b, c = txn("ry", process=0), txn("ay1 rz", process=1), txn("az1", process=2)
        hist.invoke(b)
        hist.invoke(c)
        if c_before_a:
            hist.complete(c)
            hist.invoke(a)
        else:
            hist.invoke(a)
            hist.complete(c)
        hist.complete(a)
        hist.complete(b)
        return hist

    assert h(True).check(SER).valid is True
    assert h(False).check(STRICT).valid is True  # all three overlap: no realtime order
    r = h(True).check(STRICT)
    assert r.anomaly_types == ["G2-item-realtime"]
    assert sorted(only_cycle(r, "G2-item-realtime")) == ["realtime", "rw", "rw"]
    assert r.not_ == ["strong-serializable"]


def test_stale_read_of_empty_list_is_g_single_item_realtime():
    h = History()
    a, b, c = txn("rx ay1", process=0), txn("ry az1", process=1), txn("ax1", process=2)
    h.serial(c)  # c completes before a and b begin: realtime c < a, c < b
    h.invoke(a)
    h.invoke(b)
    h.complete(a)
    h.complete(b)
    assert h.check(SER).valid is True
    r = h.check(STRICT)
    # a read x = [] although c's append of x had finished: rw a < c, realtime c < a.
    assert r.anomaly_types == ["G-single-item-realtime"]


# -- indeterminate and failed transactions ---------------------------------


def test_observed_info_append_is_a_graph_node():
    """T3's reads prove the info txn committed (or T3 read an aborted write, G1a): a
    write cycle, reported as the G1c it also is, since read uncommitted allows G1a."""
    for status in ("info", "open"):
        h = History().serial(txn("ax1 ay1", status=status), txn("ax2 ay2"), txn("rx12 ry21"))
        r = h.check(SER)
        assert r.anomaly_types == ["G1c"], status
        (cycle,) = r.anomalies["G1c"]
        assert cycle["write-cycle"] is True
        assert [s["type"] for s in cycle["steps"]] == ["ww", "ww"]
        assert any(op["type"] in ("info", "invoke") for op in cycle["cycle"]), status
        assert r.not_ == ["read-committed"]
        assert h.check("read-uncommitted").valid is True
        ok = History().serial(txn("ax1 ay1"), txn("ax2 ay2"), txn("rx12 ry21"))
        assert ok.check(SER).anomaly_types == ["G0"]


def test_unobserved_info_append_creates_no_edges():
    for status in ("info", "open"):
        h = History().serial(txn("ax1", status=status), txn("rx"))
        r = h.check(SER)
        assert r.valid == "unknown", status
        assert r.anomaly_types == ["empty-transaction-graph"]
        assert r.stats["edges"] == 0


def test_info_reads_carry_no_information():
    # The info txn's read of y = nil is unknown, not an observation of the empty list;
    # if it counted, info < T2 (rw on y) and T2 < info (ww on x) would be a cycle.
    h = History().serial(txn("ax2 ry", status="info"), txn("ax1 ay1"), txn("rx12 ry1"))
    r = h.check(SER)
    assert r.valid is True
    assert r.stats["info"] == 1


def test_failed_transactions_are_not_graph_nodes():
    # With the failed txn as a node this would be G0; without it, only G1a and a dirty update.
    h = History().serial(txn("ax1 ay1", status="fail"), txn("ax2 ay2"), txn("rx12 ry21"))
    r = h.check(SER)
    assert r.anomaly_types == ["G1a", "dirty-update"]
    assert r.stats["fail"] == 1


def test_failed_write_skew_partner_is_ignored():
    h = History().serial(txn("rx ay1", status="fail"), txn("ry ax1"), txn("rx1"))
    r = h.check(STRICT)
    assert r.valid is True


def test_failed_appends_are_not_unread_writes():
    h = History().serial(txn("ax1", status="fail"), txn("rx"))
    r = h.check(SER)
    assert r.valid == "unknown"
    assert r.stats["edges"] == 0


# -- the empty transaction graph -------------------------------------------


@pytest.mark.parametrize(
    ("descs", "model"),
    [
        (("rx",), STRICT),
        (("ax1",), STRICT),
        (("rx", "ry"), SER),
        (("ax1", "ay1"), SER),
        (("rx", "ry"), SESSION),
    ],
    ids=["one-empty-read", "one-append", "two-empty-reads", "appends-to-different-keys", "session"],
)
def test_empty_transaction_graph_is_unknown(descs, model):
    r = serial(*descs).check(model)
    assert r.valid == "unknown"
    assert r.anomaly_types == ["empty-transaction-graph"]
    assert r.anomalies == {"empty-transaction-graph": True}
    assert r.not_ == [] and r.also_not == []
    assert r.to_json()["valid?"] == "unknown"


def test_realtime_edges_count_as_graph_edges():
    # Under strict-serializable the realtime order alone makes the graph non-empty (as in Elle).
    r = serial("rx", "ry").check(STRICT)
    assert r.valid is True
    assert r.stats["edges"] == 1


def test_empty_history_is_unknown():
    r = History().check(SER)
    assert r.valid == "unknown"


def test_not_and_also_not_are_disjoint_and_sorted():
    for h in (
        serial("ax1 ay1", "ax2 ay2", "rx12 ry21"),
        serial("ax1 ry", "ay1 rx"),
        stale_read(2),
    ):
        r = h.check(STRICT)
        assert r.not_ == sorted(r.not_) and r.also_not == sorted(r.also_not)
        assert not set(r.not_) & set(r.also_not)
        assert r.not_


def test_json_has_elle_keys():
    r = serial("ax1 ry", "ay1 rx").check(SER)
    doc = r.to_json()
    assert set(doc) == {"valid?", "anomaly-types", "anomalies", "not", "also-not"}
    assert doc["valid?"] is False
    cyc = doc["anomalies"]["G2-item"][0]
    assert cyc["type"] == "G2-item"
    assert cyc["cycle"][0] == cyc["cycle"][-1]
    assert len(cyc["cycle"]) == len(cyc["steps"]) + 1


def test_anomalies_not_forbidden_by_the_model_are_not_reported():
    # Write skew under read-committed: valid, and not even mentioned.
    r = serial("ax1 ry", "ay1 rx").check("read-committed")
    assert r.valid is True and r.anomaly_types == [] and r.anomalies == {}
    assert "G2-item" in r.all_anomaly_types  # found, but not forbidden by the model


def test_t_dataclass_default_process_is_unique():
    h = History().serial(T([["append", "x", 1]]), T([["r", "x", [1]]]))
    procs = {op["process"] for op in h.ops}
    assert len(procs) == 2


def nonadjacent_ring(pairs: int) -> History:
    """A ring rw wr rw wr ... rw, closed by one session step: 2 * pairs transactions.

    Reader R_j reads a_j = [] (rw to A_j, which appends to a_j later) and b_{j-1} = [1]
    (wr from A_{j-1}); A_j appends to a_j and b_j. The last appender and the first
    reader share a process, the appender first. Big enough rings leave the
    small-component search and exercise the exact existence test.
    """
    readers, appenders = [], []
    for j in range(pairs):
        mops: list[list] = [["r", f"a{j}", []]]
        if j:
            mops.append(["r", f"b{j - 1}", [1]])
        readers.append(T(mops, process=j))
        amops: list[list] = [["append", f"a{j}", 1]]
        if j < pairs - 1:
            amops.append(["append", f"b{j}", 1])
        appenders.append(T(amops, process=1000 + j))
    appenders[-1].process = readers[0].process
    h = History()
    h.serial(appenders[-1], readers[0])
    for t in readers[1:] + appenders[:-1]:
        h.invoke(t)
    for t in readers[1:] + appenders[:-1]:
        h.complete(t)
    return h


@pytest.mark.parametrize("pairs", [2, 40])
def test_g_nonadjacent_item_process_ring(pairs):
    h = nonadjacent_ring(pairs)
    assert h.check(SER).valid is True
    r = h.check(SESSION)
    assert r.anomaly_types == ["G-nonadjacent-item-process"]
    steps = only_cycle(r, "G-nonadjacent-item-process")
    assert len(steps) == 2 * pairs
    assert steps.count("rw") == pairs and steps.count("process") == 1


# -- the `anomalies` option (Elle's :anomalies) -------------------------------------
# Verdicts as Elle's own checker tests give them for the same histories.


G1C = ("ax1 ry1", "ax2 ay1", "rx12")
G1B = ("ax1 ax2", "rx1")
G0_ = ("ax1 ay1", "ax2 ay2", "rx12 ry21")
GSINGLE = ("ax1 ay1", "ax2 ry", "rx12")


@pytest.mark.parametrize(
    ("descs", "anomalies", "expected"),
    [
        (G1C, ["G0"], (True, [], [])),
        (G1C, ["G1"], (False, ["G1c"], ["read-committed"])),
        (G1C, ["G2"], (True, [], [])),
        (G1B, ["G0"], (True, [], [])),
        (G1B, ["G1"], (False, ["G1b"], ["read-committed"])),
        (G1B, ["G2"], (False, ["G-single-item"], ["read-committed"])),
        (G0_, ["G1"], (False, ["G0"], ["read-uncommitted"])),
        (G0_, ["G2"], (True, [], [])),
        (GSINGLE, ["G1"], (True, [], [])),
        (GSINGLE, ["G-single"], (False, ["G-single-item"], ["consistent-view", "repeatable-read"])),
        (GSINGLE, ["G2"], (False, ["G-single-item"], ["consistent-view", "repeatable-read"])),
    ],
)
def test_anomalies_option(descs, anomalies, expected):
    opts = CheckOptions(models=(), anomalies=tuple(anomalies))
    r = check(parse_history_text(serial(*descs).text(), source="h.jsonl", format="jsonl"), opts)
    assert (r.valid, r.anomaly_types, r.not_) == expected


def test_aborted_read_under_weak_models_as_elle():
    h = History().serial(txn("ax1", status="fail"), txn("rx1"))

    def verdict(**kw):
        r = check(
            parse_history_text(h.text(), source="h.jsonl", format="jsonl"), CheckOptions(**kw)
        )
        return r.valid, r.anomaly_types, r.not_

    # read-uncommitted allows G1a, but the empty graph leaves the verdict open;
    # `not` still names the model the G1a rules out.
    assert verdict(models=("read-uncommitted",)) == (
        "unknown",
        ["empty-transaction-graph"],
        ["read-committed"],
    )
    assert verdict(models=(), anomalies=("G2",)) == (
        "unknown",
        ["empty-transaction-graph"],
        ["read-committed"],
    )
    assert verdict(models=("repeatable-read",)) == (
        False,
        ["G1a", "empty-transaction-graph"],
        ["read-committed"],
    )


def test_unobserved_writes_follow_the_longest_read():
    # Elle's unobserved-write case: y's read [2] misses 1 (rw ry < w1), and the
    # orders on x (1 2) and y (2 1) disagree (G0); w3 only adds unread appends.
    r = concurrent("ax1 ay1", "ax2 ay2", "ax3 ay3", "rx12", "ry2").check(SER)
    assert r.anomaly_types == ["G-single-item", "G0"]
    assert only_cycle(r, "G-single-item") == ["rw", "ww", "wr"]
    assert only_cycle(r, "G0") == ["ww", "ww"]
    assert r.not_ == ["read-uncommitted"]


def test_contradictory_read_orders():
    # Elle's case: [1 3] and [1 2 3] are incompatible; the longest read gives the order.
    r = serial("ax1 ry1", "ax2", "ax3 ay1", "rx13", "rx123").check("read-committed")
    assert r.anomaly_types == ["G1c", "incompatible-order"]
    assert only_cycle(r, "G1c") == ["wr", "ww", "ww"]
    assert r.anomalies["incompatible-order"] == [{"key": "x", "values": [[1, 3], [1, 2, 3]]}]
