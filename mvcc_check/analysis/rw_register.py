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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mvcc_check.analysis.graph import RW, WR, WW, EdgeBuilder
from mvcc_check.analysis.inference import Anomaly, Inference, in_graph, op_json
from mvcc_check.errors import HistoryError
from mvcc_check.history.txns import Txn, TxnHistory

INITIAL = None  # the initial version of every key


@dataclass(frozen=True)
class VersionSources:
    wfr_keys: bool = False
    sequential_keys: bool = False
    linearizable_keys: bool = False


class _Writer:
    __slots__ = ("txn", "mop", "final")

    def __init__(self, txn: int, mop: int) -> None:
        self.txn = txn
        self.mop = mop
        self.final = True


def infer(th: TxnHistory, sources: VersionSources = VersionSources()) -> Inference:
    txns = th.txns
    writers: dict[Any, dict[Any, _Writer]] = {}
    for t in txns:
        last: dict[Any, _Writer] = {}
        for i, (f, k, v) in enumerate(t.mops):
            if f == "append":
                raise HistoryError(th.source, _where(t), "an append in an rw-register history: mixed workloads")
            if f != "w":
                continue
            if isinstance(v, list | dict) or v is None:
                raise HistoryError(th.source, _where(t), f"write of {v!r} to key {k!r}: register writes must be scalars")
            per_key = writers.setdefault(k, {})
            prev = per_key.get(v)
            if prev is not None:
                raise HistoryError(
                    th.source,
                    _where(t),
                    f"value {v!r} is written to key {k!r} twice (also by the op at {_where(txns[prev.txn])}); "
                    "rw-register needs unique writes per key",
                )
            w = _Writer(t.id, i)
            per_key[v] = w
            if k in last:
                last[k].final = False
            last[k] = w

    anomalies: dict[str, list[Anomaly]] = {}

    def report(kind: str, record: Anomaly) -> None:
        anomalies.setdefault(kind, []).append(record)

    ext_reads: dict[int, dict[Any, tuple[int, Any]]] = {}
    readers: dict[Any, dict[Any, list[int]]] = {}  # key -> value -> txns that externally read it
    for t in txns:
        if t.status != "ok":
            for f, k, v in t.mops:
                if f == "r" and isinstance(v, list | dict):
                    raise HistoryError(th.source, _where(t), f"read of key {k!r} returned {v!r}: a register read returns one value")
            continue
        state: dict[Any, Any] = {}
        own: dict[Any, tuple[int, Any]] = {}
        writes_at: dict[Any, dict[Any, int]] = {}
        for i, (f, k, v) in enumerate(t.mops):
            if f == "w":
                writes_at.setdefault(k, {})[v] = i
        for i, mop in enumerate(t.mops):
            f, k, v = mop
            if f == "w":
                state[k] = v
                continue
            if isinstance(v, list | dict):
                raise HistoryError(th.source, _where(t), f"read of key {k!r} returned {v!r}: a register read returns one value")
            j = writes_at.get(k, {}).get(v)
            if j is not None and j > i and k not in state:
                report("future-read", {"op": op_json(t), "mop": list(mop), "element": v})
            if k in state:
                if state[k] != v:
                    report("internal", {"op": op_json(t), "mop": list(mop), "expected": state[k]})
                continue
            state[k] = v
            own[k] = (i, v)
            readers.setdefault(k, {}).setdefault(v, []).append(t.id)
            w = writers.get(k, {}).get(v) if v is not None else None
            if w is None:
                continue
            wt = txns[w.txn]
            if wt.status == "fail":
                report("G1a", {"op": op_json(t), "mop": list(mop), "writer": op_json(wt), "element": v})
            elif w.txn != t.id and not w.final:
                report("G1b", {"op": op_json(t), "mop": list(mop), "writer": op_json(wt), "element": v})
        if own:
            ext_reads[t.id] = own

    _lost_updates(txns, ext_reads, report)

    facts = _version_facts(txns, writers, ext_reads, sources)
    edges = EdgeBuilder()
    usable: dict[Any, set[tuple[Any, Any]]] = {}
    for k, pairs in facts.items():
        cyc = _cyclic_values(pairs | {(INITIAL, v) for v in writers.get(k, {})})
        if cyc:
            report("cyclic-versions", {"key": k, "scc": sorted(cyc, key=repr)})
            continue
        usable[k] = pairs
    for k, per_key in writers.items():
        pairs = usable.get(k)
        if pairs is None:
            if k in facts:
                continue
            pairs = set()
        has_pred = {b for a, b in pairs if a is not INITIAL}
        for v in per_key:
            if v not in has_pred:
                pairs.add((INITIAL, v))
        usable[k] = pairs
    # An indeterminate transaction took effect only if some read shows one of its
    # writes; one that no read shows may never have happened, so it gets no edges.
    observed = {
        w.txn
        for k, by_value in readers.items()
        for v in by_value
        if v is not None and (w := writers.get(k, {}).get(v)) is not None
    }
    for k, pairs in usable.items():
        per_key = writers.get(k, {})
        key_readers = readers.get(k, {})
        for v1, v2 in pairs:
            w2 = per_key.get(v2) if v2 is not INITIAL else None
            if w2 is None or not in_graph(txns[w2.txn]):
                continue
            if txns[w2.txn].status == "info" and w2.txn not in observed:
                continue
            if v1 is not INITIAL:
                w1 = per_key.get(v1)
                if w1 is not None and in_graph(txns[w1.txn]):
                    edges.add(w1.txn, w2.txn, WW)
            for r in key_readers.get(v1, ()):
                edges.add(r, w2.txn, RW)
    for k, by_value in readers.items():
        per_key = writers.get(k, {})
        for v, rs in by_value.items():
            w = per_key.get(v) if v is not None else None
            if w is None or not in_graph(txns[w.txn]):
                continue
            for r in rs:
                edges.add(w.txn, r, WR)
    return Inference(edges, anomalies, RegisterExplainer(txns, writers, ext_reads, usable))


