"""Inference for read-write register histories (Kingsbury & Alvaro 2020, section 5).

Writes are unique per key, so every read names its writer (wr edges). The
order of versions is only partly known; facts come from:

- the initial state (nil), which precedes every write;
- with `wfr_keys`: a transaction that read v1 and then wrote v2 installs v2 after v1;
- with `sequential_keys`: each process sees each key's versions in order;
- with `linearizable_keys`: a transaction that finished before another began
  saw an earlier or equal version of every key both touched.

Each fact v1 < v2 gives ww (writer of v1 to writer of v2) and rw (readers of
v1 to writer of v2) edges. A cycle among the facts of one key is the
anomaly cyclic-versions.

How it stays fast and small on million-transaction histories: one pass
registers writes (per key, value -> writer txn id) and keeps one compact
record per external read (reader, micro-op index, key id, value). Keys whose
only fact is "nil precedes every write" (all keys, without the optional
sources) get their edges from numpy: wr from each read's writer, rw from each
reader of nil to each writer. Keys with further facts take the plain path.
The explainer re-reads micro-op indexes and external reads from `txn.mops`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import is_
from typing import Any

import numpy as np

from mvcc_check.analysis.graph import RW, WR, WW, DependencyGraph, EdgeBuilder
from mvcc_check.errors import HistoryError
from reference.keyed_pass import (
    Anomaly,
    Inference,
    KeyedPass,
    Malformed,
    as_array,
    op_json,
)
from reference.txns import Txn, TxnHistory

INITIAL = None  # the initial version of every key

OK, INFO, FAIL = 0, 1, 2
_STATUS = {"ok": OK, "info": INFO, "fail": FAIL}
_CONTAINERS = (list, dict)  # what a register value cannot be
_FUTURE, _INTERNAL, _READ, _GARBAGE = range(4)  # the order of one read's anomalies


@dataclass(frozen=True)
class VersionSources:
    wfr_keys: bool = False
    sequential_keys: bool = False
    linearizable_keys: bool = False


class _Pass(KeyedPass):
    """What the single pass learns about registers, beyond every workload's part.
    A read record is an external read: a committed txn's first touch of a key."""

    def __init__(self) -> None:
        super().__init__()
        self.r_val: list[Any] = []
        self.lost_candidates: list[
            tuple[int, int, Any]
        ] = []  # (txn, key id, value read): read k, then wrote k

    def write(self, kid: int, v: Any, tid: int) -> None:
        """Register txn tid's write of v to key kid; malformed values and repeats raise."""
        if isinstance(v, _CONTAINERS) or v is None:
            raise Malformed
        self.register(kid, v, tid)


def infer(th: TxnHistory, sources: VersionSources = VersionSources()) -> Inference:
    """Edges, non-cycle anomalies and an explainer for an rw-register history;
    HistoryError (the first problem, in the order of checks) on malformed input."""
    try:
        p = _scan(th)
    except (Malformed, TypeError) as e:  # TypeError: an unhashable value met a dict
        _raise_first_error(th)
        raise AssertionError("rw-register inference: input check disagreement (a bug)") from e
    return _conclude(th, p, sources)


def _scan(th: TxnHistory) -> _Pass:
    """The single pass: register writes, record external reads, find internal and future reads."""
    p = _Pass()
    status = p.status
    key_ids = p.key_ids
    wdicts = p.wdicts
    new_kid = p.kid
    write = p.write
    r_tid, r_mop, r_kid, r_val = p.r_tid.append, p.r_mop.append, p.r_kid.append, p.r_val.append
    intermediate = p.intermediate
    touched = p.touched
    for t in th.txns:
        mops = t.mops
        st = _STATUS[t.status]
        status.append(st)
        tid = t.id
        if st != OK:
            # Failed or indeterminate: writes are registered, reads carry no information.
            for f, k, v in mops:
                if f == "w":
                    kid = key_ids.get(k)
                    if kid is None:
                        kid = new_kid(k)
                    wk = wdicts[kid]
                    if (
                        wk is None or v is None or v in wk
                    ):  # (a list or dict raises TypeError: malformed)
                        write(kid, v, tid)
                    else:
                        if (
                            touched[kid] is tid
                        ):  # this txn wrote k before: that write is intermediate
                            intermediate.setdefault(kid, set()).add(next(reversed(wk)))
                        wk[v] = tid
                    touched[kid] = tid
                elif f != "r" or isinstance(v, _CONTAINERS):
                    raise Malformed
            continue
        # Fast path, the common case: committed, each key once, so every read is
        # external and no internal or future read is possible. At the first key
        # touched twice the rest of the txn goes to the general path.
        for i, (f, k, v) in enumerate(mops):
            kid = key_ids.get(k)
            if kid is None:
                kid = new_kid(k)
            if touched[kid] is tid:
                _scan_general(p, t, i)
                break
            touched[kid] = tid
            if f == "w":
                wk = wdicts[kid]
                if (
                    wk is None or v is None or v in wk
                ):  # (a list or dict raises TypeError: malformed)
                    write(kid, v, tid)
                else:
                    wk[v] = tid
                continue
            if f != "r" or isinstance(v, _CONTAINERS):
                raise Malformed
            r_tid(tid)
            r_mop(i)
            r_kid(kid)
            r_val(v)
    return p


