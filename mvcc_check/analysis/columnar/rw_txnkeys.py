"""What each transaction did with each key: the within-transaction rules, vectorised.

One stable sort of the micro-op table by (txn, key) puts each transaction's
micro-ops on one key side by side, in order; running maxima and cumulative
sums over that order answer, for every micro-op at once, what the per-op
inference learnt by walking the transaction:

- an external read: a committed txn's first micro-op on a key, a read;
- the state a later read of the key must see: the txn's last write of it
  before the read, else what its external read saw (a read that differs is
  `internal`);
- a future read: an external read of a value the txn itself writes later;
- a lost-update candidate: an external read of a key the txn also writes;
- an intermediate write: one the same txn overwrote later on the key (any
  status: a failed or indeterminate txn's writes are registered too);
- the first and last version each committed txn saw of each key (for the
  optional version-order sources).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.analysis.columnar.rw_table import MopTable
from mvcc_check.history.columns import OK, READ, WRITE


@dataclass
class TxnKeys:
    """Table rows (see MopTable) found by `analyse` (ext, future and lost ascending).

    ext: external reads. internal / expected: reads that differ from the
    txn's own state of the key, and the row whose value they should have
    seen. future: external reads of a value their txn writes later. lost:
    external reads whose txn writes the key too. intermediate: per table row,
    whether it is a write its txn overwrote later. wfr_read / wfr_write: for
    each write of a committed txn whose first micro-op on the key was a read
    of another value, that read and the write. The g_* arrays list each
    (committed txn, key) pair (when asked for): its txn, key, first row and
    last-seen row (its last write of the key, else its first micro-op)."""

    ext: np.ndarray
    internal: np.ndarray
    expected: np.ndarray
    future: np.ndarray
    lost: np.ndarray
    intermediate: np.ndarray
    wfr_read: np.ndarray
    wfr_write: np.ndarray
    repeat_last: np.ndarray  # the last-seen row of each (txn, key) touched more than once
    g_txn: np.ndarray | None = None
    g_key: np.ndarray | None = None
    g_first: np.ndarray | None = None
    g_last: np.ndarray | None = None


def analyse(table: MopTable, status: np.ndarray, n_keys: int, groups: bool) -> TxnKeys:
    """The within-transaction facts of every micro-op (see the module docstring).

    Only the (txn, key) pairs with two or more micro-ops (the minority) go
    through the running maxima: a lone micro-op on a key is an external read
    or a plain write, and nothing more."""
    m = len(table)
    n_keys = max(n_keys, 1)
    if (len(table.start) - 1) * n_keys < 2**31:  # (half the bytes to sort and move)
        g = table.txn.astype(np.int32) * np.int32(n_keys) + table.key.astype(np.int32)
    else:
        g = table.txn.astype(np.int64) * n_keys + table.key
    order = np.argsort(g, kind="stable")
    g = g[order]
    first = np.empty(m, bool)
    first[:1] = True
    np.not_equal(g[1:], g[:-1], out=first[1:])
    del g
    first_t = np.empty(m, bool)
    first_t[order] = first
    ok_t = status[table.txn] == OK
    ext = np.flatnonzero(first_t & ok_t & (table.kind == READ))
    del first_t
    multi = ~first
    multi[:-1] |= multi[1:]  # (a group's first micro-op, when another follows)
    sel = np.flatnonzero(multi)
    del multi
    out = _repeats(table, order[sel], first[sel], ok_t, m)
    out.ext = ext
    if groups:
        _add_groups(out, table, order, first, sel, ok_t)
    return out


def _repeats(
    table: MopTable, rows: np.ndarray, first: np.ndarray, ok_t: np.ndarray, m: int
) -> TxnKeys:
    """The rules of micro-ops on a key their txn touches more than once: rows
    lists them grouped by (txn, key), in order within each group; first marks
    each group's first."""
    n = len(rows)
    kind = table.kind[rows]
    vid = table.vid[rows]
    is_w = kind == WRITE
    ok_read = ok_t[rows] & (kind == READ)
    at = np.arange(n, dtype=np.int64)
    gs = np.maximum.accumulate(np.where(first, at, 0))  # each row's group start
    lw = np.maximum.accumulate(np.where(is_w, at, -1))  # last write at or before
    del at
    state = np.where(lw >= gs, lw, gs)
    internal = np.flatnonzero(ok_read & ~first & (vid[state] != vid))
    ext = ok_read & first
    starts = np.flatnonzero(first)
    ends = np.empty(len(starts), np.int64)
    ends[:-1] = starts[1:] - 1
    ends[-1:] = n - 1
    cw = np.cumsum(is_w)
    gid = np.cumsum(first) - 1
    intermediate = np.zeros(m, bool)
    intermediate[rows[is_w & (cw[ends][gid] > cw)]] = True
    lost = ext & ((cw[ends] - cw[starts] + is_w[starts]) > 0)[gid]
    wi = np.flatnonzero(is_w & ext[gs])  # writes of a key the txn first read
    read_of = gs[wi]
    same = vid[wi] == vid[read_of]
    return TxnKeys(
        ext=np.zeros(0, np.int64),
        internal=rows[internal],
        expected=rows[state[internal]],
        future=np.sort(rows[read_of[same]]),
        lost=np.sort(rows[lost]),
        intermediate=intermediate,
        wfr_read=rows[read_of[~same]],
        wfr_write=rows[wi[~same]],
        repeat_last=rows[np.where(lw[ends] >= starts, lw[ends], starts)],
    )


def _add_groups(
    out: TxnKeys,
    table: MopTable,
    order: np.ndarray,
    first: np.ndarray,
    sel: np.ndarray,
    ok_t: np.ndarray,
) -> None:
    """Fill out's g_* arrays: every (committed txn, key) pair, in (txn, key) order."""
    starts = np.flatnonzero(first)
    last = order[starts]  # a lone micro-op: it is first and last
    multi_starts = sel[first[sel]]
    last[np.searchsorted(starts, multi_starts)] = out.repeat_last
    g_first = order[starts]
    keep = ok_t[g_first]
    out.g_first = g_first[keep]
    out.g_last = last[keep]
    out.g_txn = table.txn[out.g_first]
    out.g_key = table.key[out.g_first]
