"""List-append over columns, part 4: the anomaly records.

Which reads are anomalous is decided with numpy (la_reads, la_within); the
records themselves, JSON-ready and in the order the per-txn pass reported
them, are built here in Python for the anomalous items only. Values in
records are as written: they come from the quoted ops themselves.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from mvcc_check.analysis.columnar import _split
from mvcc_check.analysis.columnar.la_mops import NEVER, Mops, Registry
from mvcc_check.analysis.columnar.la_reads import (
    Orders,
    Reads,
    dup_positions,
    first_failed,
    key_firsts,
)
from mvcc_check.analysis.columnar.la_within import FUTURE, INTERNAL, Within, odd_group_events
from mvcc_check.analysis.inference import Anomaly
from mvcc_check.history.columns import FAIL
from mvcc_check.history.ops import Op
from mvcc_check.history.pairing import TxnColumns

DUP, G1A, G1B, GARBAGE = 0, 3, 4, 5  # ranks of a read's anomalies, with FUTURE and INTERNAL


class Exact:
    """Ops, micro-ops and values exactly as written, for records (ops cached)."""

    def __init__(self, tc: TxnColumns) -> None:
        self.tc = tc
        self._ops: dict[int, Op] = {}

    def op(self, row: int) -> Op:
        op = self._ops.get(row)
        if op is None:
            op = self._ops[row] = self.tc.cols.op(row)
        return op

    def op_json(self, t: int) -> dict[str, Any]:
        return self.op(self.tc.op_row(t)).to_json()

    def mop(self, t: int, i: int) -> list[Any]:
        return list(self.op(int(self.tc.mop_row[t])).value[i])

    def value(self, t: int, i: int) -> Any:
        return self.op(int(self.tc.mop_row[t])).value[i][2]

    def read(self, t: int, i: int) -> list:
        v = self.value(t, i)
        return [] if v is None else v


Event = tuple[int, int, int, int, str, Anomaly]  # (txn, pos, rank, seq, kind, record)


def read_events(m: Mops, rd: Reads, o: Orders, w: Within, reg: Registry, ex: Exact) -> list[Event]:
    """Every read's non-cycle anomalies (duplicates, future, internal, G1a, G1b, garbage)."""
    events: list[Event] = []
    status = m.tc.status
    n = rd.n
    dup, g1a, garbage, g1b, g1b_app = _flagged_reads(m, rd, o, w)
    for r in dup.tolist():
        events.append(_event(rd, r, DUP, "duplicate-elements", _duplicates(rd, r, ex)))
    for r in g1a.tolist():
        lo = int(o.off[rd.key[r]])
        writers = o.f_writer[lo : lo + int(n[r])]
        for j in np.flatnonzero(writers >= 0).tolist():
            if status[writers[j]] == FAIL:
                e = ex.read(int(rd.txn[r]), int(rd.pos[r]))[j]
                events.append(_event(rd, r, G1A, "G1a", _g1a(rd, r, e, int(writers[j]), ex)))
    for r in garbage.tolist():
        lo = int(o.off[rd.key[r]])
        unknown = np.flatnonzero(o.f_app[lo : lo + int(n[r])] < 0).tolist()
        events.append(_garbage_event(rd, r, unknown, ex))
    for r, a in zip(g1b.tolist(), g1b_app.tolist(), strict=True):
        _g1b(m, rd, r, a, ex, events)
    for r, j in zip(w.future.tolist(), w.future_pos.tolist(), strict=True):
        e = ex.read(int(rd.txn[r]), int(rd.pos[r]))[j]
        events.append(_event(rd, r, FUTURE, "future-read", _read_record(rd, r, ex, element=e)))
    _bad_reads(m, rd, np.flatnonzero(rd.bad), reg, w, ex, events)
    for apps, reads in w.odd_groups:
        _odd_group(m, rd, apps, reads, ex, events)
    events.sort(key=lambda e: e[:4])
    return events