def _scan_general(p: _Pass, t: Txn, start: int) -> None:
    """The rest of a committed txn that touches some key twice, from mops[start]
    on (the first repeated touch): internal and future reads are possible. The
    fast path has already registered and recorded mops[:start], which touch
    distinct keys."""
    tid = t.id
    mops = t.mops
    writes_at: dict[Any, dict[Any, int]] = {}  # key -> {own written value: mop index}
    for i, (f, k, v) in enumerate(mops):
        if f == "w":
            own = writes_at.get(k)
            if own is None:
                writes_at[k] = {v: i}
            else:
                own[v] = i
            if i < start:
                continue
            kid = p.kid(k)
            p.write(kid, v, tid)
            wk = p.wdicts[kid]
            if len(wk) > 1:
                it = reversed(wk)
                next(it)
                prev = next(it)  # the value registered before v
                if wk[prev] == tid:
                    p.intermediate.setdefault(kid, set()).add(prev)
        elif f != "r" or isinstance(v, _CONTAINERS):
            raise Malformed
    state: dict[Any, Any] = {}
    for i, mop in enumerate(mops):
        f, k, v = mop
        if f == "w":
            state[k] = v
            continue
        if k in state:
            if state[k] != v:
                p.events.append(
                    (
                        tid,
                        i,
                        _INTERNAL,
                        "internal",
                        {"op": op_json(t), "mop": list(mop), "expected": state[k]},
                    )
                )
            continue
        own = writes_at.get(k)
        if own is not None:
            j = own.get(v)
            if j is not None and j > i:
                p.events.append(
                    (
                        tid,
                        i,
                        _FUTURE,
                        "future-read",
                        {"op": op_json(t), "mop": list(mop), "element": v},
                    )
                )
        state[k] = v
        kid = p.key_ids[k] if i < start else p.kid(k)
        if i >= start:  # (reads before start are recorded already)
            p.r_tid.append(tid)
            p.r_mop.append(i)
            p.r_kid.append(kid)
            p.r_val.append(v)
        if own is not None:
            p.lost_candidates.append((tid, kid, v))


def _add(edges: EdgeBuilder, src: np.ndarray, dst: np.ndarray, rel: int) -> None:
    """Add edges src[i] -> dst[i] (self-edges dropped, as EdgeBuilder.add does)."""
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if len(src):
        edges.src.frombytes(np.ascontiguousarray(src, np.int64).tobytes())
        edges.dst.frombytes(np.ascontiguousarray(dst, np.int64).tobytes())
        edges.rel.frombytes(np.full(len(src), rel, np.int8).tobytes())


