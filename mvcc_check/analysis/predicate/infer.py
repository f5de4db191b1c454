"""Dependencies of a closed-predicate history (Elle's elle.closed-predicate, Adya's DSG).

Item edges: ww (a change follows init's version), wr (a read of a key saw a
version), rw (a read saw a version the next change overwrote). Predicate edges,
for each predicate read P and each key in its version set VSet(P) (the rows it
returned, and the versions the closed universe proves it saw of the rows it did
not return): wrp from the writer of the version seen, and rwp to the writer of a
later version that changes whether P matches (Adya's predicate anti-dependency:
a phantom the read missed, or a row it saw that was then changed out of P).

wrp edges count as wr everywhere (Elle does the same); rwp edges are kept apart,
so that the search can tell G2 (predicate anti-dependencies) from G2-item.
Non-cycle anomalies: predicate-read-miss (Elle: a read missed a key every version
of which matches), G1a (a read of a failed write), internal and future-read (a
transaction's read against its own changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mvcc_check.analysis.graph import RW, WR, WW, EdgeBuilder
from mvcc_check.analysis.inference import Anomaly, Inference
from mvcc_check.analysis.predicate.txns import Mop, PTxn, changes_of, read_txns
from mvcc_check.analysis.predicate.universe import (
    DEAD,
    UNBORN,
    Universe,
    build_universe,
    matches,
    shown,
)
from mvcc_check.history.columns import DELETE, INFO, INSERT, OK, PREAD, READ, WRITE
from mvcc_check.history.pairing import TxnColumns

Reason = dict[str, Any]


@dataclass
class PredicateInference(Inference):
    """Inference whose `edges` hold ww and wr (wrp too), `item_rw` the item rw edges and
    `predicate_rw` the rwp edges."""

    predicate_rw: EdgeBuilder = field(default_factory=EdgeBuilder)
    item_rw: EdgeBuilder = field(default_factory=EdgeBuilder)
    reasons: dict[tuple[int, int, str], Reason] = field(default_factory=dict)
    universe: Universe = field(default_factory=Universe)


class _Collector:
    """Edges and the first reason for each (a, b, type), and anomaly records."""

    def __init__(self, tc: TxnColumns, u: Universe, txns: list[PTxn]) -> None:
        self.tc, self.u, self.txns = tc, u, txns
        self.edges, self.prw, self.irw = EdgeBuilder(), EdgeBuilder(), EdgeBuilder()
        self.reasons: dict[tuple[int, int, str], Reason] = {}
        self.anomalies: dict[str, list[Anomaly]] = {}

    def has(self, a: int, b: int, typ: str) -> bool:
        """Whether edge (a, b, typ) is known already, or is no edge (a self-edge)."""
        return a == b or a < 0 or (a, b, typ) in self.reasons

    def edge(self, a: int, b: int, typ: str, reason: Reason) -> None:
        if self.has(a, b, typ):
            return  # the first reason is the one kept; the edge is there
        if typ == "rwp":
            self.prw.add(a, b, RW)
        elif typ == "rw":
            self.irw.add(a, b, RW)
        else:
            self.edges.add(a, b, WW if typ == "ww" else WR)
        self.reasons[(a, b, typ)] = {"type": typ, **reason}

    def op(self, t: int) -> dict[str, Any]:
        return self.tc.cols.op_json(self.tc.op_row(t))

    def mop(self, m: Mop) -> list[Any]:
        return self.tc.cols.mop(m.row)

    def anomaly(self, name: str, t: int, m: Mop, **extra: Any) -> None:
        rec = {"op": self.op(t), "mop": self.mop(m), **extra}
        self.anomalies.setdefault(name, []).append(rec)


def infer(tc: TxnColumns) -> PredicateInference:
    """Edges, non-cycle anomalies and explanations of a closed-predicate history."""
    from mvcc_check.analysis.predicate.explain import PredicateExplainer

    txns = read_txns(tc)
    init, changes, failed = changes_of(txns, tc.cols.source)
    u = build_universe(init, changes, failed, tc.cols.source)
    c = _Collector(tc, u, txns)
    _ww_edges(c)
    for tx in txns:
        if tx.status == OK:
            _reads(c, tx)
    explainer = PredicateExplainer(c.reasons, predicate=False, op=c.op)
    return PredicateInference(
        edges=c.edges,
        anomalies=c.anomalies,
        explainer=explainer,
        predicate_rw=c.prw,
        item_rw=c.irw,
        reasons=c.reasons,
        universe=u,
    )


def _ww_edges(c: _Collector) -> None:
    for k, vs in c.u.versions.items():
        for prev, ver in zip(vs, vs[1:], strict=False):
            c.edge(
                prev.writer,
                ver.writer,
                "ww",
                {
                    "key": k,
                    "value": shown(prev.value),
                    "value'": shown(ver.value),
                    "a-mop-index": prev.mop,
                    "b-mop-index": ver.mop,
                },
            )


def _reads(c: _Collector, tx: PTxn) -> None:
    """The edges and anomalies of one committed transaction's reads, in micro-op order."""
    own: dict[Any, Any] = {}  # keys this transaction changed so far -> the version it installed
    for i, m in enumerate(tx.mops):
        if m.kind in (INSERT, WRITE):
            own[m.key] = m.value
        elif m.kind == DELETE:
            own[m.key] = DEAD
        elif m.kind == READ:
            _item_read(c, tx, i, m, own)
        elif m.kind == PREAD:
            _predicate_read(c, tx, i, m, own)


