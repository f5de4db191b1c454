"""Inference for list-append histories (Kingsbury & Alvaro 2020, section 4).

Each key holds a list; transactions append unique values and read whole
lists. Every read is a prefix of the key's version order, so the longest read
gives the order of the values it contains, and from it:

- ww: the writer of each element precedes the writer of the next;
- wr: the writer of a read's last element precedes the reader;
- rw: a reader precedes the writer of the element after what it saw.

Non-cycle anomalies found on the way: G1a (aborted read), G1b (intermediate
read), internal, dirty-update, duplicate-elements, incompatible-order,
future-read, lost-update.

How it stays fast and small on million-transaction histories: one pass over
the micro-ops registers appends (per key, value -> writer id) and keeps one
compact record per read (reader, micro-op index, key id, length) in flat
arrays; no read list is copied. Each key's longest read is kept as the pass
goes, with whether every read so far is a prefix of it. A read that is a
prefix of the longest is fully described by its length, so edges, aborted
and intermediate reads and duplicates come from numpy over the records; only
reads that are no prefix (on keys whose reads disagree, checked one by one
at the end) take the plain per-read path. The explainer, called only for the
edges of reported cycles, re-reads what it needs from `txn.mops`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from mvcc_check.analysis.graph import RW, WR, WW, EdgeBuilder
from mvcc_check.errors import HistoryError
from mvcc_check.history.ops import shorten as _short
from reference.keyed_pass import (
    Anomaly,
    Inference,
    KeyedPass,
    Malformed,
    as_array,
    op_json,
)
from reference.txns import Txn, TxnHistory

OK, INFO, FAIL = 0, 1, 2
_STATUS = {"ok": OK, "info": INFO, "fail": FAIL}
_NEVER = np.iinfo(np.int64).max  # "no such position"

# The order in which one read's anomalies are reported.
_DUP, _FUTURE, _INTERNAL, _G1A, _G1B, _GARBAGE = range(6)


class _Pass(KeyedPass):
    """What the single pass learns about list-append, beyond every workload's part."""

    def __init__(self) -> None:
        super().__init__()
        self.longest: list[
            list | None
        ] = []  # key id -> the longest read so far (the read's own list)
        self.read_order: list[int] = []  # key ids in the order of their first read
        self.inconsistent: set[int] = set()  # key ids with a read that is no prefix of the longest
        self.fail_kids = array("q")  # key id of each append by a failed txn
        self.info_kids = array("q")  # key id of each append by an indeterminate txn
        # Per read record also: its length, and ext: a read of committed state
        # (not after the txn's own append to the key).
        self.r_len = array("i")
        self.r_ext = bytearray()
        self.lost_candidates: list[
            tuple[int, int, int]
        ] = []  # (txn, mop, key id): read k, then appended k

    def new_key(self) -> None:
        self.longest.append(None)

    append = KeyedPass.register

    def read(self, kid: int, v: list) -> None:
        """Keep the key's longest read (the first of the greatest length) and
        note when a read is no prefix of it (or it no prefix of the read)."""
        longest = self.longest[kid]
        if longest is None:
            self.longest[kid] = v
            self.read_order.append(kid)
            return
        n, m = len(v), len(longest)
        if n > m:
            if v[:m] != longest:
                self.inconsistent.add(kid)
            self.longest[kid] = v
        elif n and v != longest[:n]:
            self.inconsistent.add(kid)


def infer(th: TxnHistory) -> Inference:
    """Edges, non-cycle anomalies and an explainer for a list-append history;
    HistoryError (the first problem, in the order of checks) on malformed input."""
    try:
        p = _scan(th)
        keys = _KeyTables(p)
        return _conclude(th, p, keys)
    except (Malformed, TypeError) as e:  # TypeError: an unhashable value met a dict or set
        _raise_first_error(th)
        raise AssertionError("list-append inference: input check disagreement (a bug)") from e