def _conclude(th: TxnHistory, p: _Pass, sources: VersionSources) -> Inference:
    """Everything after the pass: anomalies, version facts, edges."""
    txns = th.txns
    status = p.status
    st_a = as_array(status, np.uint8)
    tid_a = as_array(p.r_tid, np.int32)
    kid_a = as_array(p.r_kid, np.int32)
    no_writes: dict[Any, int] = {}
    wd = [d if d is not None else no_writes for d in p.wdicts]
    # The writer of each external read's value (-1: nil, or a value nobody wrote).
    r_w = np.array([wd[kid].get(v, -1) for kid, v in zip(p.r_kid, p.r_val, strict=True)], np.int64)
    has_w = r_w >= 0
    w_st = np.full(len(r_w), 255, np.uint8)
    w_st[has_w] = st_a[r_w[has_w]]

    events = p.events
    for r in np.flatnonzero(w_st == FAIL).tolist():
        t = txns[int(tid_a[r])]
        i = int(p.r_mop[r])
        events.append(
            (
                t.id,
                i,
                _READ,
                "G1a",
                {
                    "op": op_json(t),
                    "mop": list(t.mops[i]),
                    "writer": op_json(txns[int(r_w[r])]),
                    "element": p.r_val[r],
                },
            )
        )
    if p.intermediate:
        overwriter = np.zeros(len(status), bool)  # txns with a write they overwrote themselves
        overwriter[[p.wdicts[kid][v] for kid, vs in p.intermediate.items() for v in vs]] = True
        maybe = has_w & (w_st != FAIL) & (r_w != tid_a) & overwriter[np.where(has_w, r_w, 0)]
        for r in np.flatnonzero(maybe).tolist():
            v = p.r_val[r]
            if v in p.intermediate.get(int(kid_a[r]), ()):
                t = txns[int(tid_a[r])]
                i = int(p.r_mop[r])
                events.append(
                    (
                        t.id,
                        i,
                        _READ,
                        "G1b",
                        {
                            "op": op_json(t),
                            "mop": list(t.mops[i]),
                            "writer": op_json(txns[int(r_w[r])]),
                            "element": v,
                        },
                    )
                )
    # Garbage reads: an external or internal read of a value nobody wrote to the key.
    garbage = [(int(tid_a[r]), int(p.r_mop[r])) for r in np.flatnonzero(~has_w).tolist()]
    garbage += [(e[0], e[1]) for e in events if e[3] == "internal"]
    for tid, i in garbage:
        t = txns[tid]
        _, k, v = t.mops[i]
        if v is not None and v not in wd[p.key_ids[k]]:
            record = {"op": op_json(t), "mop": list(t.mops[i]), "element": v}
            events.append((tid, i, _GARBAGE, "garbage-read", record))
    anomalies: dict[str, list[Anomaly]] = {}

    def report(kind: str, record: Anomaly) -> None:
        anomalies.setdefault(kind, []).append(record)

    events.sort(key=lambda e: e[:3])
    for _, _, _, kind, record in events:
        report(kind, record)

    # Lost updates: two committed txns read the same version of k and both wrote k.
    groups: dict[tuple[Any, Any], list[Txn]] = {}
    for tid, kid, v in p.lost_candidates:
        groups.setdefault((p.keys[kid], v), []).append(txns[tid])
    for (k, v), ts in groups.items():
        if len(ts) > 1:
            report("lost-update", {"key": k, "value": v, "txns": [op_json(t) for t in ts]})

    facts = _version_facts(txns, sources)
    writers = p.writers
    usable: dict[Any, set[tuple[Any, Any]]] = {}
    cyclic = _cyclic_values(facts, writers)
    for k, pairs in facts.items():
        cyc = cyclic.get(k)
        if cyc:
            report("cyclic-versions", {"key": k, "scc": sorted(cyc, key=repr)})
            continue
        usable[k] = pairs
    for k, pairs in usable.items():
        has_pred = {b for a, b in pairs if a is not INITIAL}
        for v in writers.get(k, ()):
            if v not in has_pred:
                pairs.add((INITIAL, v))
    # An indeterminate transaction took effect only if some read shows one of its
    # writes; one that no read shows may never have happened, so it gets no edges.
    observed = np.zeros(len(status), bool)  # info txns a committed read proved committed
    observed[r_w[has_w]] = True
    for e in p.events:
        if e[3] == "internal":
            _, k, v = txns[e[0]].mops[e[1]]
            w = wd[p.key_ids[k]].get(v)
            if w is not None:
                observed[w] = True

    edges = EdgeBuilder()
    _add(edges, r_w[has_w & (w_st != FAIL)], tid_a[has_w & (w_st != FAIL)], WR)
    fact_kids = [p.key_ids[k] for k in facts if k in p.key_ids]
    _initial_edges(p, edges, st_a, observed, tid_a, kid_a, fact_kids)
    if usable:
        _fact_edges(p, txns, edges, usable, observed, kid_a)
    reads = (tid_a, as_array(p.r_mop, np.int32), r_w.astype(np.int32))
    return Inference(edges, anomalies, RegisterExplainer(txns, reads, usable, set(facts)))


