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
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mvcc_check.analysis.graph import RW, WR, WW, EdgeBuilder
from mvcc_check.analysis.inference import Anomaly, Inference, in_graph, op_json
from mvcc_check.errors import HistoryError
from mvcc_check.history.ops import _short
from mvcc_check.history.txns import Txn, TxnHistory


class _Writer:
    __slots__ = ("txn", "mop", "final")

    def __init__(self, txn: int, mop: int) -> None:
        self.txn = txn
        self.mop = mop
        self.final = True


def infer(th: TxnHistory) -> Inference:
    txns = th.txns
    writers: dict[Any, dict[Any, _Writer]] = {}
    # 1. Who appended what; duplicates make the history unusable.
    for t in txns:
        last_of_key: dict[Any, _Writer] = {}
        for i, (f, k, v) in enumerate(t.mops):
            if f == "w":
                raise HistoryError(th.source, _where(t), "a write (w) in a list-append history: mixed workloads")
            if f != "append":
                continue
            per_key = writers.setdefault(k, {})
            try:
                hash(v)
            except TypeError:
                raise HistoryError(th.source, _where(t), f"appended value {v!r} is not a scalar") from None
            prev = per_key.get(v)
            if prev is not None:
                raise HistoryError(
                    th.source,
                    _where(t),
                    f"value {v!r} is appended to key {k!r} twice (also by the op at {_where(txns[prev.txn])}); "
                    "list-append needs unique values per key",
                )
            w = _Writer(t.id, i)
            per_key[v] = w
            if k in last_of_key:
                last_of_key[k].final = False
            last_of_key[k] = w

    anomalies: dict[str, list[Anomaly]] = {}

    def report(kind: str, record: Anomaly) -> None:
        anomalies.setdefault(kind, []).append(record)

    failed_values: dict[Any, set] = {}
    for k, per_key in writers.items():
        bad = {v for v, w in per_key.items() if txns[w.txn].status == "fail"}
        if bad:
            failed_values[k] = bad

    def read_anomalies(t: Txn, i: int, k: Any, v: list) -> None:
        """Aborted (G1a) and intermediate (G1b) reads: what a non-empty read saw."""
        bad = failed_values.get(k)
        if bad is not None and not bad.isdisjoint(v):
            for e in v:
                if e in bad:
                    w = writers[k][e]
                    report("G1a", {"op": op_json(t), "mop": list(t.mops[i]), "writer": op_json(txns[w.txn]),
                                   "element": e})
        w = writers.get(k, {}).get(v[-1])
        if w is not None and not w.final and w.txn != t.id and txns[w.txn].status != "fail":
            report("G1b", {"op": op_json(t), "mop": list(t.mops[i]), "writer": op_json(txns[w.txn]),
                           "element": v[-1]})

    # 2. Per committed transaction: shape of reads, internal consistency, future reads.
    # txn -> key -> [(mop index, value)]: reads of committed state, i.e. not after the txn's own append
    ext_reads: dict[int, dict[Any, list[tuple[int, tuple]]]] = {}
    longest: dict[Any, tuple] = {}
    all_reads: dict[Any, set[tuple]] = {}
    for t in txns:
        if t.status != "ok":
            _check_read_shapes(th, t)
            continue
        mops = t.mops
        keys = [m[1] for m in mops]
        if len(set(keys)) == len(keys):
            # Fast path, the common case: each key touched once, so every read is
            # external and no internal or future read is possible.
            own_fast: dict[Any, list[tuple[int, tuple]]] = {}
            for i, (f, k, v) in enumerate(mops):
                if f != "r":
                    continue
                if v is None:
                    v = []
                elif type(v) is not list:
                    raise HistoryError(
                        th.source, _where(t), f"read of key {k!r} returned {v!r}: a list-append read must return a list"
                    )
                val = tuple(v)
                try:
                    distinct = len(set(val))
                except TypeError:
                    raise HistoryError(
                        th.source, _where(t), f"read of key {k!r} returned {_short(v)}: list elements must be scalars"
                    ) from None
                if distinct != len(val):
                    dups = {e: c for e, c in Counter(val).items() if c > 1}
                    report("duplicate-elements", {"op": op_json(t), "mop": list(mops[i]), "duplicates": dups})
                if v:
                    read_anomalies(t, i, k, v)
                own_fast[k] = [(i, val)]
                reads_k = all_reads.get(k)
                if reads_k is None:
                    all_reads[k] = {val}
                    longest[k] = val
                else:
                    reads_k.add(val)
                    if len(val) > len(longest[k]):
                        longest[k] = val
            if own_fast:
                ext_reads[t.id] = own_fast
            continue
        own_ext: dict[Any, list[tuple[int, tuple]]] = {}
        known: dict[Any, list] = {}  # key -> the full list this txn must read next
        suffix: dict[Any, list] = {}  # key -> own appends since the last read, prefix unknown
        appended_at: dict[Any, dict[Any, int]] = {}
        for i, (f, k, v) in enumerate(mops):
            if f == "append":
                appended_at.setdefault(k, {})[v] = i
        for i, mop in enumerate(mops):
            f, k, v = mop
            if f == "append":
                if k in known:
                    known[k].append(v)
                else:
                    suffix.setdefault(k, []).append(v)
                continue
            if v is None:
                v = []  # EDN histories write an empty read as nil
            elif type(v) is not list:
                raise HistoryError(
                    th.source, _where(t), f"read of key {k!r} returned {v!r}: a list-append read must return a list"
                )
            val = tuple(v)
            try:
                distinct = len(set(val))
            except TypeError:
                raise HistoryError(
                    th.source, _where(t), f"read of key {k!r} returned {_short(v)}: list elements must be scalars"
                ) from None
            if distinct != len(val):
                dups = {e: c for e, c in Counter(val).items() if c > 1}
                report("duplicate-elements", {"op": op_json(t), "mop": list(mop), "duplicates": dups})
            own = appended_at.get(k)
            if own is not None:
                for e in val:
                    j = own.get(e)
                    if j is not None and j > i:
                        report("future-read", {"op": op_json(t), "mop": list(mop), "element": e})
                        break
            exp = known.get(k)
            if exp is not None:
                if v != exp:
                    report("internal", {"op": op_json(t), "mop": list(mop), "expected": list(exp)})
            elif k in suffix:
                sfx = suffix.pop(k)
                if len(v) < len(sfx) or v[len(v) - len(sfx) :] != sfx:
                    report("internal", {"op": op_json(t), "mop": list(mop), "expected": ["...", *sfx]})
            if v:
                read_anomalies(t, i, k, v)
            if own is None or not appended_before(own, i):
                if k in own_ext:
                    own_ext[k].append((i, val))
                else:
                    own_ext[k] = [(i, val)]
            known[k] = list(v)
            reads_k = all_reads.get(k)
            if reads_k is None:
                all_reads[k] = {val}
                longest[k] = val
            else:
                reads_k.add(val)
                if len(val) > len(longest[k]):
                    longest[k] = val
        if own_ext:
            ext_reads[t.id] = own_ext

    # 3. Version orders: every read must be a prefix of the longest.
    for k, reads in all_reads.items():
        order = longest[k]
        for val in sorted(reads, key=len):
            if order[: len(val)] != val:
                report("incompatible-order", {"key": k, "values": [list(val), list(order)]})

    # 4. Aborted and intermediate reads, and dirty updates.
    for k in failed_values.keys() & longest.keys():
        order = longest[k]
        per_key = writers[k]
        failed_at = None
        for pos, e in enumerate(order):
            w = per_key.get(e)
            if w is None:
                continue
            if txns[w.txn].status == "fail":
                if failed_at is None:
                    failed_at = pos
            elif failed_at is not None:
                fw = txns[per_key[order[failed_at]].txn]
                report(
                    "dirty-update",
                    {"key": k, "values": [order[failed_at], e], "txns": [op_json(fw), "...", op_json(txns[w.txn])]},
                )
                break

    # 5. Lost updates: two committed transactions read the same state of k and both appended to k.
    _lost_updates(txns, ext_reads, report)

    # 6. Edges. A committed append that no read shows comes after every value
    # read (lists only grow), so it follows the last element of the order.
    unread: dict[Any, list[_Writer]] = {}
    for k, per_key in writers.items():
        seen = set(longest.get(k, ()))
        late = [w for v, w in per_key.items() if v not in seen and txns[w.txn].status == "ok"]
        if late:
            unread[k] = late
    edges = EdgeBuilder()
    for k in longest.keys() | unread.keys():
        order = longest.get(k, ())
        per_key = writers.get(k, {})
        prev = None
        for e in order:
            w = per_key.get(e)
            cur = w.txn if w is not None and in_graph(txns[w.txn]) else None
            if prev is not None and cur is not None:
                edges.add(prev, cur, WW)
            prev = cur
        if order and prev is not None:
            for w in unread.get(k, ()):
                edges.add(prev, w.txn, WW)
    for tid, reads in ext_reads.items():
        for k, (_, val) in ((k, r) for k, rs in reads.items() for r in rs):
            per_key = writers.get(k, {})
            if val:
                w = per_key.get(val[-1])
                if w is not None and in_graph(txns[w.txn]):
                    edges.add(w.txn, tid, WR)
            order = longest.get(k, ())
            if len(val) < len(order) and order[: len(val)] == val:
                w = per_key.get(order[len(val)])
                if w is not None and in_graph(txns[w.txn]):
                    edges.add(tid, w.txn, RW)
            elif len(val) == len(order) and order == val:
                for w in unread.get(k, ()):
                    edges.add(tid, w.txn, RW)
    return Inference(edges, anomalies, ListAppendExplainer(txns, writers, longest, ext_reads, unread))