def _scan(th: TxnHistory) -> _Pass:
    """The single pass: register appends, record reads, find internal and future reads."""
    p = _Pass()
    status = p.status
    key_ids = p.key_ids
    longest = p.longest
    wdicts = p.wdicts
    inconsistent = p.inconsistent
    new_kid = p.kid
    r_tid, r_mop, r_kid, r_len, r_ext = (
        p.r_tid.append,
        p.r_mop.append,
        p.r_kid.append,
        p.r_len.append,
        p.r_ext.append,
    )
    fail_kid, info_kid = p.fail_kids.append, p.info_kids.append
    intermediate = p.intermediate
    touched = p.touched
    empty: list = []
    for t in th.txns:
        mops = t.mops
        st = _STATUS[t.status]
        status.append(st)
        if st != OK:
            # A failed or indeterminate txn: its appends are registered, its reads
            # carry no information.
            note = fail_kid if st == FAIL else info_kid
            tid = t.id
            for f, k, v in mops:
                if f == "append":
                    kid = key_ids.get(k)
                    if kid is None:
                        kid = new_kid(k)
                    wk = wdicts[kid]
                    if wk is None:
                        p.append(kid, v, tid)
                    elif v in wk:
                        raise Malformed
                    else:
                        if (
                            touched[kid] is tid
                        ):  # this txn appended to k before: that append is intermediate
                            intermediate.setdefault(kid, set()).add(next(reversed(wk)))
                        wk[v] = tid
                    touched[kid] = tid
                    note(kid)
                elif f != "r" or (v is not None and not isinstance(v, list)):
                    raise Malformed
            continue
        # Fast path, the common case: a committed txn touching each key once, so
        # every read is external, every append final, and no internal or future
        # read is possible. At the first key touched twice the rest of the txn
        # goes to the general path.
        tid = t.id
        for i, (f, k, v) in enumerate(mops):
            kid = key_ids.get(k)
            if kid is None:
                kid = new_kid(k)
            if touched[kid] is tid:
                _scan_general(p, t, i)
                break
            touched[kid] = tid
            if f == "append":
                wk = wdicts[kid]
                if wk is None or v in wk:
                    p.append(kid, v, tid)
                else:
                    wk[v] = tid
                continue
            if f != "r":
                raise Malformed
            if type(v) is not list:
                if v is not None:
                    raise Malformed
                v = empty
            n = len(v)
            cur = longest[kid]
            if cur is None:
                longest[kid] = v
                p.read_order.append(kid)
            elif n > len(cur):
                if v[: len(cur)] != cur:
                    inconsistent.add(kid)
                longest[kid] = v
            elif n and v != (cur if n == len(cur) else cur[:n]):
                inconsistent.add(kid)
            r_tid(tid)
            r_mop(i)
            r_kid(kid)
            r_len(n)
            r_ext(1)
    return p


def _scan_general(p: _Pass, t: Txn, start: int) -> None:
    """The rest of a committed txn that touches some key twice, from mops[start]
    on (the first repeated touch): internal and future reads are possible. The
    fast path has already registered and recorded mops[:start], which touch
    distinct keys."""
    tid = t.id
    mops = t.mops
    key_ids = p.key_ids
    wdicts = p.wdicts
    appended_at: dict[Any, dict[Any, int]] = {}  # key -> {own appended value: mop index}
    for i, (f, k, v) in enumerate(mops):
        if f != "append":
            if f != "r":
                raise Malformed
            continue
        own = appended_at.get(k)
        if own is None:
            appended_at[k] = {v: i}
        else:
            own[v] = i
        if i < start:
            continue
        kid = key_ids.get(k)
        if kid is None:
            kid = p.kid(k)
        wk = wdicts[kid]
        if wk is None:
            p.append(kid, v, tid)
        elif v in wk:
            raise Malformed
        else:
            prev = next(reversed(wk))  # this txn's own earlier append to k, if any
            if wk[prev] == tid:
                p.intermediate.setdefault(kid, set()).add(prev)
            wk[v] = tid
    events = p.events
    known: dict[Any, list] = {}  # key -> the full list this txn must read next
    suffix: dict[Any, list] = {}  # key -> own appends since the last read, prefix unknown
    ext_keys: set[Any] = set()
    for i in range(start):  # first touches: external reads, appends with no read before
        mop = mops[i]
        f, k, v = mop
        if f == "append":
            suffix[k] = [v]
            continue
        if v is None:
            v = []
        own = appended_at.get(k)
        if own is not None:
            if not own.keys().isdisjoint(v):
                for e in v:
                    if e in own:  # appended later (nothing of k came before)
                        events.append(
                            (
                                tid,
                                i,
                                _FUTURE,
                                "future-read",
                                {"op": op_json(t), "mop": list(mop), "element": e},
                            )
                        )
                        break
            p.lost_candidates.append((tid, i, key_ids[k]))
        known[k] = list(v)
        ext_keys.add(k)
    for i in range(start, len(mops)):
        mop = mops[i]
        f, k, v = mop
        if f == "append":
            exp = known.get(k)
            if exp is not None:
                exp.append(v)
            else:
                suffix.setdefault(k, []).append(v)
            continue
        if v is None:
            v = []  # EDN histories write an empty read as nil
        elif type(v) is not list:
            raise Malformed
        own = appended_at.get(k)
        if own is not None and not own.keys().isdisjoint(v):
            for e in v:
                j = own.get(e)
                if j is not None and j > i:
                    events.append(
                        (
                            tid,
                            i,
                            _FUTURE,
                            "future-read",
                            {"op": op_json(t), "mop": list(mop), "element": e},
                        )
                    )
                    break
        exp = known.get(k)
        if exp is not None:
            if v != exp:
                events.append(
                    (
                        tid,
                        i,
                        _INTERNAL,
                        "internal",
                        {"op": op_json(t), "mop": list(mop), "expected": list(exp)},
                    )
                )
        elif k in suffix:
            sfx = suffix.pop(k)
            if len(v) < len(sfx) or v[len(v) - len(sfx) :] != sfx:
                events.append(
                    (
                        tid,
                        i,
                        _INTERNAL,
                        "internal",
                        {"op": op_json(t), "mop": list(mop), "expected": ["...", *sfx]},
                    )
                )
        kid = key_ids.get(k)
        if kid is None:
            kid = p.kid(k)
        ext = own is None or min(own.values()) > i  # no own append to k before this read
        if ext and k not in ext_keys:
            ext_keys.add(k)
            if own is not None:
                p.lost_candidates.append((tid, i, kid))
        known[k] = list(v)
        p.read(kid, v)
        p.r_tid.append(tid)
        p.r_mop.append(i)
        p.r_kid.append(kid)
        p.r_len.append(len(v))
        p.r_ext.append(ext)


