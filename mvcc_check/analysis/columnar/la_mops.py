"""List-append over columns, part 1: the transactions' micro-ops split by kind,
the registry of appended values, and the input checks.

Everything here is numpy over the micro-op columns. "History order" is the
order of `TxnColumns.mop_txn()`: transaction by transaction (by id), micro-op
by micro-op; `g` is a micro-op's position in that order.

Value identity follows Python equality as the dict-based inference did: the
columns intern values so that equal scalars get equal (tag, value) pairs, with
one wrinkle: an appended `null` is tagged NIL while a null inside a read list
is an atom of its own; both are mapped to one code here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mvcc_check.analysis.columnar import _split
from mvcc_check.analysis.columnar.excluded import NonUniqueWrites, repeated, values_of
from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import ATOM, INT, LIST, NIL, OK, Columns
from mvcc_check.history.ops import shorten as _short
from mvcc_check.history.pairing import TxnColumns

NEVER = np.int64(1) << 62  # "no such position"
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})  # always hashable types


@dataclass
class Mops:
    """Appends (a_*) and reads (r_*) of every transaction, in history order.

    g: position in history order; row: the micro-op's row in the columns;
    txn: the transaction id; pos: index among the transaction's micro-ops."""

    tc: TxnColumns
    n_mops: int
    first_write: int  # g of the first write (w) micro-op, or -1
    starts: np.ndarray  # per txn: the g of its first micro-op
    a_txn: np.ndarray
    a_pos: np.ndarray
    a_key: np.ndarray
    a_tag: np.ndarray
    a_val: np.ndarray
    a_multi: np.ndarray  # another micro-op of the txn (may) touch the same key
    r_txn: np.ndarray
    r_pos: np.ndarray
    r_key: np.ndarray
    r_tag: np.ndarray
    r_val: np.ndarray
    r_multi: np.ndarray

    @property
    def cols(self) -> Columns:
        return self.tc.cols

    def a_g(self, a: int) -> int:
        """The history position of append a."""
        return int(self.starts[self.a_txn[a]]) + int(self.a_pos[a])


_SHIFTS = 8  # txns up to this many micro-ops + 1 are compared exactly; longer ones all kept


def split_mops(tc: TxnColumns) -> Mops:
    """The transactions' micro-ops, appends and reads apart (writes only located), in
    one pass in C (`_split.c`). Each append and read says whether another micro-op of
    its txn (may) touch the same key: exactly for txns of up to _SHIFTS + 1 micro-ops,
    always for longer ones."""
    cols = tc.cols
    om = cols.op_mop
    lo = np.ascontiguousarray(om[tc.mop_row], np.int64)
    counts = np.ascontiguousarray(om[tc.mop_row + 1] - lo, np.int64)
    starts = np.cumsum(counts) - counts  # g of each txn's first micro-op
    kind = np.ascontiguousarray(cols.mop_kind, np.int8)
    n_app, n_read, first_write = _split.count(lo, counts, kind)
    sides = []
    for size in (n_app, n_read):
        sides += [np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.int32),
                  np.empty(size, np.int8), np.empty(size, np.int64), np.empty(size, bool)]  # fmt: skip
    _split.split(
        lo,
        counts,
        kind,
        np.ascontiguousarray(cols.mop_key, np.int32),
        np.ascontiguousarray(cols.mop_tag, np.int8),
        np.ascontiguousarray(cols.mop_value, np.int64),
        _SHIFTS,
        *sides,
    )
    total = int(counts.sum()) if len(counts) else 0
    return Mops(tc, total, first_write, starts, *sides)


def unhashable_atoms(cols: Columns) -> np.ndarray | None:
    """A flag per atom: not hashable (a map or list value); None if there is none."""
    atoms = cols.atoms
    if not atoms or set(map(type, atoms)) <= _PLAIN:
        return None
    flags = np.zeros(len(atoms), bool)
    for i, a in enumerate(atoms):
        if type(a) not in _PLAIN:
            try:
                hash(a)
            except TypeError:
                flags[i] = True
    return flags if flags.any() else None


SPREAD = 1 << 40  # (keys x integer span) from which integers are coded by rank
TABLE_SLACK = 1 << 16  # a direct table up to 8 entries per append plus this many