def _lost_updates(txns: list[Txn], ext_reads: dict[int, dict[Any, list[tuple[int, tuple]]]], report) -> None:
    groups: dict[tuple[Any, tuple], list[Txn]] = {}
    for tid, reads in ext_reads.items():
        t = txns[tid]
        appended = {k for f, k, _ in t.mops if f == "append"}
        for k, ((_, val), *_) in reads.items():
            if k in appended:
                groups.setdefault((k, val), []).append(t)
    for (k, val), ts in groups.items():
        if len(ts) > 1:
            report("lost-update", {"key": k, "value": list(val), "txns": [op_json(t) for t in ts]})


def _check_read_shapes(th: TxnHistory, t: Txn) -> None:
    for f, k, v in t.mops:
        if f == "w":
            raise HistoryError(th.source, _where(t), "a write (w) in a list-append history: mixed workloads")
        if f == "r" and v is not None and not isinstance(v, list):
            raise HistoryError(
                th.source, _where(t), f"read of key {k!r} returned {v!r}: a list-append read must return a list"
            )


def _where(t: Txn) -> str:
    op = t.op
    return f"line {op.line}" if op.line >= 0 else f"op index {op.index}"


class ListAppendExplainer:
    """Recovers, for an edge, the key and values that justify it."""

    def __init__(self, txns, writers, longest, ext_reads, unread) -> None:
        self.unread = unread
        self.txns = txns
        self.writers = writers
        self.longest = longest
        self.ext_reads = ext_reads

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        ta, tb = self.txns[a], self.txns[b]
        if rel == WW:
            for k in _appended_keys(tb):
                order = self.longest.get(k, ())
                per_key = self.writers.get(k, {})
                for pos in range(1, len(order)):
                    wa = per_key.get(order[pos - 1])
                    wb = per_key.get(order[pos])
                    if wa is not None and wb is not None and wa.txn == a and wb.txn == b:
                        return {"type": "ww", "key": k, "value": order[pos - 1], "value'": order[pos],
                                "a-mop-index": wa.mop, "b-mop-index": wb.mop}
                if order:
                    wa = per_key.get(order[-1])
                    for wb in self.unread.get(k, ()):
                        if wa is not None and wa.txn == a and wb.txn == b:
                            return {"type": "ww", "key": k, "value": order[-1], "value'": _value_of(tb, wb),
                                    "a-mop-index": wa.mop, "b-mop-index": wb.mop, "unread": True}
        elif rel == WR:
            for k, i, val in _flat(self.ext_reads.get(b, {})):
                if val:
                    w = self.writers.get(k, {}).get(val[-1])
                    if w is not None and w.txn == a:
                        return {"type": "wr", "key": k, "value": val[-1], "a-mop-index": w.mop, "b-mop-index": i}
        elif rel == RW:
            for k, i, val in _flat(self.ext_reads.get(a, {})):
                order = self.longest.get(k, ())
                if len(val) < len(order) and order[: len(val)] == val:
                    w = self.writers.get(k, {}).get(order[len(val)])
                    if w is not None and w.txn == b:
                        return {"type": "rw", "key": k, "value": val[-1] if val else None,
                                "value'": order[len(val)], "a-mop-index": i, "b-mop-index": w.mop}
                elif order == val:
                    for w in self.unread.get(k, ()):
                        if w.txn == b:
                            return {"type": "rw", "key": k, "value": val[-1] if val else None,
                                    "value'": _value_of(tb, w), "a-mop-index": i, "b-mop-index": w.mop,
                                    "unread": True}
        del ta
        return None


def _flat(reads: dict[Any, list[tuple[int, tuple]]]):
    for k, rs in reads.items():
        for i, val in rs:
            yield k, i, val


def appended_before(appends: dict[Any, int], i: int) -> bool:
    return any(j < i for j in appends.values())


def _value_of(t: Txn, w: _Writer) -> Any:
    return t.mops[w.mop][2]


def _appended_keys(t: Txn) -> list[Any]:
    seen: dict[Any, None] = {}
    for f, k, _ in t.mops:
        if f == "append":
            seen[k] = None
    return list(seen)