class _KeyTables:
    """Per-key facts about the longest reads, flattened: position j of key kid's
    longest read is entry off[kid] + j of the flat arrays."""

    def __init__(self, p: _Pass) -> None:
        nkeys = len(p.keys)
        fail_kids = as_array(p.fail_kids, np.int64)
        self.failed_kids = set(np.unique(fail_kids).tolist())  # keys with an append by a failed txn
        self.nonok_appends = np.bincount(
            np.concatenate([fail_kids, as_array(p.info_kids, np.int64)]), minlength=nkeys
        )
        self.status = as_array(p.status, np.uint8)
        self.lens = np.zeros(nkeys, np.int64)
        self.dup_pos = np.full(
            nkeys, _NEVER, np.int64
        )  # first position repeating an earlier element
        flat: list[int] = []
        for kid in p.read_order:
            order = p.longest[kid]
            if len(set(order)) != len(order):  # TypeError on an unhashable element
                self.dup_pos[kid] = _first_repeat(order)
            self.lens[kid] = len(order)
            wk = p.wdicts[kid]
            if wk is not None:
                get = wk.get
                flat.extend([get(e, -1) for e in order])
            else:
                flat.extend([-1] * len(order))
        read_kids = np.array(p.read_order, np.int64)
        self.off = np.zeros(nkeys, np.int64)  # flat position of each key's first element
        if len(read_kids) > 1:
            self.off[read_kids[1:]] = np.cumsum(self.lens[read_kids])[:-1]
        self.writer = (
            np.array(flat, np.int64) if flat else np.zeros(0, np.int64)
        )  # -1: nobody appended it
        known = self.writer >= 0
        self.wstatus = np.full(len(flat), FAIL, np.uint8)
        self.wstatus[known] = self.status[self.writer[known]]
        self.node = np.where(self.wstatus != FAIL, self.writer, -1)  # writer, if a graph node
        self.pos_kid = np.repeat(read_kids, self.lens[read_kids])  # key of each flat position
        self.pos_j = np.arange(len(flat), dtype=np.int64) - self.off[self.pos_kid]
        # First position of each key written by a failed txn.
        self.first_failed = np.full(nkeys, _NEVER, np.int64)
        failed = np.flatnonzero(known & (self.wstatus == FAIL))
        np.minimum.at(self.first_failed, self.pos_kid[failed], self.pos_j[failed])
        # Positions holding an intermediate value (a later append of the same txn followed).
        self.intermediate = np.zeros(len(flat), bool)
        for kid, values in p.intermediate.items():
            if self.lens[kid]:
                o = self.off[kid]
                order = p.longest[kid]
                self.intermediate[o : o + len(order)] = [e in values for e in order]