def _initial_edges(
    p: _Pass,
    edges: EdgeBuilder,
    st_a: np.ndarray,
    observed: np.ndarray,
    tid_a: np.ndarray,
    kid_a: np.ndarray,
    fact_kids: list[int],
) -> None:
    """rw edges of keys whose only fact is "nil precedes every write": each
    reader of nil precedes each writer that is a graph node (and, if
    indeterminate, was observed)."""
    nkeys = len(p.keys)
    counts = np.array([len(d) if d else 0 for d in p.wdicts], np.int64)
    if fact_kids:
        counts[fact_kids] = 0
    if not counts.any() or not len(tid_a):
        return
    writer_ids: list[int] = []
    for kid in np.flatnonzero(counts).tolist():
        writer_ids.extend(p.wdicts[kid].values())
    flat = np.array(writer_ids, np.int64)
    flat_kid = np.repeat(np.arange(nkeys), counts)
    st = st_a[flat]
    keep = (st == OK) | ((st == INFO) & observed[flat])
    flat, flat_kid = flat[keep], flat_kid[keep]
    counts = np.bincount(flat_kid, minlength=nkeys)
    off = np.zeros(nkeys, np.int64)
    np.cumsum(counts[:-1], out=off[1:])
    nil = np.fromiter(map(is_, p.r_val, repeat(None)), bool, len(p.r_val))
    readers = np.flatnonzero(nil & (counts[kid_a] > 0))
    if not len(readers):
        return
    c = counts[kid_a[readers]]
    total = int(c.sum())
    src = np.repeat(tid_a[readers], c)
    starts = np.repeat(off[kid_a[readers]] - (np.cumsum(c) - c), c)
    dst = flat[starts + np.arange(total)]
    _add(edges, src, dst, RW)


def _fact_edges(
    p: _Pass,
    txns: list[Txn],
    edges: EdgeBuilder,
    usable: dict[Any, set[tuple[Any, Any]]],
    observed: np.ndarray,
    kid_a: np.ndarray,
) -> None:
    """ww and rw edges of the keys with version facts beyond the initial state."""
    wanted = {p.key_ids[k]: k for k in usable if k in p.key_ids}
    readers: dict[Any, dict[Any, list[int]]] = {}  # key -> value -> txns that externally read it
    for r in np.flatnonzero(np.isin(kid_a, list(wanted))).tolist():
        k = wanted[int(kid_a[r])]
        readers.setdefault(k, {}).setdefault(p.r_val[r], []).append(int(p.r_tid[r]))
    status = p.status
    ww_src: list[int] = []
    ww_dst: list[int] = []
    rw_src: list[int] = []
    rw_dst: list[int] = []
    for k, pairs in usable.items():
        per_key = p.writers.get(k, {})
        key_readers = readers.get(k, {})
        for v1, v2 in pairs:
            w2 = per_key.get(v2) if v2 is not INITIAL else None
            if w2 is None or status[w2] == FAIL:
                continue
            if status[w2] == INFO and not observed[w2]:
                continue
            if v1 is not INITIAL:
                w1 = per_key.get(v1)
                if w1 is not None and status[w1] != FAIL:
                    ww_src.append(w1)
                    ww_dst.append(w2)
            rs = key_readers.get(v1)
            if rs:
                rw_src.extend(rs)
                rw_dst.extend([w2] * len(rs))
    _add(edges, np.array(ww_src, np.int64), np.array(ww_dst, np.int64), WW)
    _add(edges, np.array(rw_src, np.int64), np.array(rw_dst, np.int64), RW)


def _external_reads(t: Txn) -> dict[Any, tuple[int, Any]]:
    """A committed txn's external reads: key -> (mop index, value) where its
    first micro-op on the key is a read."""
    out: dict[Any, tuple[int, Any]] = {}
    if t.status != "ok":
        return out
    touched: set[Any] = set()
    for i, (f, k, v) in enumerate(t.mops):
        if k in touched:
            continue
        touched.add(k)
        if f == "r":
            out[k] = (i, v)
    return out


