"""List-append over columns, part 2: committed reads and each key's longest read.

Every read must be a prefix of its key's version order, and the longest read
(the first of the greatest length) gives that order. Each read is checked
against it element by element in numpy; a read that is a prefix is then fully
described by its length, so everything downstream works on lengths and on
one flat table of the longest reads' positions (`Orders`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.analysis.columnar import _split
from mvcc_check.analysis.columnar.la_mops import NEVER, Mops, Registry
from mvcc_check.history.columns import FAIL, INT, OK


@dataclass
class Reads:
    """The committed transactions' reads, in history order (index: read id)."""

    src: np.ndarray  # index into Mops.r_*
    txn: np.ndarray
    pos: np.ndarray
    key: np.ndarray
    n: np.ndarray  # length (a null read is empty)
    start: np.ndarray  # row of the first element in the element columns
    bad: np.ndarray  # not a prefix of the key's longest read


@dataclass
class Orders:
    """Per key (by key id) its longest read; per position of those reads
    (flat, key by key: position j of key k is off[k] + j) the append that wrote it."""

    longest: np.ndarray  # read id of the key's longest read, -1 if no committed read
    length: np.ndarray  # its length (0 if none)
    start: np.ndarray  # its first element's row
    off: np.ndarray
    f_key: np.ndarray
    f_j: np.ndarray
    f_app: np.ndarray  # the append (index into Mops.a_*) that wrote it, -1: nobody
    f_writer: np.ndarray  # the txn that wrote it, -1: nobody
    f_node: np.ndarray  # the writer unless it failed (a graph node), else -1
    read_order: np.ndarray  # keys in the order of their first committed read
    inconsistent: np.ndarray  # per key: some read is no prefix of the longest


def committed_reads(m: Mops) -> Reads:
    """The reads of committed (ok) transactions, in one pass in C (`_split.committed`)."""
    r = len(m.r_txn)
    src, n, start = np.empty(r, np.int64), np.empty(r, np.int64), np.empty(r, np.int64)
    txn, pos, key = np.empty(r, np.int32), np.empty(r, np.int32), np.empty(r, np.int32)
    count = _split.committed(
        np.ascontiguousarray(m.tc.status, np.int8),
        OK,
        *(np.ascontiguousarray(a, np.int32) for a in (m.r_txn, m.r_pos, m.r_key)),
        np.ascontiguousarray(m.r_tag, np.int8),
        np.ascontiguousarray(m.r_val, np.int64),
        np.ascontiguousarray(m.cols.el_start, np.int64),
        src, txn, pos, key, n, start,
    )  # fmt: skip
    for column in (src, txn, pos, key, n, start):
        column.resize(count, refcheck=False)
    return Reads(src, txn, pos, key, n, start, np.zeros(count, bool))