def _first_repeat(order: list) -> int:
    seen: set = set()
    for j, e in enumerate(order):
        if e in seen:
            return j
        seen.add(e)
    return _NEVER


def _conclude(th: TxnHistory, p: _Pass, kt: _KeyTables) -> Inference:
    """Everything after the pass: version orders, anomalies, edges."""
    txns = th.txns
    keys = p.keys
    tid_a = as_array(p.r_tid, np.int32)
    mop_a = as_array(p.r_mop, np.int32)
    kid_a = as_array(p.r_kid, np.int32)
    len_a = as_array(p.r_len, np.int32)
    ext_a = as_array(p.r_ext, np.uint8).astype(bool)
    bad_key = np.zeros(len(keys), bool)
    if p.inconsistent:
        bad_key[list(p.inconsistent)] = True
    odd_rows = np.flatnonzero(bad_key[kid_a])  # the reads of keys with incompatible reads
    # A read that is a prefix of its key's longest read is described by its
    # length, like every read of a consistent key; the others take the plain path.
    bad_read = np.zeros(len(kid_a), bool)
    odd_values: list[list] = []  # the value of each read in odd_rows
    longest_of = p.longest
    for r, tid, i, kid in zip(
        odd_rows.tolist(),
        tid_a[odd_rows].tolist(),
        mop_a[odd_rows].tolist(),
        kid_a[odd_rows].tolist(),
        strict=True,
    ):
        v = txns[tid].mops[i][2] or []
        odd_values.append(v)
        if longest_of[kid][: len(v)] != v:
            bad_read[r] = True
    good = ~bad_read
    status = p.status
    failed_values: dict[int, set] = {}

    def failed_of(kid: int) -> set:
        bad = failed_values.get(kid)
        if bad is None:
            wk = p.wdicts[kid] or {}
            bad = failed_values[kid] = {v for v, w in wk.items() if status[w] == FAIL}
        return bad

    events = p.events
    # Reads that are no prefix of their key's longest read, one by one as the definitions say.
    for r in np.flatnonzero(bad_read).tolist():
        tid, i, kid = int(tid_a[r]), int(mop_a[r]), int(kid_a[r])
        t = txns[tid]
        v = _read_value(t, i)
        if len(set(v)) != len(v):
            events.append((tid, i, _DUP, "duplicate-elements", _duplicates(t, i, v)))
        if v:
            if kid in kt.failed_kids:
                bad = failed_of(kid)
                if not bad.isdisjoint(v):
                    events.extend(
                        (tid, i, _G1A, "G1a", _g1a(txns, t, i, e, p.wdicts[kid][e]))
                        for e in v
                        if e in bad
                    )
            _check_g1b(p, txns, t, i, kid, v[-1])
    # Every other read of length n is the longest read's first n elements.
    n_ok = good & (len_a > 0)
    last = kt.off[kid_a] + len_a - 1  # flat position of each read's last element
    for r in np.flatnonzero(good & (len_a > kt.dup_pos[kid_a])).tolist():
        tid, i = int(tid_a[r]), int(mop_a[r])
        events.append(
            (
                tid,
                i,
                _DUP,
                "duplicate-elements",
                _duplicates(txns[tid], i, _read_value(txns[tid], i)),
            )
        )
    for r in np.flatnonzero(good & (len_a > kt.first_failed[kid_a])).tolist():
        tid, i, kid = int(tid_a[r]), int(mop_a[r]), int(kid_a[r])
        t = txns[tid]
        bad = failed_of(kid)
        events.extend(
            (tid, i, _G1A, "G1a", _g1a(txns, t, i, e, p.wdicts[kid][e]))
            for e in _read_value(t, i)
            if e in bad
        )
    if p.intermediate and len(kt.intermediate):
        cand = np.flatnonzero(n_ok & kt.intermediate[np.where(n_ok, last, 0)])
        for r in cand.tolist():
            tid, i, kid = int(tid_a[r]), int(mop_a[r]), int(kid_a[r])
            _check_g1b(p, txns, txns[tid], i, kid, _read_value(txns[tid], i)[-1])

    # Every committed read, element by element: garbage reads (elements nobody
    # appended to the key), and the info txns whose appends a read shows (they committed).
    proven: set[int] = set()
    for tid, i, kid in zip(tid_a.tolist(), mop_a.tolist(), kid_a.tolist(), strict=True):
        wk = p.wdicts[kid] or {}
        v = _read_value(txns[tid], i)
        unknown = [e for e in v if e not in wk]
        if unknown:
            record = {"op": op_json(txns[tid]), "mop": list(txns[tid].mops[i])}
            record.update(element=unknown[0], elements=unknown)
            events.append((tid, i, _GARBAGE, "garbage-read", record))
        proven.update(wk[e] for e in v if e in wk and status[wk[e]] == INFO)
    anomalies: dict[str, list[Anomaly]] = {}

    def report(kind: str, record: Anomaly) -> None:
        anomalies.setdefault(kind, []).append(record)

    events.sort(key=lambda e: e[:3])
    for _, _, _, kind, record in events:
        report(kind, record)

    longest = {keys[kid]: p.longest[kid] for kid in p.read_order}
    # Version orders: every read must be a prefix of the longest.
    by_key = np.argsort(
        kid_a[odd_rows], kind="stable"
    )  # odd reads grouped by key, in history order
    sorted_kids = kid_a[odd_rows][by_key]
    for kid in p.read_order:
        if kid in p.inconsistent:
            order = p.longest[kid]
            lo, hi = (
                np.searchsorted(sorted_kids, np.int32(kid), "left"),
                np.searchsorted(sorted_kids, np.int32(kid), "right"),
            )
            reads = {tuple(odd_values[j]) for j in by_key[lo:hi].tolist()}
            for val in sorted(reads, key=len):
                if tuple(order[: len(val)]) != val:
                    report(
                        "incompatible-order", {"key": keys[kid], "values": [list(val), list(order)]}
                    )

    # Dirty updates: a committed append after an aborted one in a key's order.
    failed_keys = {k: None for k in p.writers if p.key_ids[k] in kt.failed_kids}
    for k in failed_keys.keys() & longest.keys():
        kid = p.key_ids[k]
        if kt.first_failed[kid] == _NEVER:
            continue
        order = longest[k]
        per_key = p.wdicts[kid] or {}
        failed_at = None
        for pos, e in enumerate(order):
            w = per_key.get(e)
            if w is None:
                continue
            if status[w] == FAIL:
                if failed_at is None:
                    failed_at = pos
            elif failed_at is not None:
                fw = txns[per_key[order[failed_at]]]
                report(
                    "dirty-update",
                    {
                        "key": k,
                        "values": [order[failed_at], e],
                        "txns": [op_json(fw), "...", op_json(txns[w])],
                    },
                )
                break

    # Lost updates: two committed txns read the same state of k and both appended to k.
    groups: dict[tuple[int, Any], list[tuple[Txn, list]]] = {}
    for tid, i, kid in p.lost_candidates:
        t = txns[tid]
        v = _read_value(t, i)
        group = (kid, tuple(v)) if kid in p.inconsistent else (kid, len(v))
        groups.setdefault(group, []).append((t, v))
    for (kid, _), members in groups.items():
        if len(members) > 1:
            report(
                "lost-update",
                {
                    "key": keys[kid],
                    "value": list(members[0][1]),
                    "txns": [op_json(t) for t, _ in members],
                },
            )

    # Edges.
    unread = _unread(p, kt, proven)
    edges = EdgeBuilder()
    _edges_from_orders(p, kt, unread, edges)
    _edges_from_reads(p, kt, unread, edges, tid_a, kid_a, len_a, ext_a & good)
    for r in np.flatnonzero(ext_a & bad_read).tolist():
        tid, kid = int(tid_a[r]), int(kid_a[r])
        val = _read_value(txns[tid], int(mop_a[r]))
        per_key = p.wdicts[kid] or {}
        known = [e for e in val if e in per_key]  # the last one someone appended
        if known:
            w = per_key[known[-1]]
            if status[w] != FAIL:
                edges.add(w, tid, WR)
        order = p.longest[kid]
        if len(val) < len(order) and order[: len(val)] == val:
            w = per_key.get(order[len(val)])
            if w is not None and status[w] != FAIL:
                edges.add(tid, w, RW)
        elif len(val) == len(order) and order == val:
            for w in unread.get(keys[kid], ()):
                edges.add(tid, w, RW)
    spans = {keys[kid]: (int(kt.off[kid]), int(kt.lens[kid])) for kid in p.read_order}
    odd = {keys[kid]: p.wdicts[kid] or {} for kid in p.inconsistent}
    return Inference(
        edges, anomalies, ListAppendExplainer(txns, longest, kt.writer, spans, odd, unread)
    )