def _version_facts(txns: list[Txn], sources: VersionSources) -> dict[Any, set[tuple[Any, Any]]]:
    """Known pairs v1 < v2 of versions, per key (nil-first facts are added later)."""
    facts: dict[Any, set[tuple[Any, Any]]] = {}

    def add(k: Any, a: Any, b: Any) -> None:
        if a != b:
            facts.setdefault(k, set()).add((a, b))

    def seen(t: Txn) -> tuple[dict[Any, Any], dict[Any, Any]]:
        """First and last version of each key the committed transaction t observed or installed."""
        first: dict[Any, Any] = {}
        last: dict[Any, Any] = {}
        for f, k, v in t.mops:
            if f == "r" and k in last:
                continue
            first.setdefault(k, v)
            last[k] = v
        return first, last

    if sources.wfr_keys or sources.sequential_keys:
        for t in txns:
            if t.status != "ok":
                continue
            reads = _external_reads(t)
            for f, k, v in t.mops:
                if f == "w" and k in reads:
                    add(k, reads[k][1], v)
    if sources.sequential_keys:
        last_by_process: dict[Any, dict[Any, Any]] = {}
        for t in txns:
            if t.status != "ok" or t.process is None:
                continue
            first, last = seen(t)
            prev = last_by_process.setdefault(t.process, {})
            for k, v in first.items():
                if k in prev:
                    add(k, prev[k], v)
            prev.update(last)
    if sources.linearizable_keys:
        by_key: dict[Any, list[Txn]] = {}
        for t in txns:
            if t.status == "ok":
                for k in {k for _, k, _ in t.mops}:
                    by_key.setdefault(k, []).append(t)
        for k, ts in by_key.items():
            events = []
            for t in ts:
                events.append((t.invoked_at, 0, t))
                events.append((t.completed_at, 1, t))
            events.sort(key=lambda e: (e[0], e[1]))
            frontier: dict[int, Txn] = {}
            preds: dict[int, list[Txn]] = {}
            for _, kind, t in events:
                if kind == 0:
                    preds[t.id] = list(frontier.values())
                    first = _first_seen(t, k)
                    for p in preds[t.id]:
                        add(k, _last_seen(p, k), first)
                else:
                    for p in preds.pop(t.id, ()):
                        frontier.pop(p.id, None)
                    frontier[t.id] = t
    return facts


def _first_seen(t: Txn, k: Any) -> Any:
    """The first version of k that txn t observed or installed (its first micro-op on k)."""
    for _, kk, v in t.mops:
        if kk == k:
            return v
    raise AssertionError(f"txn {t.id} does not touch {k!r}")


def _last_seen(t: Txn, k: Any) -> Any:
    """The last version of k that txn t observed or installed: its last write
    of k, else what its first micro-op on k read."""
    out = _MISSING
    for f, kk, v in t.mops:
        if kk == k and (f == "w" or out is _MISSING):
            out = v
    if out is _MISSING:
        raise AssertionError(f"txn {t.id} does not touch {k!r}")
    return out


_MISSING = object()


def _cyclic_values(
    facts: dict[Any, set[tuple[Any, Any]]], writers: dict[Any, dict[Any, int]]
) -> dict[Any, set[Any]]:
    """Per key, the values on some cycle of its version facts and the initial
    version's precedence over every write (keys whose facts are acyclic are
    left out). One strongly-connected-components run over all keys' facts."""
    names: list[tuple[Any, Any]] = []  # node -> (key, value)
    src: list[int] = []
    dst: list[int] = []
    for k, pairs in facts.items():
        ids: dict[Any, int] = {}
        base = len(names)

        def node(v: Any, ids: dict[Any, int] = ids, k: Any = k, base: int = base) -> int:
            i = ids.get(v)
            if i is None:
                i = ids[v] = base + len(ids)
                names.append((k, v))
            return i

        for a, b in pairs:
            src.append(node(a))
            dst.append(node(b))
        for v in writers.get(k, ()):
            src.append(node(INITIAL))
            dst.append(node(v))
    out: dict[Any, set[Any]] = {}
    if not src:
        return out
    n = len(names)
    labels = DependencyGraph(
        n, np.array(src), np.array(dst), np.ones(len(src), np.int8)
    ).scc_labels()
    sizes = np.bincount(labels)
    for i in np.flatnonzero(sizes[labels] > 1).tolist():
        k, v = names[i]
        out.setdefault(k, set()).add(v)
    return out