def _flagged_reads(m: Mops, rd: Reads, o: Orders, w: Within) -> tuple[np.ndarray, ...]:
    """The prefix reads (of their key's longest) whose length passes their key's first
    repeated, failed or unknown position, and those whose last element an append wrote
    that its txn followed with another to the key (with that append): in one C pass."""
    failed, unknown = key_firsts(o, m.tc.status)
    r = len(rd.n)
    out = [np.empty(r, np.int64) for _ in range(5)]
    counts = _split.read_flags(
        np.ascontiguousarray(rd.key, np.int32),
        np.ascontiguousarray(rd.n, np.int64),
        rd.bad.view(np.uint8),
        np.ascontiguousarray(o.off, np.int64),
        np.ascontiguousarray(o.f_app, np.int32),
        dup_positions(o, m),
        failed,
        unknown,
        w.intermediate.view(np.uint8),
        *out,
    )
    sizes = [*counts, counts[-1]]
    return tuple(a[:k] for a, k in zip(out, sizes, strict=True))


def _event(rd: Reads, r: int, rank: int, kind: str, record: Anomaly) -> Event:
    return (int(rd.txn[r]), int(rd.pos[r]), rank, 0, kind, record)


def _read_record(rd: Reads, r: int, ex: Exact, **extra: Any) -> Anomaly:
    t, i = int(rd.txn[r]), int(rd.pos[r])
    return {"op": ex.op_json(t), "mop": ex.mop(t, i), **extra}


def _garbage_event(rd: Reads, r: int, at: list[int], ex: Exact) -> Event:
    """A garbage read: the read's elements at positions `at` were appended by nobody."""
    v = ex.read(int(rd.txn[r]), int(rd.pos[r]))
    unknown = [v[j] for j in at]
    record = _read_record(rd, r, ex, element=unknown[0], elements=unknown)
    return _event(rd, r, GARBAGE, "garbage-read", record)


def _duplicates(rd: Reads, r: int, ex: Exact) -> Anomaly:
    v = ex.read(int(rd.txn[r]), int(rd.pos[r]))
    dups = {e: c for e, c in Counter(v).items() if c > 1}
    return _read_record(rd, r, ex, duplicates=dups)


def _g1a(rd: Reads, r: int, e: Any, writer: int, ex: Exact) -> Anomaly:
    return _read_record(rd, r, ex, writer=ex.op_json(writer), element=e)


def _g1b(m: Mops, rd: Reads, r: int, app: int, ex: Exact, events: list[Event]) -> None:
    """An intermediate read: the read's last element, appended by another
    (not failed) txn that appended to the key again afterwards."""
    w = int(m.a_txn[app])
    if w != int(rd.txn[r]) and m.tc.status[w] != FAIL:
        e = ex.read(int(rd.txn[r]), int(rd.pos[r]))[-1]
        events.append(_event(rd, r, G1B, "G1b", _g1a(rd, r, e, w, ex)))


def _bad_reads(
    m: Mops, rd: Reads, bad: np.ndarray, reg: Registry, w: Within, ex: Exact, events: list[Event]
) -> None:
    """Reads that are no prefix of their key's longest read, element by element
    (all of them at once): duplicates, aborted reads, intermediate reads."""
    n = rd.n[bad]
    total = int(n.sum()) if len(n) else 0
    if not total:
        return
    cols = m.cols
    ends = np.cumsum(n)
    owner = np.repeat(np.arange(len(bad)), n)
    el = np.repeat(rd.start[bad] - (ends - n), n) + np.arange(total)
    tags, vals = cols.el_tag[el], cols.el_value[el]
    apps = reg.lookup(rd.key[bad][owner], tags, vals)
    order = np.lexsort((vals, tags, owner))
    same = (owner[order][1:] == owner[order][:-1]) & (tags[order][1:] == tags[order][:-1])
    same &= vals[order][1:] == vals[order][:-1]
    dup = np.zeros(len(bad), bool)
    dup[owner[order][1:][same]] = True
    known = apps >= 0
    writer = np.full(total, -1, np.int64)
    writer[known] = m.a_txn[apps[known]]
    failed = known & (m.tc.status[np.maximum(writer, 0)] == FAIL)
    last = ends - 1
    g1b = np.zeros(len(bad), bool)
    nonempty = np.flatnonzero(n > 0)
    last_app = apps[last[nonempty]]
    has_app = last_app >= 0  # (with no append at all, w.intermediate is empty)
    inter = np.zeros(len(last_app), bool)
    inter[has_app] = w.intermediate[last_app[has_app]]
    g1b[nonempty[inter]] = True
    garbage = np.bincount(owner[~known], minlength=len(bad)).astype(bool)
    for j in np.flatnonzero(
        dup | g1b | garbage | np.bincount(owner[failed], minlength=len(bad)).astype(bool)
    ).tolist():
        r = int(bad[j])
        if dup[j]:
            events.append(_event(rd, r, DUP, "duplicate-elements", _duplicates(rd, r, ex)))
        lo = int(ends[j] - n[j])
        hits = np.flatnonzero(failed[lo : int(ends[j])]).tolist()
        if hits:
            v = ex.read(int(rd.txn[r]), int(rd.pos[r]))
            for e in hits:
                events.append(_event(rd, r, G1A, "G1a", _g1a(rd, r, v[e], int(writer[lo + e]), ex)))
        if g1b[j]:
            _g1b(m, rd, r, int(apps[last[j]]), ex, events)
        if garbage[j]:
            at = np.flatnonzero(~known[lo : int(ends[j])]).tolist()
            events.append(_garbage_event(rd, r, at, ex))


