"""Session and real-time order between transactions (Elle's process and realtime graphs).

Only committed (ok) and indeterminate (info) transactions are nodes; a failed
transaction did not happen. An info transaction never completed, so nothing
follows it in real time.
"""

from __future__ import annotations

from mvcc_check.analysis.graph import PROCESS, REALTIME, EdgeBuilder
from mvcc_check.history.txns import Txn


def process_edges(txns: list[Txn], edges: EdgeBuilder) -> None:
    """T1 -> T2 when the same process ran T1 and then T2 (next in its order).

    An indeterminate transaction may still take effect after its process moved
    on, so it gets an edge from its predecessor but is never one itself; the
    next transaction follows the last committed one instead.
    """
    last: dict[object, int] = {}
    for t in txns:  # txns are in invocation order
        if t.status == "fail" or t.process is None:
            continue
        prev = last.get(t.process)
        if prev is not None:
            edges.add(prev, t.id, PROCESS)
        if t.status == "ok":
            last[t.process] = t.id


def realtime_edges(txns: list[Txn], edges: EdgeBuilder) -> None:
    """T1 -> T2 when T1 completed before T2 was invoked.

    Emits the transitive reduction's frontier as Elle does: when T completes,
    the transactions that already preceded T are covered by T and leave the
    frontier, so the edge count stays near n times the concurrency.
    """
    events: list[tuple[int, int, int]] = []  # (position, kind 0=invoke 1=complete, txn id)
    for t in txns:
        if t.status == "fail":
            continue
        events.append((t.invoked_at, 0, t.id))
        if t.status == "ok" and t.completed_at is not None:
            events.append((t.completed_at, 1, t.id))
    events.sort()
    frontier: set[int] = set()
    preds: dict[int, list[int]] = {}
    for _, kind, tid in events:
        if kind == 0:
            ps = list(frontier)
            preds[tid] = ps
            for p in ps:
                edges.add(p, tid, REALTIME)
        else:
            for p in preds.pop(tid, ()):
                frontier.discard(p)
            frontier.add(tid)