class Registry:
    """Appended values by (key, value): which append (an index into Mops.a_*)
    wrote a value, found with numpy for whole arrays of queries.

    A value is coded as an integer: INT values by their offset from the least
    appended integer (or, when the integers are too spread out, by their rank
    among the appended ones), atoms after them. (key, code) is one int64; the
    lookup is a direct table when that is small, else a sorted array."""

    def __init__(self, cols: Columns, m: Mops, ok: np.ndarray) -> None:
        """`ok`: the appends to register (all but unhashable ones)."""
        self.nkeys = len(cols.keys)
        n_atoms = len(cols.atoms)
        self.nil_atom = n_atoms  # the code of null, as appended and as a list element
        if (m.a_tag == NIL).any():
            self.nil_atom = next((i for i, a in enumerate(cols.atoms) if a is None), n_atoms)
        every = bool(ok.all())  # the usual case: no gathers needed below
        is_int = m.a_tag == INT
        ints = m.a_val if every and is_int.all() else m.a_val[ok & is_int]
        self.dense: np.ndarray | None = None
        self.vmin = int(ints.min()) if len(ints) else 0
        span = int(ints.max()) - self.vmin + 1 if len(ints) else 0
        if span * self.nkeys >= SPREAD:
            self.dense = np.unique(ints)
            span = len(self.dense)
        self.span = span
        self.width = span + n_atoms + 1
        if every and self.dense is None and len(ints) == len(ok):  # integers only: in range
            idx = np.arange(len(ok), dtype=np.int64)
            packed = m.a_key.astype(np.int64) * self.width
            packed += m.a_val
            packed -= self.vmin
            self.packed_of = packed  # (key, code) of each append
        elif every:
            idx = np.arange(len(ok), dtype=np.int64)
            packed = self.packed_of = self.pack(m.a_key, m.a_tag, m.a_val)
        else:
            idx = np.flatnonzero(ok)
            self.packed_of = np.full(len(m.a_tag), -1, np.int64)
            self.packed_of[idx] = self.pack(m.a_key[idx], m.a_tag[idx], m.a_val[idx])
            packed = self.packed_of[idx]
        size = self.nkeys * self.width
        self.table: np.ndarray | None = None
        if size <= 8 * len(idx) + TABLE_SLACK:
            self.table = np.full(size, -1, np.int32)
            self.table[packed] = idx.astype(np.int32)  # (with repeats the input is rejected)
            self.repeats = len(idx) - int(np.count_nonzero(self.table >= 0))
        else:
            order = np.argsort(packed, kind="stable")
            self.sorted = packed[order]
            self.sorted_idx = idx[order].astype(np.int32)
            same = self.sorted[1:] == self.sorted[:-1]
            self.repeats = int(np.count_nonzero(same))
            if self.repeats:
                keep = np.r_[True, ~same]
                self.sorted, self.sorted_idx = self.sorted[keep], self.sorted_idx[keep]

    def codes(self, tags: np.ndarray, vals: np.ndarray) -> np.ndarray:
        """The code of each (tag, value); -1 where no appended value can be equal."""
        is_int = tags == INT
        if self.dense is None and is_int.all():  # the common case: integers only
            c = vals - self.vmin
            return np.where((c >= 0) & (c < self.span), c, -1)
        out = np.full(len(tags), -1, np.int64)
        v = vals[is_int]
        if self.dense is not None:
            c = np.searchsorted(self.dense, v)
            hit = c < len(self.dense)
            hit[hit] = self.dense[c[hit]] == v[hit]
            out[np.flatnonzero(is_int)[hit]] = c[hit]
        else:
            c = v - self.vmin
            hit = (c >= 0) & (c < self.span)
            out[np.flatnonzero(is_int)[hit]] = c[hit]
        is_atom = tags == ATOM
        out[is_atom] = self.span + vals[is_atom]
        out[tags == NIL] = self.span + self.nil_atom
        return out

    def pack(self, keys: np.ndarray, tags: np.ndarray, vals: np.ndarray) -> np.ndarray:
        """(key, code) as one int64; -1 where no appended value can be equal."""
        c = self.codes(tags, vals)
        return np.where(c >= 0, keys.astype(np.int64) * self.width + c, -1)

    def find(self, packed: np.ndarray) -> np.ndarray:
        """The append (index into Mops.a_*) of each packed (key, code), -1 if none."""
        out = np.full(len(packed), -1, np.int32)
        hit = packed >= 0
        if self.table is not None:
            out[hit] = self.table[packed[hit]]
            return out
        q = packed[hit]
        pos = np.searchsorted(self.sorted, q)
        pos[pos == len(self.sorted)] = 0
        found = self.sorted[pos] == q if len(self.sorted) else np.zeros(len(q), bool)
        out[np.flatnonzero(hit)[found]] = self.sorted_idx[pos[found]]
        return out

    def lookup(self, keys: np.ndarray, tags: np.ndarray, vals: np.ndarray) -> np.ndarray:
        return self.find(self.pack(keys, tags, vals))


def first_repeat(reg: Registry, m: Mops, ok: np.ndarray) -> tuple[int, int] | None:
    """(second, first) appends of the first value appended twice to a key, in
    history order; None if every value is appended once."""
    if not reg.repeats:
        return None
    idx = np.flatnonzero(ok)
    packed = reg.packed_of[idx]
    order = np.argsort(packed, kind="stable")
    s = packed[order]
    same = np.flatnonzero(s[1:] == s[:-1]) + 1
    second = idx[order[same]]
    j = int(np.argmin(second))
    grp = s[same[j]]
    first = idx[order[np.searchsorted(s, grp)]]
    return int(second[j]), int(first)