def _version_facts(txns: list[Txn], writers, ext_reads, sources: VersionSources) -> dict[Any, set[tuple[Any, Any]]]:
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
            reads = ext_reads.get(t.id, {})
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
                    first, _ = seen(t)
                    for p in preds[t.id]:
                        _, plast = seen(p)
                        add(k, plast[k], first[k])
                else:
                    for p in preds.pop(t.id, ()):
                        frontier.pop(p.id, None)
                    frontier[t.id] = t
    return facts


def _cyclic_values(pairs: set[tuple[Any, Any]]) -> set[Any]:
    """Values on some cycle of the version facts (empty when acyclic)."""
    succ: dict[Any, list[Any]] = {}
    for a, b in pairs:
        succ.setdefault(a, []).append(b)
    # Iterative Tarjan over a small per-key graph.
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    stack: list[Any] = []
    on: set[Any] = set()
    out: set[Any] = set()
    counter = 0
    for root in list(succ):
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(succ.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == node:
                        break
                if len(comp) > 1:
                    out.update(comp)
    return out


def _lost_updates(txns: list[Txn], ext_reads, report) -> None:
    groups: dict[tuple[Any, Any], list[Txn]] = {}
    for tid, reads in ext_reads.items():
        t = txns[tid]
        written = {k for f, k, _ in t.mops if f == "w"}
        for k, (_, v) in reads.items():
            if k in written:
                groups.setdefault((k, v), []).append(t)
    for (k, v), ts in groups.items():
        if len(ts) > 1:
            report("lost-update", {"key": k, "value": v, "txns": [op_json(t) for t in ts]})


def _where(t: Txn) -> str:
    op = t.op
    return f"line {op.line}" if op.line >= 0 else f"op index {op.index}"


class RegisterExplainer:
    def __init__(self, txns, writers, ext_reads, facts) -> None:
        self.txns = txns
        self.writers = writers
        self.ext_reads = ext_reads
        self.facts = facts

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        tb = self.txns[b]
        if rel == WR:
            for k, (i, v) in self.ext_reads.get(b, {}).items():
                w = self.writers.get(k, {}).get(v) if v is not None else None
                if w is not None and w.txn == a:
                    return {"type": "wr", "key": k, "value": v, "a-mop-index": w.mop, "b-mop-index": i}
            return None
        for j, (f, k, v2) in enumerate(tb.mops):
            if f != "w":
                continue
            w2 = self.writers.get(k, {}).get(v2)
            if w2 is None or w2.txn != b:
                continue
            pairs = self.facts.get(k, set())
            if rel == WW:
                for i, (fa, ka, v1) in enumerate(self.txns[a].mops):
                    if fa == "w" and ka == k and (v1, v2) in pairs:
                        return {"type": "ww", "key": k, "value": v1, "value'": v2, "a-mop-index": i, "b-mop-index": j}
            elif rel == RW:
                ext = self.ext_reads.get(a, {}).get(k)
                if ext is not None and (ext[1], v2) in pairs:
                    return {"type": "rw", "key": k, "value": ext[1], "value'": v2, "a-mop-index": ext[0], "b-mop-index": j}
        return None
