"""Session and real-time order between transactions (Elle's process and realtime graphs).

Only committed (ok) and indeterminate (info) transactions are nodes; a failed
transaction did not happen. An info transaction never completed, so nothing
follows it in real time.

Edges go to the edge arrays in bulk (a million-transaction history makes
millions of them); the realtime order is computed with numpy.
"""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis.graph import PROCESS, REALTIME, EdgeBuilder
from mvcc_check.history.columns import FAIL, OK
from mvcc_check.history.pairing import TxnColumns
from mvcc_check.history.txns import Txn


def process_edges(txns: list[Txn], edges: EdgeBuilder) -> None:
    """T1 -> T2 when the same process ran T1 and then T2 (next in its order).

    An indeterminate transaction may still take effect after its process moved
    on, so it gets an edge from its predecessor but is never one itself; the
    next transaction follows the last committed one instead.
    """
    last: dict[object, int] = {}
    src: list[int] = []
    dst: list[int] = []
    for t in txns:  # txns are in invocation order
        status = t.status
        if status == "fail" or t.process is None:
            continue
        prev = last.get(t.process)
        if prev is not None:
            src.append(prev)
            dst.append(t.id)
        if status == "ok":
            last[t.process] = t.id
    if src:
        _append(edges, np.array(src, np.int64), np.array(dst, np.int64), PROCESS)


def realtime_edges(txns: list[Txn], edges: EdgeBuilder) -> None:
    """T1 -> T2 when T1 completed before T2 was invoked.

    Emits the transitive reduction's frontier as Elle does: when T completes,
    the transactions that already preceded T are covered by T and leave the
    frontier, so the edge count stays near n times the concurrency.

    Walking invocations and completions in history order, a committed C joins
    the frontier when it completes and leaves it when a committed D invoked
    after that completes. So C -> T for exactly the ok or info T invoked in
    (c_C, M(c_C)], where M(x) is the first completion of an ok transaction
    invoked after x (a transaction logged only by its completion is invoked
    there too, just before it completes). Positions are as `build_txns` makes
    them: distinct, and no completion before its invocation.
    """
    kept_ids: list[int] = []  # ok and info
    kept_inv: list[int] = []
    done_ids: list[int] = []  # ok
    done_inv: list[int] = []
    done_at: list[int] = []
    for t in txns:
        status = t.status
        if status == "fail":
            continue
        kept_ids.append(t.id)
        kept_inv.append(t.invoked_at)
        if status == "ok" and t.completed_at is not None:
            done_ids.append(t.id)
            done_inv.append(t.invoked_at)
            done_at.append(t.completed_at)
    if not done_ids:
        return
    k_ids, k_inv = _by_invocation(kept_ids, kept_inv)
    d_ids, d_inv, d_at = _by_invocation(done_ids, done_inv, done_at)

    # first_after[k]: the first completion among the ok txns invoked at d_inv[k] or later.
    first_after = np.r_[np.minimum.accumulate(d_at[::-1])[::-1], np.iinfo(np.int64).max]
    until = first_after[np.searchsorted(d_inv, d_at, side="right")]
    lo = np.searchsorted(k_inv, d_at, side="right")
    hi = np.searchsorted(k_inv, until, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return
    # The ranges lo[i]:hi[i], concatenated without a Python loop.
    ends = np.cumsum(counts)
    targets = np.arange(total) - np.repeat(ends - counts - lo, counts)
    _append(edges, np.repeat(d_ids, counts), k_ids[targets], REALTIME)


def _by_invocation(ids: list[int], invoked: list[int], *more: list[int]) -> list[np.ndarray]:
    """The columns as arrays, sorted by invocation (txns usually are already)."""
    cols = [np.array(c, np.int64) for c in (ids, invoked, *more)]
    inv = cols[1]
    if not (inv[1:] > inv[:-1]).all():
        order = np.argsort(inv, kind="stable")
        cols = [c[order] for c in cols]
    return cols


def _append(edges: EdgeBuilder, src: np.ndarray, dst: np.ndarray, rel: int) -> None:
    """Add edges src[i] -> dst[i] in bulk (self-edges dropped, as EdgeBuilder.add does)."""
    keep = src != dst
    if not keep.all():
        src, dst = src[keep], dst[keep]
    edges.src.frombytes(np.ascontiguousarray(src, np.int64).view(np.uint8))
    edges.dst.frombytes(np.ascontiguousarray(dst, np.int64).view(np.uint8))
    edges.rel.frombytes(np.full(len(src), rel, np.int8).view(np.uint8))


def process_edges_columns(tc: TxnColumns, edges: EdgeBuilder) -> None:
    """`process_edges` over transaction columns: T1 -> T2 when T2 is the next
    transaction of T1's process after T1, T1 committed (an indeterminate one is
    a target, never a source; a failed one is neither; ops without a process
    have no session order)."""
    none = [i for i, p in enumerate(tc.cols.processes) if p is None]
    keep = tc.status != FAIL
    if none:
        keep &= ~np.isin(tc.process, none)
    ids = np.flatnonzero(keep)
    if len(ids) < 2:
        return
    order = ids[np.argsort(tc.process[ids], kind="stable")]  # by process, invocation order within
    proc = tc.process[order]
    is_ok = tc.status[order] == OK
    pos = np.arange(len(order))
    last_ok = np.maximum.accumulate(np.where(is_ok, pos, -1))  # the latest ok at or before each
    prev_ok = np.r_[-1, last_ok[:-1]]
    has = prev_ok >= 0
    has[has] = proc[prev_ok[has]] == proc[has]
    _append(edges, order[prev_ok[has]], order[has], PROCESS)


def realtime_edges_columns(tc: TxnColumns, edges: EdgeBuilder) -> None:
    """`realtime_edges` over transaction columns (the same frontier of Elle's
    transitive reduction: see there)."""
    kept = np.flatnonzero(tc.status != FAIL)
    done = np.flatnonzero(tc.status == OK)
    if not len(done):
        return
    inv = tc.invoke_row
    k_ids, k_inv = _sorted_by(kept, inv[kept])
    d_ids, d_inv = _sorted_by(done, inv[done])
    d_at = tc.complete_row[d_ids]
    first_after = np.r_[np.minimum.accumulate(d_at[::-1])[::-1], np.iinfo(np.int64).max]
    until = first_after[np.searchsorted(d_inv, d_at, side="right")]
    lo = np.searchsorted(k_inv, d_at, side="right")
    hi = np.searchsorted(k_inv, until, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return
    ends = np.cumsum(counts)
    targets = np.arange(total) - np.repeat(ends - counts - lo, counts)
    _append(edges, np.repeat(d_ids, counts), k_ids[targets], REALTIME)


def _sorted_by(ids: np.ndarray, invoked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ids and invocation positions in invocation order (txn ids already are)."""
    if len(invoked) > 1 and not (invoked[1:] > invoked[:-1]).all():
        order = np.argsort(invoked, kind="stable")
        return ids[order], invoked[order]
    return ids, invoked