def input_error(m: Mops) -> tuple[HistoryError | None, Registry | None]:
    """The first input problem in the order the per-op check met them (appends
    and writes over the whole history, then reads), and the registry if none."""
    cols = m.cols
    bad_atom = unhashable_atoms(cols)
    unh = m.a_tag == LIST
    if bad_atom is not None:
        unh |= (m.a_tag == ATOM) & bad_atom[np.where(m.a_tag == ATOM, m.a_val, 0)]
    reg = Registry(cols, m, ~unh)
    rep = first_repeat(reg, m, ~unh)
    cands = [(m.first_write, "w", -1)] if m.first_write >= 0 else []
    hits = np.flatnonzero(unh)
    if len(hits):
        cands.append((m.a_g(int(hits[0])), "unhashable", int(hits[0])))
    if rep is not None:
        cands.append((m.a_g(rep[0]), "repeat", rep[0]))
    if cands:
        first = min(cands)
        if first[1] != "repeat":
            return _pass1_error(m, rep, *first), None
        return _non_unique(m, reg, ~unh, rep, first, cands, bad_atom), None
    err = _read_error(m, bad_atom)
    return err, (reg if err is None else None)


def _non_unique(
    m: Mops,
    reg: Registry,
    ok: np.ndarray,
    rep: tuple[int, int] | None,
    first: tuple[int, str, int],
    cands: list[tuple[int, str, int]],
    bad_atom: np.ndarray | None,
) -> NonUniqueWrites:
    """The repeat error, naming every key with a repeated append and the first other problem."""
    others = [c for c in cands if c[1] != "repeat"]
    other = _pass1_error(m, rep, *min(others)) if others else _read_error(m, bad_atom)
    ident = np.where(ok, reg.packed_of, -1)
    keys, records = repeated(m.tc, ident, m.a_key, m.a_txn, values_of(m.tc, m.a_tag, m.a_val))
    return NonUniqueWrites(_pass1_error(m, rep, *first), keys, records, other)


def _txn_mop(m: Mops, g: int) -> tuple[int, int]:
    """(txn, index within it) of the micro-op at history position g."""
    t = int(np.searchsorted(m.starts, g, "right")) - 1  # the last txn starting at or before g
    return t, g - int(m.starts[t])


def exact_mop(tc: TxnColumns, t: int, i: int) -> list[Any]:
    """Micro-op i of txn t exactly as written (from the op itself)."""
    return list(tc.cols.op(int(tc.mop_row[t])).value[i])


def _where(tc: TxnColumns, t: int) -> str:
    return tc.cols.where(tc.op_row(t))


def _pass1_error(m: Mops, rep: tuple[int, int] | None, g: int, what: str, a: int) -> HistoryError:
    tc = m.tc
    src = m.cols.source
    t, i = _txn_mop(m, g)
    if what == "w":
        return HistoryError(
            src, _where(tc, t), "a write (w) in a list-append history: mixed workloads"
        )
    _, k, v = exact_mop(tc, t, i)
    if what == "unhashable":
        return HistoryError(src, _where(tc, t), f"appended value {v!r} is not a scalar")
    assert rep is not None
    prev = int(m.a_txn[rep[1]])
    return HistoryError(
        src,
        _where(tc, t),
        f"value {v!r} is appended to key {k!r} twice (also by the op at {_where(tc, prev)}); "
        "list-append needs unique values per key",
    )


def _read_error(m: Mops, bad_atom: np.ndarray | None) -> HistoryError | None:
    """The first read that returns no list, or (committed) a list with an unhashable element."""
    cols = m.cols
    tc = m.tc
    shape = (m.r_tag == INT) | (m.r_tag == ATOM)
    if bad_atom is not None:
        ok_list = np.flatnonzero((m.r_tag == LIST) & (tc.status[m.r_txn] == OK))
        lists = m.r_val[ok_list]
        el = np.flatnonzero(
            (cols.el_tag == ATOM) & bad_atom[np.where(cols.el_tag == ATOM, cols.el_value, 0)]
        )
        owner = np.searchsorted(cols.el_start, el, "right") - 1
        shape[ok_list[np.isin(lists, owner)]] = True
    hits = np.flatnonzero(shape)
    if not len(hits):
        return None
    r = int(hits[0])
    t, i = int(m.r_txn[r]), int(m.r_pos[r])
    _, k, v = exact_mop(tc, t, i)
    if m.r_tag[r] == LIST:
        why = f"read of key {k!r} returned {_short(v)}: list elements must be scalars"
    else:
        why = f"read of key {k!r} returned {v!r}: a list-append read must return a list"
    return HistoryError(cols.source, _where(tc, t), why)
