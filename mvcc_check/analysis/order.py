"""Session and real-time order between transactions (Elle's process and realtime graphs).

Only committed (ok) and indeterminate (info) transactions are nodes; a failed
transaction did not happen. An info transaction never completed, so nothing
follows it in real time.

Edges go to the edge arrays in bulk (a million-transaction history makes
millions of them); the realtime order is made in C (`_edges.realtime`).
"""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis import _edges
from mvcc_check.analysis.graph import PROCESS, REALTIME, EdgeBuilder
from mvcc_check.history.columns import FAIL, OK
from mvcc_check.history.pairing import TxnColumns


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
    edges.add_arrays(order[prev_ok[has]], order[has], PROCESS)


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
    # For each done txn: the kept ones invoked after it completed, up to the first
    # completion among those (`_edges.realtime`: counted, then made, in C).
    arrays = [np.ascontiguousarray(a, np.int64) for a in (k_ids, k_inv, d_ids, d_inv, d_at)]
    arrays.append(np.ascontiguousarray(first_after, np.int64))
    total = _edges.realtime(*arrays, None, None)
    if total == 0:
        return
    src, dst = np.empty(total, np.int64), np.empty(total, np.int64)
    _edges.realtime(*arrays, src, dst)
    edges.add_arrays(src, dst, REALTIME)


def _sorted_by(ids: np.ndarray, invoked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ids and invocation positions in invocation order (txn ids already are)."""
    if len(invoked) > 1 and not (invoked[1:] > invoked[:-1]).all():
        order = np.argsort(invoked, kind="stable")
        return ids[order], invoked[order]
    return ids, invoked