def _unread(p: _Pass, kt: _KeyTables, proven: set[int]) -> dict[Any, list[int]]:
    """Per read key, committed appends (of ok txns, and of the info txns in
    `proven`) that no read shows (in append order). Lists only grow, so they
    come after every value read."""
    out: dict[Any, list[int]] = {}
    status = [OK if w in proven else s for w, s in enumerate(p.status)]
    ok_pos = (kt.wstatus == OK).astype(np.int64)
    ok_seen = (
        np.bincount(kt.pos_kid, weights=ok_pos, minlength=len(p.keys)) if len(ok_pos) else None
    )
    for kid in p.read_order:
        wk = p.wdicts[kid]
        if not wk:
            continue
        n_ok = len(wk) - int(kt.nonok_appends[kid])
        if (
            not proven
            and ok_seen is not None
            and kt.dup_pos[kid] == _NEVER
            and ok_seen[kid] == n_ok
        ):
            continue  # every committed append is in the longest read
        seen = set(p.longest[kid])
        late = [w for v, w in wk.items() if v not in seen and status[w] == OK]
        if late:
            out[p.keys[kid]] = late
    for k, wk in p.writers.items():
        kid = p.key_ids[k]
        if p.longest[kid] is None:
            late = [w for w in wk.values() if status[w] == OK]
            if late:
                out[k] = late
    return out


