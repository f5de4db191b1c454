"""A completion of the open orders, and the edges it implies (vectorised).

The candidate puts each key's open writes in the order their transactions
committed (completed; indeterminate ones last, by invocation): what a database
that installs versions at commit does. A region where that fails is searched
(search.py) and its order replaces the candidate's for its keys."""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis.complete.choices import OpenWrites
from mvcc_check.analysis.graph import RW, WW
from mvcc_check.history.columns import INFO, OK
from mvcc_check.history.pairing import TxnColumns


def commit_rank(tc: TxnColumns) -> np.ndarray:
    """Per txn: its completion row if it committed, else (indeterminate: it may have
    committed any time after) its invocation row. Rows are distinct, so ranks are."""
    return np.where(tc.status == OK, tc.complete_row, tc.invoke_row).astype(np.int64)


def info_placed(tc: TxnColumns, rank: np.ndarray, fixed: tuple) -> np.ndarray:
    """The commit rank with each indeterminate transaction moved as late as its known
    successors allow (just before the earliest of them, or after everything without
    one): it committed, if it did, some time after its invocation, and ranking it
    there puts every transaction it read from or overwrote after it. Only the
    candidate order uses this; any order is sound, a good one just saves search."""
    key = 2 * rank.astype(np.int64)
    info = tc.status == INFO
    if not info.any():
        return key
    src, dst = fixed[0], fixed[1]
    latest = np.full(tc.n, 2 * (int(rank.max()) + 1) if len(rank) else 0, np.int64)
    out = info[src]
    np.minimum.at(latest, src[out], 2 * rank[dst[out]] - 1)
    key[info] = np.maximum(key[info], latest[info])
    return key


def candidate(ow: OpenWrites, rank: np.ndarray) -> np.ndarray:
    """Entry positions: each key's entries in commit order (an order of the entries,
    grouped by key as OpenWrites keeps them)."""
    return np.lexsort((rank[ow.txn], ow.key))


def consequences(ow: OpenWrites, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(src, dst, rel) of a completion: ww from each write to the next of its key,
    rw from each reader of a write to the next write of its key."""
    if not len(order):
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(0, np.int8)
    k = ow.key[order]
    same = k[1:] == k[:-1]
    a, b = order[:-1][same], order[1:][same]
    nxt = np.full(len(ow.key), -1, np.int64)
    nxt[a] = b
    after = nxt[ow.reader_of]
    has = after >= 0
    r_src, r_dst = ow.reader[has], ow.txn[after[has]]
    keep = r_src != r_dst
    src = np.concatenate([ow.txn[a], r_src[keep]])
    dst = np.concatenate([ow.txn[b], r_dst[keep]])
    rel = np.r_[np.full(len(a), WW, np.int8), np.full(int(keep.sum()), RW, np.int8)]
    return src.astype(np.int64), dst.astype(np.int64), rel
