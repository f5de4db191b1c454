"""The open choices the inference leaves: per key, committed writes whose
relative order no read fixes, and who read each of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OpenWrites:
    """Writes of committed transactions whose version order is (partly) open.

    Write entries sorted by key: `key`, `txn` (one entry per transaction and key:
    its final write). Reader entries: `reader_of` (the write entry read) and
    `reader` (an ok transaction other than the writer): in any completion each
    reader precedes (rw) every write that comes after the one it read."""

    key: np.ndarray
    txn: np.ndarray
    reader_of: np.ndarray
    reader: np.ndarray

    @property
    def empty(self) -> bool:
        return not len(self.key)

    def spans(self) -> np.ndarray:
        """(lo, hi) rows: the entries lo:hi of each key with two or more writers."""
        if not len(self.key):
            return np.zeros((0, 2), np.int64)
        starts = np.flatnonzero(np.r_[True, self.key[1:] != self.key[:-1]])
        bounds = np.r_[starts, len(self.key)]
        many = np.flatnonzero(np.diff(bounds) > 1)
        return np.stack([bounds[many], bounds[many + 1]], 1).astype(np.int64)


NONE = OpenWrites(*(np.zeros(0, np.int64) for _ in range(4)))


def open_writes(
    w_key: np.ndarray, w_txn: np.ndarray, r_txn: np.ndarray, r_writer: np.ndarray, r_key: np.ndarray
) -> OpenWrites:
    """OpenWrites from writes (key, txn; duplicates per txn and key allowed) and
    reads (reader txn, writer txn, key) of those writes: one entry per (txn, key),
    readers matched to it, reads of one's own write dropped."""
    if not len(w_key):
        return NONE
    n = np.int64(max(int(w_txn.max()), int(r_txn.max()) if len(r_txn) else 0) + 1)
    packed = np.sort(w_key.astype(np.int64) * n + w_txn.astype(np.int64))
    if len(packed) > 1:  # (np.unique hashes: slower on millions)
        packed = packed[np.r_[True, packed[1:] != packed[:-1]]]
    key, txn = packed // n, packed % n
    if len(r_txn):
        keep = r_txn != r_writer
        r_txn, r_writer, r_key = r_txn[keep], r_writer[keep], r_key[keep]
        want = r_key.astype(np.int64) * n + r_writer.astype(np.int64)
        at = np.searchsorted(packed, want)
        hit = at < len(packed)
        hit[hit] = packed[at[hit]] == want[hit]
        reader_of, reader = at[hit], r_txn[hit].astype(np.int64)
    else:
        reader_of = reader = np.zeros(0, np.int64)
    return OpenWrites(key, txn, reader_of.astype(np.int64), reader)


def register_open_writes(
    w_key: np.ndarray,
    w_txn: np.ndarray,
    w_vid: np.ndarray,
    r_txn: np.ndarray,
    r_vid: np.ndarray,
    n_vids: np.ndarray,
) -> OpenWrites:
    """OpenWrites of register writes (one per txn and key: its last, each a distinct
    version id), readers matched by the version they read (no search)."""
    if not len(w_key):
        return NONE
    o = np.argsort(w_key, kind="stable")
    key, txn = w_key[o].astype(np.int64), w_txn[o].astype(np.int64)
    entry_of = np.full(int(n_vids[0]), -1, np.int64)
    entry_of[w_vid[o]] = np.arange(len(o))
    e = entry_of[r_vid]
    hit = e >= 0
    hit[hit] = txn[e[hit]] != r_txn[hit]
    return OpenWrites(key, txn, e[hit], r_txn[hit].astype(np.int64))


class LazyOpenWrites:
    """open_writes' arguments, kept until the complete search needs the entries (a
    model the cycle search rules out anyway never does: its sort is not paid)."""

    def __init__(self, *args: np.ndarray, make=open_writes) -> None:
        self.args: tuple[np.ndarray, ...] | None = args
        self.make = make
        self.size = len(args[0])  # write micro-ops (several per txn and key in list-append)
        self._made: OpenWrites | None = None

    def get(self) -> OpenWrites:
        if self._made is None:
            assert self.args is not None
            self._made, self.args = self.make(*self.args), None
        return self._made