def _add(edges: EdgeBuilder, src: np.ndarray, dst: np.ndarray, rel: int) -> None:
    """Add edges src[i] -> dst[i] (self-edges dropped, as EdgeBuilder.add does)."""
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if len(src):
        edges.src.frombytes(np.ascontiguousarray(src, np.int64).tobytes())
        edges.dst.frombytes(np.ascontiguousarray(dst, np.int64).tobytes())
        edges.rel.frombytes(np.full(len(src), rel, np.int8).tobytes())


def _edges_from_orders(
    p: _Pass, kt: _KeyTables, unread: dict[Any, list[int]], edges: EdgeBuilder
) -> None:
    """ww: each element's writer precedes the next one's; the last one's precedes unread appends."""
    node = kt.node
    if len(node) > 1:
        a, b = node[:-1], node[1:]
        keep = (kt.pos_j[1:] > 0) & (a >= 0) & (b >= 0)
        _add(edges, a[keep], b[keep], WW)
    for k, late in unread.items():
        kid = p.key_ids[k]
        n = int(kt.lens[kid])
        if n and node[kt.off[kid] + n - 1] >= 0:
            last = int(node[kt.off[kid] + n - 1])
            for w in late:
                edges.add(last, w, WW)


def _edges_from_reads(
    p: _Pass,
    kt: _KeyTables,
    unread: dict[Any, list[int]],
    edges: EdgeBuilder,
    tid_a: np.ndarray,
    kid_a: np.ndarray,
    len_a: np.ndarray,
    mask: np.ndarray,
) -> None:
    """wr and rw edges of the external reads of consistent keys (mask)."""
    tid, kid, n = tid_a[mask], kid_a[mask], len_a[mask]
    base = kt.off[kid]
    has = n > 0
    writer = kt.node[(base + n - 1)[has]].copy()
    # A last element nobody appended (a garbage read): the last one somebody did.
    for j in np.flatnonzero(kt.writer[(base + n - 1)[has]] < 0).tolist():
        at = int(base[has][j])
        ws = kt.writer[at : at + int(n[has][j])].tolist()
        known = [x for x, w in enumerate(ws) if w >= 0]
        writer[j] = kt.node[at + known[-1]] if known else -1
    ok = writer >= 0
    _add(edges, writer[ok], tid[has][ok], WR)
    short = n < kt.lens[kid]
    nxt = kt.node[(base + n)[short]]
    ok = nxt >= 0
    _add(edges, tid[short][ok], nxt[ok], RW)
    if unread:
        full = np.flatnonzero(n == kt.lens[kid])
        keys = p.keys
        for r in full.tolist():
            late = unread.get(keys[int(kid[r])])
            if late:
                a = int(tid[r])
                for w in late:
                    edges.add(a, w, RW)