def _raise_first_error(th: TxnHistory) -> None:
    """Raise the input error met first in the order of checks: writes over the
    whole history, then each transaction's reads. Returns if there is none."""
    txns = th.txns
    writers: dict[Any, dict[Any, int]] = {}
    for t in txns:
        for f, k, v in t.mops:
            if f == "append":
                raise HistoryError(
                    th.source, t.op.where(), "an append in an rw-register history: mixed workloads"
                )
            if f != "w":
                continue
            if isinstance(v, _CONTAINERS) or v is None:
                raise HistoryError(
                    th.source,
                    t.op.where(),
                    f"write of {v!r} to key {k!r}: register writes must be scalars",
                )
            per_key = writers.setdefault(k, {})
            prev = per_key.get(v)
            if prev is not None:
                raise HistoryError(
                    th.source,
                    t.op.where(),
                    f"value {v!r} is written to key {k!r} twice (also by the op at {txns[prev].op.where()}); "
                    "rw-register needs unique writes per key",
                )
            per_key[v] = t.id
    for t in txns:
        for f, k, v in t.mops:
            if f == "r" and isinstance(v, _CONTAINERS):
                raise HistoryError(
                    th.source,
                    t.op.where(),
                    f"read of key {k!r} returned {v!r}: a register read returns one value",
                )


class RegisterExplainer:
    """Recovers, for an edge, the key and versions that justify it.

    `reads` holds, for every external read in history order, the reader, its
    micro-op index and the writer of the value read (-1: nil or unwritten);
    `facts` the version pairs of keys with facts beyond the initial state
    (`fact_keys`, of which those with cyclic versions have none); every other
    key's only pairs are (nil, v) for each write v. Everything else is read
    again from `txn.mops`.
    """

    def __init__(
        self,
        txns: list[Txn],
        reads: tuple[np.ndarray, np.ndarray, np.ndarray],
        facts: dict[Any, set[tuple[Any, Any]]],
        fact_keys: set[Any],
    ) -> None:
        self.txns = txns
        self.reads = reads
        self.facts = facts
        self.fact_keys = fact_keys

    def _before(self, k: Any, v1: Any, v2: Any) -> bool:
        """Is v1 < v2 a usable version fact of key k (v2 being a write)?"""
        pairs = self.facts.get(k)
        if pairs is not None:
            return (v1, v2) in pairs
        if k in self.fact_keys:
            return False
        return v1 is INITIAL

    def _mop(self, tid: int, k: Any, v: Any) -> int:
        """Index of txn tid's write of v to k."""
        for j, (f, kk, vv) in enumerate(self.txns[tid].mops):
            if f == "w" and kk == k and vv == v:
                return j
        raise AssertionError(f"txn {tid} has no write of {v!r} to {k!r}")

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        tb = self.txns[b]
        if rel == WR:
            tids, mops, writers = self.reads
            key = np.int32(b)  # (a Python int would make numpy convert the whole array)
            lo, hi = np.searchsorted(tids, key, "left"), np.searchsorted(tids, key, "right")
            for r in range(int(lo), int(hi)):
                if writers[r] == a:
                    i = int(mops[r])
                    _, k, v = tb.mops[i]
                    return {
                        "type": "wr",
                        "key": k,
                        "value": v,
                        "a-mop-index": self._mop(a, k, v),
                        "b-mop-index": i,
                    }
            return None
        # b's writes: each value is unique, so b is its registered writer.
        for j, (f, k, v2) in enumerate(tb.mops):
            if f != "w":
                continue
            if rel == WW:
                for i, (fa, ka, v1) in enumerate(self.txns[a].mops):
                    if fa == "w" and ka == k and self._before(k, v1, v2):
                        return {
                            "type": "ww",
                            "key": k,
                            "value": v1,
                            "value'": v2,
                            "a-mop-index": i,
                            "b-mop-index": j,
                        }
            elif rel == RW:
                ext = _external_reads(self.txns[a]).get(k)
                if ext is not None and self._before(k, ext[1], v2):
                    return {
                        "type": "rw",
                        "key": k,
                        "value": ext[1],
                        "value'": v2,
                        "a-mop-index": ext[0],
                        "b-mop-index": j,
                    }
        return None