def version_orders(m: Mops, rd: Reads, reg: Registry) -> Orders:
    """Each key's longest read, the prefix check of every read against it, and
    the writer of every position of the longest reads."""
    nkeys = len(m.cols.keys)
    cols = m.cols
    length, longest, lstart = (
        np.empty(nkeys, np.int64),
        np.empty(nkeys, np.int64),
        np.empty(nkeys, np.int64),
    )
    read_order, inconsistent = np.empty(nkeys, np.int64), np.empty(nkeys, bool)
    seen = _split.longest(
        np.ascontiguousarray(rd.key, np.int32),
        np.ascontiguousarray(rd.n, np.int64),
        np.ascontiguousarray(rd.start, np.int64),
        np.ascontiguousarray(cols.el_value, np.int64),
        np.ascontiguousarray(cols.el_tag, np.int8),
        _not_all_ints(cols.el_tag),
        length, longest, lstart, read_order,
        rd.bad.view(np.uint8),
        inconsistent.view(np.uint8),
    )  # fmt: skip
    read_order = read_order[:seen]
    f = int(length.sum())
    off, f_key, f_j = np.empty(nkeys, np.int64), np.empty(f, np.int32), np.empty(f, np.int64)
    f_app, f_writer, f_node = np.empty(f, np.int32), np.empty(f, np.int64), np.empty(f, np.int64)
    direct = reg.table is not None and reg.dense is None  # else looked up below
    _split.positions(
        length, lstart, np.ascontiguousarray(cols.el_tag, np.int8),
        np.ascontiguousarray(cols.el_value, np.int64),
        reg.table if direct else None, reg.width, reg.vmin, reg.span, reg.span + reg.nil_atom,
        np.ascontiguousarray(m.a_txn, np.int32), np.ascontiguousarray(m.tc.status, np.int8), FAIL,
        off, f_key, f_j, f_app, f_writer, f_node,
    )  # fmt: skip
    if not direct:
        el = lstart[f_key] + f_j
        f_app = reg.lookup(f_key, cols.el_tag[el], cols.el_value[el])
        known = f_app >= 0
        f_writer = np.full(len(f_app), -1, np.int64)
        f_writer[known] = m.a_txn[f_app[known]]
        f_node = f_writer.copy()
        f_node[known] = np.where(m.tc.status[f_writer[known]] == FAIL, -1, f_writer[known])
    return Orders(
        longest, length, lstart, off, f_key, f_j, f_app, f_writer, f_node, read_order,
        inconsistent,
    )  # fmt: skip


def _not_all_ints(tags: np.ndarray) -> bool:
    """Whether some element is no integer (two reductions, no temporary)."""
    return bool(len(tags)) and not (tags.min() == INT and tags.max() == INT)


def dup_positions(o: Orders, m: Mops) -> np.ndarray:
    """Per key, the first position of its longest read that repeats an earlier
    element (NEVER if none)."""
    nkeys = len(o.off)
    out = np.full(nkeys, NEVER, np.int64)
    F = len(o.f_app)
    if not F:
        return out
    # Known elements: an append written at two positions (in C: `_split.first_repeats`).
    _split.first_repeats(
        np.ascontiguousarray(o.f_app, np.int32),
        np.ascontiguousarray(o.f_key, np.int32),
        np.ascontiguousarray(o.f_j, np.int64),
        len(m.a_txn),
        out,
    )
    unknown = np.flatnonzero(o.f_app < 0)
    if len(unknown):
        el = o.start[o.f_key[unknown]] + o.f_j[unknown]
        tag, val = m.cols.el_tag[el], m.cols.el_value[el]
        order = np.lexsort((unknown, val, tag, o.f_key[unknown]))
        same = (
            (o.f_key[unknown][order][1:] == o.f_key[unknown][order][:-1])
            & (tag[order][1:] == tag[order][:-1])
            & (val[order][1:] == val[order][:-1])
        )
        rep = unknown[order][1:][same]
        np.minimum.at(out, o.f_key[rep], o.f_j[rep])
    return out


def first_failed(o: Orders, status: np.ndarray) -> np.ndarray:
    """Per key, the first position of its longest read appended by a failed txn."""
    return key_firsts(o, status)[0]


def key_firsts(o: Orders, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per key, the first position of its longest read appended by a failed txn, and
    the first that no txn appended (NEVER if none): one C pass, kept on `o`."""
    got = o.__dict__.get("_firsts")
    if got is None:
        failed, unknown = np.full(len(o.off), NEVER, np.int64), np.full(len(o.off), NEVER, np.int64)
        _split.key_firsts(
            np.ascontiguousarray(o.f_key, np.int32),
            np.ascontiguousarray(o.f_j, np.int64),
            np.ascontiguousarray(o.f_app, np.int32),
            np.ascontiguousarray(o.f_writer, np.int64),
            np.ascontiguousarray(status, np.int8),
            FAIL,
            failed,
            unknown,
        )
        got = o.__dict__["_firsts"] = (failed, unknown)
    return got