def _read_value(t: Txn, i: int) -> list:
    v = t.mops[i][2]
    return [] if v is None else v


def _duplicates(t: Txn, i: int, v: list) -> Anomaly:
    dups = {e: c for e, c in Counter(v).items() if c > 1}
    return {"op": op_json(t), "mop": list(t.mops[i]), "duplicates": dups}


def _g1a(txns: list[Txn], t: Txn, i: int, e: Any, writer: int) -> Anomaly:
    return {"op": op_json(t), "mop": list(t.mops[i]), "writer": op_json(txns[writer]), "element": e}


def _check_g1b(p: _Pass, txns: list[Txn], t: Txn, i: int, kid: int, e: Any) -> None:
    """Intermediate read: the read's last element was followed by another append of its txn."""
    values = p.intermediate.get(kid)
    if values is None or e not in values:
        return
    w = p.wdicts[kid][e]
    if w != t.id and p.status[w] != FAIL:
        p.events.append(
            (
                t.id,
                i,
                _G1B,
                "G1b",
                {
                    "op": op_json(t),
                    "mop": list(t.mops[i]),
                    "writer": op_json(txns[w]),
                    "element": e,
                },
            )
        )


def _raise_first_error(th: TxnHistory) -> None:
    """Raise the input error Elle's order of checks meets first: appends over the
    whole history, then each transaction's reads. Returns if there is none."""
    txns = th.txns
    writers: dict[Any, dict[Any, int]] = {}
    for t in txns:
        for f, k, v in t.mops:
            if f == "w":
                raise HistoryError(
                    th.source, t.op.where(), "a write (w) in a list-append history: mixed workloads"
                )
            if f != "append":
                continue
            per_key = writers.setdefault(k, {})
            try:
                hash(v)
            except TypeError:
                raise HistoryError(
                    th.source, t.op.where(), f"appended value {v!r} is not a scalar"
                ) from None
            prev = per_key.get(v)
            if prev is not None:
                raise HistoryError(
                    th.source,
                    t.op.where(),
                    f"value {v!r} is appended to key {k!r} twice (also by the op at {txns[prev].op.where()}); "
                    "list-append needs unique values per key",
                )
            per_key[v] = t.id
    for t in txns:
        if t.status != "ok":
            _check_read_shapes(th, t)
            continue
        for f, k, v in t.mops:
            if f != "r" or v is None:
                continue
            if type(v) is not list:
                raise HistoryError(
                    th.source,
                    t.op.where(),
                    f"read of key {k!r} returned {v!r}: a list-append read must return a list",
                )
            try:
                set(v)
            except TypeError:
                raise HistoryError(
                    th.source,
                    t.op.where(),
                    f"read of key {k!r} returned {_short(v)}: list elements must be scalars",
                ) from None


def _check_read_shapes(th: TxnHistory, t: Txn) -> None:
    for f, k, v in t.mops:
        if f == "w":
            raise HistoryError(
                th.source, t.op.where(), "a write (w) in a list-append history: mixed workloads"
            )
        if f == "r" and v is not None and not isinstance(v, list):
            raise HistoryError(
                th.source,
                t.op.where(),
                f"read of key {k!r} returned {v!r}: a list-append read must return a list",
            )


