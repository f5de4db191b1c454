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

from mvcc_check.history.columns import ATOM, INT, LIST, NIL, WRITE
from mvcc_check.history.pairing import TxnColumns

NONE = -1  # no txn / no vid / no micro-op


@dataclass
class VersionCoder:
    """How (key, tag, value) becomes a vid: a value code c (0 for nil, then
    integers, then atoms), raw = key * span + c, and raw itself as the vid or
    its rank among the raws that occur (`dense`, sorted). Integers are coded as
    v - lo + 1, or by rank among `ints` (sorted) when their range is wide."""

    span: int
    lo: int
    n_int: int
    ints: np.ndarray | None
    dense: np.ndarray | None
    nil_vid: np.ndarray
    n_vids: int

    def vid(self, key: int, tag: int, value: int) -> int:
        """The vid of one micro-op's value (one that occurs in the table)."""
        if tag == NIL:
            return int(self.nil_vid[key])
        if tag == INT:
            c = (
                value - self.lo + 1
                if self.ints is None
                else int(np.searchsorted(self.ints, value)) + 1
            )
        else:
            c = 1 + self.n_int + value
        raw = key * self.span + c
        return raw if self.dense is None else int(np.searchsorted(self.dense, raw))


@dataclass
class MopTable:
    """One row per micro-op of a transaction (see the module docstring).

    row: the micro-op's row in the column arrays; txn: its transaction;
    start: txn t's micro-ops are table rows start[t]:start[t + 1];
    kind, key, tag: as in the columns; vid: its version id (NONE where the
    value is no register value: a list, or any value of an append); writes:
    the table rows of writes; coder: how vids are made (its nil_vid and
    n_vids: each key's nil, and how many vids there are)."""

    row: np.ndarray
    txn: np.ndarray
    start: np.ndarray
    kind: np.ndarray
    key: np.ndarray
    tag: np.ndarray
    vid: np.ndarray
    writes: np.ndarray
    coder: VersionCoder

    def __len__(self) -> int:
        return len(self.row)

    @property
    def nil_vid(self) -> np.ndarray:
        return self.coder.nil_vid

    @property
    def n_vids(self) -> int:
        return self.coder.n_vids

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


def _index_dtype(n: int) -> type:
    return np.int32 if n < 2**31 - 1 else np.int64


def build_table(tc: TxnColumns) -> MopTable:
    """The micro-op table of a history's transactions, with version ids."""
    cols = tc.cols
    rows, txn = tc.mop_txn()
    om = cols.op_mop
    start = np.zeros(tc.n + 1, np.int64)
    np.cumsum(om[tc.mop_row + 1] - om[tc.mop_row], out=start[1:])
    rows = rows.astype(_index_dtype(len(cols.mop_kind)))
    txn = txn.astype(_index_dtype(tc.n))
    key = cols.mop_key[rows]
    tag = cols.mop_tag[rows]
    kind = cols.mop_kind[rows]
    vid, coder = version_ids(key, tag, cols.mop_value[rows], len(cols.keys))
    return MopTable(
        row=rows,
        txn=txn,
        start=start,
        kind=kind,
        key=key,
        tag=tag,
        vid=vid,
        writes=np.flatnonzero(kind == WRITE),
        coder=coder,
    )


def version_ids(
    key: np.ndarray, tag: np.ndarray, val: np.ndarray, n_keys: int
) -> tuple[np.ndarray, VersionCoder]:
    """The vid of each (key, tag, value), and the coder that made them.

    key * span + c is the vid itself when its range is small (the usual
    case: small integers per key), else it is made dense by a sort."""
    n = len(key)
    is_int = tag == INT
    ints = val[is_int]
    lo, n_int, int_rank = 0, 0, None
    if not len(ints):
        c = np.zeros(n, np.int64)
    elif int(ints.max()) - int(ints.min()) < 2 * n + 64:
        lo = int(ints.min())
        n_int = int(ints.max()) - lo + 1
        c = np.where(is_int, val - np.int64(lo) + 1, 0)  # (other rows may wrap: dropped)
    else:
        c = np.zeros(n, np.int64)
        ids, int_rank = _dense(ints)
        c[is_int] = ids + 1
        n_int = len(int_rank)
    is_atom = tag == ATOM
    n_atom = 0
    if is_atom.any():
        n_atom = int(val[is_atom].max()) + 1
        c[is_atom] = val[is_atom] + (1 + n_int)
    span = 1 + n_int + n_atom
    raw = key.astype(np.int64) * span + c
    del c
    usable = tag != LIST
    nil_raw = np.arange(n_keys, dtype=np.int64) * span
    vd = _index_dtype(max(n_keys * span, n + n_keys))
    if n_keys * span <= 2 * (n + n_keys) + 64:
        vid = raw.astype(vd) if usable.all() else np.where(usable, raw, NONE).astype(vd)
        return vid, VersionCoder(span, lo, n_int, int_rank, None, nil_raw.astype(vd), n_keys * span)
    both = np.concatenate([raw[usable], nil_raw])
    ids, dense = _dense(both)
    vid = np.full(n, NONE, vd)
    vid[usable] = ids[: len(both) - n_keys]
    nil_vid = ids[len(both) - n_keys :].astype(vd)
    return vid, VersionCoder(span, lo, n_int, int_rank, dense, nil_vid, len(dense))


def _dense(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids 0..u-1 of the values of raw (equal values, equal ids), and the
    u distinct values, sorted (an id is its value's rank).

    One sort of (value, position) packed into an int64 where it fits, which
    is several times faster than an argsort (used otherwise)."""
    n = len(raw)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo = int(raw.min())
    top = int(raw.max()) - lo
    ib = max(1, (n - 1).bit_length())
    if top.bit_length() + ib <= 62:
        packed = ((raw - np.int64(lo)) << ib) | np.arange(n, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << ib) - 1)
        v = (packed >> ib) + np.int64(lo)
        del packed
    else:
        order = np.argsort(raw, kind="stable")
        v = raw[order]
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(v[1:], v[:-1], out=new[1:])
    ids = np.cumsum(new) - 1
    out = np.empty(n, np.int64)
    out[order] = ids
    return out, v[new]


def writer_table(table: MopTable) -> tuple[np.ndarray, np.ndarray]:
    """(writer txn, writing table row) of each vid, NONE where nothing wrote it.
    Writes are unique per key (checked before), so each vid has at most one."""
    w = table.writes
    w = w[table.vid[w] >= 0]
    writer = np.full(table.n_vids, NONE, table.txn.dtype)
    wrow = np.full(table.n_vids, NONE, _index_dtype(len(table)))
    writer[table.vid[w]] = table.txn[w]
    wrow[table.vid[w]] = w
    return writer, wrow
