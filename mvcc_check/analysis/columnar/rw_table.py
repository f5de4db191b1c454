"""The micro-ops of an rw-register history as one table, and version ids.

The table lists every transaction's micro-ops, txn by txn in id order and in
order within each txn (`TxnColumns.mop_txn`): the order the per-op inference
walked them in, so "the first problem" and "the first record" mean the same
here. Each register value of each key gets a dense version id (`vid`): two
micro-ops have the same vid exactly when they name the same key and equal
values (Python equality, as a dict compared them), and every key has a vid for
its initial nil, whether or not anything read it. Tables indexed by vid
(writer of each version, readers of each version) then replace dict lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.history.columns import ATOM, INT, NIL, WRITE
from mvcc_check.history.pairing import TxnColumns

NONE = -1  # no txn / no vid / no micro-op


@dataclass
class MopTable:
    """One row per micro-op of a transaction (see the module docstring).

    row: the micro-op's row in the column arrays; txn: its transaction;
    start: txn t's micro-ops are table rows start[t]:start[t + 1];
    kind, key, tag: as in the columns; vid: its version id (NONE where the
    value is no register value: a list, or any value of an append);
    nil_vid: the vid of each key's initial nil; n_vids: how many vids there are."""

    row: np.ndarray
    txn: np.ndarray
    start: np.ndarray
    kind: np.ndarray
    key: np.ndarray
    tag: np.ndarray
    vid: np.ndarray
    nil_vid: np.ndarray
    n_vids: int

    def __len__(self) -> int:
        return len(self.row)

    def key_of_vid(self, vids: np.ndarray) -> np.ndarray:
        """The key of each vid in vids."""
        keys = self.__dict__.get("_vid_key")
        if keys is None:
            keys = np.zeros(self.n_vids, np.int32)
            ok = self.vid >= 0
            keys[self.vid[ok]] = self.key[ok]
            keys[self.nil_vid] = np.arange(len(self.nil_vid), dtype=np.int32)
            self.__dict__["_vid_key"] = keys
        return keys[vids]

    def rows_of_vids(self, vids: np.ndarray) -> dict[int, int]:
        """A table row holding each vid in vids (nil vids nobody read are left out)."""
        hits = np.flatnonzero(np.isin(self.vid, vids))
        return dict(zip(self.vid[hits].tolist(), hits.tolist(), strict=True))


def build_table(tc: TxnColumns) -> MopTable:
    """The micro-op table of a history's transactions, with version ids."""
    cols = tc.cols
    rows, txn = tc.mop_txn()
    counts = np.bincount(txn, minlength=tc.n) if len(txn) else np.zeros(tc.n, np.int64)
    start = np.zeros(tc.n + 1, np.int64)
    np.cumsum(counts, out=start[1:])
    key = cols.mop_key[rows]
    tag = cols.mop_tag[rows]
    vid, nil_vid, n_vids = version_ids(key, tag, cols.mop_value[rows], len(cols.keys))
    return MopTable(
        row=rows,
        txn=txn,
        start=start,
        kind=cols.mop_kind[rows],
        key=key,
        tag=tag,
        vid=vid,
        nil_vid=nil_vid,
        n_vids=n_vids,
    )


def version_ids(
    key: np.ndarray, tag: np.ndarray, val: np.ndarray, n_keys: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """(vid of each (key, tag, value), vid of each key's nil, number of vids).

    A value code c (0 for nil, then integers, then atoms) is made per value, and
    key * C + c per micro-op; that is the vid itself when its range is small
    (the usual case: small integers per key), else it is made dense by a sort."""
    n = len(key)
    is_int = tag == INT
    is_atom = tag == ATOM
    usable = is_int | is_atom | (tag == NIL)
    ints = val[is_int]
    n_int = 0
    if not len(ints):
        c = np.zeros(n, np.int64)
    elif int(ints.max()) - int(ints.min()) < 2 * n + 64:
        lo = int(ints.min())
        n_int = int(ints.max()) - lo + 1
        c = np.where(is_int, val - np.int64(lo) + 1, 0)  # (other rows may wrap: dropped)
    else:
        c = np.zeros(n, np.int64)
        c[is_int], n_int = _dense(ints)
        c[is_int] += 1
    n_atom = 0
    if is_atom.any():
        n_atom = int(val[is_atom].max()) + 1
        c[is_atom] = val[is_atom] + (1 + n_int)
    span = 1 + n_int + n_atom
    raw = key.astype(np.int64) * span + c
    nil_raw = np.arange(n_keys, dtype=np.int64) * span
    if n_keys * span <= 2 * (n + n_keys) + 64:
        vid = np.where(usable, raw, NONE)
        return vid, nil_raw, n_keys * span
    both = np.concatenate([raw[usable], nil_raw])
    ids, n_vids = _dense(both)
    vid = np.full(n, NONE, np.int64)
    vid[usable] = ids[: len(both) - n_keys]
    return vid, ids[len(both) - n_keys :], n_vids


def _dense(raw: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense ids 0..u-1 of the values of raw (equal values, equal ids), and u.

    One sort of (value, position) packed into an int64 where it fits, which
    is several times faster than np.unique's argsort; np.unique otherwise."""
    n = len(raw)
    if n == 0:
        return np.zeros(0, np.int64), 0
    lo = int(raw.min())
    top = int(raw.max()) - lo
    ib = max(1, (n - 1).bit_length())
    if top.bit_length() + ib <= 62:
        packed = ((raw - lo) << ib) | np.arange(n, dtype=np.int64)
        packed.sort()
        v = packed >> ib
        new = np.empty(n, bool)
        new[0] = True
        np.not_equal(v[1:], v[:-1], out=new[1:])
        ids = np.cumsum(new) - 1
        out = np.empty(n, np.int64)
        out[packed & ((1 << ib) - 1)] = ids
        return out, int(ids[-1]) + 1
    u, inv = np.unique(raw, return_inverse=True)
    return inv.astype(np.int64).reshape(-1), len(u)


def writer_table(table: MopTable) -> tuple[np.ndarray, np.ndarray]:
    """(writer txn, writing table row) of each vid, NONE where nothing wrote it.
    Writes are unique per key (checked before), so each vid has at most one."""
    w = np.flatnonzero((table.kind == WRITE) & (table.vid >= 0))
    writer = np.full(table.n_vids, NONE, np.int64)
    wrow = np.full(table.n_vids, NONE, np.int64)
    writer[table.vid[w]] = table.txn[w]
    wrow[table.vid[w]] = w
    return writer, wrow
