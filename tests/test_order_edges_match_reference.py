"""Process and realtime edges (numpy over transaction columns) against the plain event sweep.

The references below walk invocations and completions in history order with
a frontier set, as Elle does. On generated histories (several processes,
ok / fail / info, invocations that never complete, completions logged
without their invocation) both must give the same edge sets, and the fast
versions no duplicate edges.
"""

from __future__ import annotations

from hypothesis import given
from reference.txns import Txn, build_txns
from test_pairing_matches_reference import FAST, histories, ops

from mvcc_check.analysis.checker import columns_of
from mvcc_check.analysis.graph import PROCESS, REALTIME, EdgeBuilder
from mvcc_check.analysis.order import process_edges_columns, realtime_edges_columns
from mvcc_check.history.pairing import pair_columns


def reference_realtime(txns: list[Txn]) -> set[tuple[int, int]]:
    """T1 -> T2 for T1 on the frontier when T2 is invoked; T1's predecessors leave it when T1 completes."""
    events = []  # (position, 0 invoke / 1 complete, id)
    for t in txns:
        if t.status != "fail":
            events.append((t.invoked_at, 0, t.id))
            if t.status == "ok" and t.completed_at is not None:
                events.append((t.completed_at, 1, t.id))
    frontier: set[int] = set()
    preds: dict[int, set[int]] = {}
    out = set()
    for _, kind, tid in sorted(events):
        if kind == 0:
            preds[tid] = set(frontier)
            out |= {(p, tid) for p in frontier}
        else:
            frontier -= preds.pop(tid, set())
            frontier.add(tid)
    return out


def reference_process(txns: list[Txn]) -> set[tuple[int, int]]:
    """Each ok or info txn follows the last ok txn of its process before it (in list order)."""
    last: dict[object, int] = {}
    out = set()
    for t in txns:
        if t.status == "fail" or t.process is None:
            continue
        if t.process in last and last[t.process] != t.id:
            out.add((last[t.process], t.id))
        if t.status == "ok":
            last[t.process] = t.id
    return out


def edges_of(fn, txns: list[Txn], rel: int) -> set[tuple[int, int]]:
    e = EdgeBuilder()
    e.add(0, 1, 1)  # a single edge, kept apart from the bulk ones
    fn(txns, e)
    src, dst, rels = (a.tolist() for a in e.arrays())
    assert len(src) == len(dst) == len(rels) == len(e)
    assert (src[-1], dst[-1], rels[-1]) == (0, 1, 1)
    pairs = list(zip(src[:-1], dst[:-1], strict=True))
    assert set(rels[:-1]) <= {rel}
    assert all(type(a) is int for pair in pairs for a in pair)
    assert len(set(pairs)) == len(pairs), "duplicate edges"
    return set(pairs)


def _columns(history):
    """The history's transaction columns, as check() pairs them."""
    return pair_columns(columns_of(history))


@FAST
@given(history=histories(broken=False))
def test_edges_match_the_event_sweep(history):
    txns = build_txns(history).txns
    tc = _columns(history)
    assert edges_of(realtime_edges_columns, tc, REALTIME) == reference_realtime(txns)
    assert edges_of(process_edges_columns, tc, PROCESS) == reference_process(txns)


R = [["r", 0, None]]
R_DONE = [["r", 0, [1]]]


def test_serial_txns_form_a_chain():
    h = ops(*[step for p in range(4) for step in (("invoke", p, R), ("ok", p, R_DONE))])
    assert edges_of(realtime_edges_columns, _columns(h), REALTIME) == {(0, 1), (1, 2), (2, 3)}


def test_info_and_fail_txns_in_real_time():
    h = ops(
        ("invoke", 0, R),
        ("ok", 0, R_DONE),  # 0
        ("invoke", 1, R),
        ("info", 1, R),  # 1: follows 0, never precedes anything
        ("invoke", 2, R),
        ("fail", 2, R),  # 2: did not happen
        ("ok", 3, R_DONE),  # 3: logged without invocation, at once invoked and complete
        ("invoke", 4, R),  # 4: never completes, follows 3 only (3 covers 0)
    )
    txns = build_txns(h).txns
    assert [t.status for t in txns] == ["ok", "info", "fail", "ok", "info"]
    assert (
        edges_of(realtime_edges_columns, _columns(h), REALTIME)
        == {(0, 1), (0, 3), (3, 4)}
        == reference_realtime(txns)
    )


def test_concurrent_txns_share_predecessors():
    h = ops(
        ("invoke", 0, R),
        ("ok", 0, R_DONE),  # 0
        ("invoke", 1, R),  # 1 and 2 overlap
        ("invoke", 2, R),
        ("ok", 1, R_DONE),
        ("ok", 2, R_DONE),
        ("invoke", 3, R),  # 3 follows both
        ("ok", 3, R_DONE),
    )
    assert edges_of(realtime_edges_columns, _columns(h), REALTIME) == {
        (0, 1),
        (0, 2),
        (1, 3),
        (2, 3),
    }


def test_process_order_skips_info_and_fail():
    h = ops(
        ("invoke", 7, R),
        ("ok", 7, R_DONE),  # 0
        ("invoke", 7, R),
        ("info", 7, R),  # 1: follows 0, but 2 follows 0 too
        ("invoke", 7, R),
        ("fail", 7, R),  # not a node
        ("invoke", 7, R),
        ("ok", 7, R_DONE),  # 3
        ("invoke", None, R),
        ("ok", None, R_DONE),  # no process: no session order
    )
    txns = build_txns(h).txns
    assert (
        edges_of(process_edges_columns, _columns(h), PROCESS)
        == {(0, 1), (0, 3)}
        == reference_process(txns)
    )


def test_no_txns_no_edges():
    empty = _columns(ops())
    assert edges_of(realtime_edges_columns, empty, REALTIME) == set()
    assert edges_of(process_edges_columns, empty, PROCESS) == set()