class ListAppendExplainer:
    """Recovers, for an edge, the key and values that justify it.

    Kept small for the rest of the check: `longest` maps key -> the longest
    read; the writer of position j of key k's longest read is
    `writer[spans[k][0] + j]` (-1: nobody appended it); `odd` keeps the full
    {value: writer} map only for keys with incompatible reads (on every other
    key a read is a prefix of the longest, so its last element's writer is
    found by position); `unread` maps key -> committed writers no read shows.
    Micro-op indexes and a txn's external reads are found again in `txn.mops`.
    """

    def __init__(
        self,
        txns: list[Txn],
        longest: dict[Any, list],
        writer: np.ndarray,
        spans: dict[Any, tuple[int, int]],
        odd: dict[Any, dict[Any, int]],
        unread: dict[Any, list[int]],
    ) -> None:
        self.txns = txns
        self.longest = longest
        self.writer = writer
        self.spans = spans
        self.odd = odd
        self.unread = unread

    def _writers(self, k: Any) -> list[int]:
        """Writer txn of each position of key k's longest read (-1: none)."""
        span = self.spans.get(k)
        if span is None:
            return []
        return self.writer[span[0] : span[0] + span[1]].tolist()

    def _last_known(self, k: Any, val: list) -> tuple[Any, int | None]:
        """(element, writer) of the last element of val, a read of k, that some
        txn appended (None, None) if none."""
        odd = self.odd.get(k)
        ws = None if odd is not None else self._writers(k)
        for j in range(len(val) - 1, -1, -1):
            w = odd.get(val[j]) if odd is not None else ws[j]
            if w is not None and w >= 0:
                return val[j], w
        return None, None

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        tb = self.txns[b]
        if rel == WW:
            for k in _appended_keys(tb):
                order = self.longest.get(k, ())
                ws = self._writers(k)
                for pos in range(1, len(order)):
                    if ws[pos - 1] == a and ws[pos] == b:
                        return {
                            "type": "ww",
                            "key": k,
                            "value": order[pos - 1],
                            "value'": order[pos],
                            "a-mop-index": self._mop(a, k, order[pos - 1]),
                            "b-mop-index": self._mop(b, k, order[pos]),
                        }
                if order and ws[-1] == a and b in self.unread.get(k, ()):
                    j = self._unread_mop(b, k)
                    return {
                        "type": "ww",
                        "key": k,
                        "value": order[-1],
                        "value'": tb.mops[j][2],
                        "a-mop-index": self._mop(a, k, order[-1]),
                        "b-mop-index": j,
                        "unread": True,
                    }
        elif rel == WR:
            for k, i, val in _external_reads(tb):
                e, w = self._last_known(k, val)
                if w == a:
                    return {
                        "type": "wr",
                        "key": k,
                        "value": e,
                        "a-mop-index": self._mop(a, k, e),
                        "b-mop-index": i,
                    }
        elif rel == RW:
            for k, i, val in _external_reads(self.txns[a]):
                order = self.longest.get(k, [])
                if len(val) < len(order) and order[: len(val)] == val:
                    if self._writers(k)[len(val)] == b:
                        return {
                            "type": "rw",
                            "key": k,
                            "value": val[-1] if val else None,
                            "value'": order[len(val)],
                            "a-mop-index": i,
                            "b-mop-index": self._mop(b, k, order[len(val)]),
                        }
                elif order == val and b in self.unread.get(k, ()):
                    j = self._unread_mop(b, k)
                    return {
                        "type": "rw",
                        "key": k,
                        "value": val[-1] if val else None,
                        "value'": tb.mops[j][2],
                        "a-mop-index": i,
                        "b-mop-index": j,
                        "unread": True,
                    }
        return None

    def _mop(self, tid: int, k: Any, v: Any) -> int:
        """Index of txn tid's append of v to k."""
        for j, (f, kk, vv) in enumerate(self.txns[tid].mops):
            if f == "append" and kk == k and vv == v:
                return j
        raise AssertionError(f"txn {tid} has no append of {v!r} to {k!r}")

    def _unread_mop(self, tid: int, k: Any) -> int:
        """Index of the first append to k by txn tid that no read shows."""
        seen = set(self.longest.get(k, ()))
        for j, (f, kk, vv) in enumerate(self.txns[tid].mops):
            if f == "append" and kk == k and vv not in seen:
                return j
        raise AssertionError(f"txn {tid} has no unread append to {k!r}")


def _external_reads(t: Txn) -> Iterator[tuple[Any, int, list]]:
    """A committed txn's reads of committed state (not after its own append to
    the key), as (key, mop index, value), grouped by key in first-read order."""
    if t.status != "ok":
        return
    appended: dict[Any, int] = {}
    for i, (f, k, _) in enumerate(t.mops):
        if f == "append" and k not in appended:
            appended[k] = i
    by_key: dict[Any, list[tuple[int, list]]] = {}
    for i, (f, k, v) in enumerate(t.mops):
        if f == "r" and (k not in appended or appended[k] > i):
            by_key.setdefault(k, []).append((i, [] if v is None else v))
    for k, rs in by_key.items():
        for i, v in rs:
            yield k, i, v


def _appended_keys(t: Txn) -> list[Any]:
    seen: dict[Any, None] = {}
    for f, k, _ in t.mops:
        if f == "append":
            seen[k] = None
    return list(seen)