def _item_read(c: _Collector, tx: PTxn, i: int, m: Mop, own: dict[Any, Any]) -> None:
    k, u = m.key, c.u
    if k in own:
        mine = own[k]
        if (m.value is None) != (mine is DEAD) or (mine is not DEAD and m.value != mine):
            c.anomaly("internal", tx.t, m, expected=None if mine is DEAD else mine)
        return
    v = u.resolve(k, m.value)
    if v is None:
        return  # nil of a key that was both unborn and dead once: which, no one can tell
    vs = u.of(k)
    pos = u.find(k, v)
    if pos is None:
        _maybe_g1a(c, tx, m, k, v)
        return
    if pos >= 0:
        ver = vs[pos]
        if ver.writer == tx.t:
            c.anomaly("future-read", tx.t, m, element=shown(v))
            return
        c.edge(ver.writer, tx.t, "wr", _reason(k, v, None, ver.mop, i))
    if pos + 1 < len(vs):
        nxt = vs[pos + 1]
        c.edge(tx.t, nxt.writer, "rw", _reason(k, v, nxt.value, i, nxt.mop))


def _maybe_g1a(c: _Collector, tx: PTxn, m: Mop, k: Any, v: Any) -> None:
    failed = c.u.failed.get((k, v)) if not isinstance(v, type(UNBORN)) else None
    if failed is not None:
        writer, _ = failed
        c.anomaly("G1a", tx.t, m, writer=c.op(writer), key=k, element=shown(v))


def _reason(k: Any, v: Any, v2: Any, a_mop: int, b_mop: int) -> Reason:
    r: Reason = {"key": k, "value": shown(v)}
    if v2 is not None:
        r["value'"] = shown(v2)
    r["a-mop-index"] = a_mop
    r["b-mop-index"] = b_mop
    return r


def _predicate_read(c: _Collector, tx: PTxn, i: int, m: Mop, own: dict[Any, Any]) -> None:
    pred, seen = m.key, m.value or {}
    for k, mine in own.items():  # its own changes: a row it made matching must be there
        want = matches(pred, mine)
        if want != (k in seen) or (want and seen[k] != mine):
            c.anomaly("internal", tx.t, m, key=k, expected=shown(mine) if want else None)
    vset = _version_set(c, tx, m, own)
    u = c.u
    quoted: list[Any] = []  # the micro-op as written, made once (its map may be large)

    def mop() -> list[Any]:
        if not quoted:
            quoted.append(c.mop(m))
        return quoted[0]

    for k, v in vset.items():
        vs = u.of(k)
        pos = u.find(k, v)
        if pos is None:
            _maybe_g1a(c, tx, m, k, v)
            continue
        returned = k in seen
        if pos >= 0:
            ver = vs[pos]
            if ver.writer == tx.t:
                c.anomaly("future-read", tx.t, m, key=k, element=shown(v))
                continue
            if not c.has(ver.writer, tx.t, "wrp"):
                r = _reason(k, v, None, ver.mop, i)
                r.update({"predicate-read": mop(), "returned?": returned})
                c.edge(ver.writer, tx.t, "wrp", r)
        for later in vs[pos + 1 :]:
            if matches(pred, v) != matches(pred, later.value) and not c.has(
                tx.t, later.writer, "rwp"
            ):
                r = _reason(k, v, later.value, i, later.mop)
                r.update(
                    {
                        "predicate?": True,
                        "predicate-read": mop(),
                        "returned?": returned,
                        "matches": matches(pred, v),
                        "matches'": matches(pred, later.value),
                        "versions": [shown(x.value) for x in vs],
                    }
                )
                c.edge(tx.t, later.writer, "rwp", r)


def _version_set(c: _Collector, tx: PTxn, m: Mop, own: dict[Any, Any]) -> dict[Any, Any]:
    """What predicate read m saw of each key it can be shown to have seen: the rows it
    returned, and of the others the only version that does not match (Elle's closed
    universe). A key every version of which matches, yet not returned, is a
    predicate-read-miss (read as its unborn state, as Elle does)."""
    pred, seen, u = m.key, m.value or {}, c.u
    vset: dict[Any, Any] = {k: v for k, v in seen.items() if k not in own and v is not None}
    for k, vs in u.versions.items():
        if k in seen or k in own:
            continue
        misses = [ver for ver in vs if not matches(pred, ver.value)]
        if not misses:
            c.anomaly("predicate-read-miss", tx.t, m, key=k, versions=[shown(x.value) for x in vs])
            vset[k] = UNBORN
        elif len(misses) == 1:
            w = misses[0].writer
            if w < 0 or c.txns[w].status != INFO:  # an indeterminate write proves nothing
                vset[k] = misses[0].value
    return vset