def _odd_group(
    m: Mops, rd: Reads, apps: np.ndarray, reads: np.ndarray, ex: Exact, events: list[Event]
) -> None:
    t = int(rd.txn[reads[0]])
    appended = [(int(m.a_pos[a]), ex.value(t, int(m.a_pos[a]))) for a in apps.tolist()]
    seen = [(r, int(rd.pos[r]), ex.read(t, int(rd.pos[r]))) for r in reads.tolist()]
    for r, rank, extra in odd_group_events(seen, appended):
        kind = "future-read" if rank == FUTURE else "internal"
        assert rank in (FUTURE, INTERNAL)
        events.append(_event(rd, r, rank, kind, _read_record(rd, r, ex, **extra)))


def incompatible_orders(m: Mops, rd: Reads, o: Orders, ex: Exact) -> list[Anomaly]:
    """Per key whose reads disagree (in first-read order): each distinct read that
    is no prefix of the longest, shortest first (ties in set order, as before)."""
    out: list[Anomaly] = []
    keys = m.cols.keys
    bad_keys = o.read_order[o.inconsistent[o.read_order]]
    if not len(bad_keys):
        return out
    on_key = np.flatnonzero(o.inconsistent[rd.key])
    on_key = on_key[np.argsort(rd.key[on_key], kind="stable")]  # by key, in history order
    sorted_keys = rd.key[on_key]
    for kid in bad_keys.tolist():
        lo, hi = np.searchsorted(sorted_keys, np.array([kid, kid + 1], sorted_keys.dtype))
        mine = on_key[lo:hi]
        L = int(o.longest[kid])
        order = ex.read(int(rd.txn[L]), int(rd.pos[L]))
        # The distinct values in first-occurrence order (a set's order depends on
        # its insertions): prefixes by length, the others by their elements.
        reads: set[tuple] = set()
        for r in _distinct_reads(m, rd, mine):
            if rd.bad[r]:
                reads.add(tuple(ex.read(int(rd.txn[r]), int(rd.pos[r]))))
            else:  # a prefix: equal to (so hashed as) the longest read's first n values
                reads.add(tuple(order[: int(rd.n[r])]))
        for val in sorted(reads, key=len):
            if tuple(order[: len(val)]) != val:
                out.append({"key": keys[kid], "values": [list(val), list(order)]})
    return out


def _distinct_reads(m: Mops, rd: Reads, mine: np.ndarray) -> list[int]:
    """The first read of each distinct value among reads `mine` (history order)."""
    good = mine[~rd.bad[mine]]
    firsts = set(good[np.unique(rd.n[good], return_index=True)[1]].tolist())
    seen: set[tuple[bytes, bytes]] = set()
    tag, val = m.cols.el_tag, m.cols.el_value
    for r in mine[rd.bad[mine]].tolist():
        lo, hi = int(rd.start[r]), int(rd.start[r] + rd.n[r])
        code = (tag[lo:hi].tobytes(), val[lo:hi].tobytes())
        if code not in seen:
            seen.add(code)
            firsts.add(r)
    return sorted(firsts)


def dirty_updates(m: Mops, rd: Reads, o: Orders, ex: Exact) -> list[Anomaly]:
    """A committed (or indeterminate) append after an aborted one in a key's
    order: one record per key, keys in the order the per-txn pass met them."""
    status = m.tc.status
    ff = first_failed(o, status)
    known = o.f_writer >= 0
    later = np.zeros(len(known), bool)
    later[known] = status[o.f_writer[known]] != FAIL
    later &= o.f_j > ff[o.f_key]
    first_ok = np.full(len(o.off), NEVER, np.int64)
    np.minimum.at(first_ok, o.f_key[later], o.f_j[later])
    hits = np.flatnonzero(first_ok < NEVER)
    if not len(hits):
        return []
    keys = m.cols.keys
    # The per-txn pass went through `writers.keys() & longest.keys()`: a set, whose
    # order is reproduced by building the same two dicts.
    first_app = np.full(len(o.off), NEVER, np.int64)
    np.minimum.at(first_app, m.a_key, np.arange(len(m.a_key)))  # appends are in history order
    failed = np.zeros(len(o.off), bool)
    failed[m.a_key[status[m.a_txn] == FAIL]] = True
    with_failed = np.flatnonzero(failed & (first_app < NEVER))
    failed_keys = {keys[k]: None for k in with_failed[np.argsort(first_app[with_failed])].tolist()}
    longest = {keys[k]: None for k in o.read_order.tolist()}
    kid_of = {keys[k]: k for k in hits.tolist()}
    out: list[Anomaly] = []
    for k in failed_keys.keys() & longest.keys():
        kid = kid_of.get(k)
        if kid is None:
            continue
        L = int(o.longest[kid])
        order = ex.read(int(rd.txn[L]), int(rd.pos[L]))
        a, b = int(ff[kid]), int(first_ok[kid])
        lo = int(o.off[kid])
        out.append(
            {
                "key": k,
                "values": [order[a], order[b]],
                "txns": [
                    ex.op_json(int(o.f_writer[lo + a])),
                    "...",
                    ex.op_json(int(o.f_writer[lo + b])),
                ],
            }
        )
    return out


def lost_updates(m: Mops, rd: Reads, o: Orders, w: Within, ex: Exact) -> list[Anomaly]:
    """Two or more committed txns that read the same state of a key and then
    appended to it: one record per (key, value read), in first-read order."""
    cand = np.flatnonzero(w.lost_candidate)
    if len(cand) < 2:
        return []
    width = int(rd.n.max()) + 1
    group = rd.key[cand].astype(np.int64) * width + rd.n[cand]
    bad = np.flatnonzero(rd.bad[cand])
    if len(bad):  # reads that are no prefix: grouped by value, after every length
        ids: dict[tuple[int, tuple[bytes, bytes]], int] = {}
        base = int(len(o.off)) * width
        for j in bad.tolist():
            r = int(cand[j])
            lo, hi = int(rd.start[r]), int(rd.start[r] + rd.n[r])
            v = (m.cols.el_tag[lo:hi].tobytes(), m.cols.el_value[lo:hi].tobytes())
            group[j] = base + ids.setdefault((int(rd.key[r]), v), len(ids))
    order = np.argsort(group, kind="stable")
    s = group[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    sizes = np.diff(np.r_[starts, len(s)])
    big = starts[sizes > 1]
    if not len(big):
        return []
    keys = m.cols.keys
    out: list[tuple[int, Anomaly]] = []
    for a, size in zip(big.tolist(), sizes[sizes > 1].tolist(), strict=True):
        members = cand[order[a : a + size]]
        r = int(members[0])
        out.append(
            (
                r,
                {
                    "key": keys[int(rd.key[r])],
                    "value": list(ex.read(int(rd.txn[r]), int(rd.pos[r]))),
                    "txns": [ex.op_json(int(rd.txn[x])) for x in members.tolist()],
                },
            )
        )
    out.sort(key=lambda item: item[0])
    return [record for _, record in out]
