"""Inference for read-write register histories over columns (Kingsbury & Alvaro 2020, section 5).

The same rules as the per-op inference it replaced (tests/reference/rw_register.py, the tests' oracle), vectorised
over the micro-op table: writes are unique per key, so every read names its
writer (wr edges, G1a, G1b); within each txn, internal and future reads and
lost-update candidates (rw_txnkeys); the version order is partly known from
the initial nil and the optional sources (rw_sources), and each fact v1 < v2
gives ww (writer of v1 to writer of v2) and rw (readers of v1 to writer of
v2) edges; a cycle among a key's facts is cyclic-versions. Python runs only
per anomaly found and per key with cyclic versions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.rw_checks import check_input
from mvcc_check.analysis.columnar.rw_commit_order import CommitEvidence, commit_ranks
from mvcc_check.analysis.columnar.rw_explain import RegisterExplainer
from mvcc_check.analysis.columnar.rw_records import Quoter, read_events
from mvcc_check.analysis.columnar.rw_sources import (
    Facts,
    SourceInput,
    VersionSources,
    version_facts,
)
from mvcc_check.analysis.columnar.rw_table import MopTable, build_table, writer_table
from mvcc_check.analysis.columnar.rw_txnkeys import TxnKeys, analyse
from mvcc_check.analysis.complete.choices import LazyOpenWrites, register_open_writes
from mvcc_check.analysis.graph import RW, WR, WW, EdgeBuilder, scc_labels
from mvcc_check.analysis.inference import Anomaly, Inference
from mvcc_check.history.columns import FAIL, INFO, OK
from mvcc_check.history.pairing import TxnColumns

__all__ = ["VersionSources", "infer"]

NO_SOURCES = VersionSources()


def infer(tc: TxnColumns, sources: VersionSources = NO_SOURCES) -> Inference:
    """Edges, non-cycle anomalies and an explainer for an rw-register history;
    HistoryError (the first problem, in the order of checks) on malformed input."""
    table = build_table(tc)
    check_input(tc, table)
    n_keys = len(tc.cols.keys)
    keys = analyse(table, tc.status, n_keys, groups=sources.any)
    writer, wrow = writer_table(table)
    r_txn = table.txn[keys.ext]
    r_vid = table.vid[keys.ext]
    r_w = writer[r_vid]
    has_w = r_w >= 0
    w_st = np.zeros(len(r_w), np.int8)
    w_st[has_w] = tc.status[r_w[has_w]]
    quote = Quoter(tc, table)
    g1a = w_st == FAIL
    g1b = has_w & ~g1a & (r_w != r_txn)
    g1b[g1b] = keys.intermediate[wrow[r_vid[g1b]]]
    del wrow
    anomalies: dict[str, list[Anomaly]] = {}
    garbage = _garbage_reads(table, keys, writer, r_vid, has_w)
    events = read_events(quote, keys, keys.ext[g1a], r_w[g1a], keys.ext[g1b], r_w[g1b], garbage)
    for kind, record in events:
        anomalies.setdefault(kind, []).append(record)
    lost = _lost_updates(quote, table, keys)
    if lost:
        anomalies["lost-update"] = lost
    rank = (
        None if sources.transaction_order is None else commit_ranks(tc, sources.transaction_order)
    )
    inp = SourceInput(tc, table, keys, rank)
    facts = version_facts(inp, sources) if sources.any else []
    order = _Order(tc, table, facts)
    cyclic = order.cyclic_report(quote)
    if cyclic:
        anomalies["cyclic-versions"] = cyclic
    # An info txn whose write a committed read (external or internal) saw committed.
    observed = np.zeros(tc.n, bool)
    observed[r_w[has_w]] = True
    inner = writer[table.vid[keys.internal]]
    observed[inner[inner >= 0]] = True
    live = (tc.status == OK) | ((tc.status == INFO) & observed)  # writers that get edges
    if rank is not None:  # an info txn the commit order places did commit
        live |= (tc.status == INFO) & (rank >= 0)
    edges = EdgeBuilder()
    wr = has_w & ~g1a
    edges.add_arrays(r_w[wr], r_txn[wr], WR)
    _initial_edges(edges, table, keys, r_txn, r_vid, live, order.fact_key)
    if order.usable is not None:
        _fact_edges(edges, tc, order, writer, live, r_txn, r_vid)
    reads = (r_txn, (keys.ext - table.start[r_txn]).astype(np.int32), r_w)
    usable_key = order.fact_key & ~order.cyclic_key
    explainer = RegisterExplainer(tc, table.coder, reads, order.fact_key, order.usable, usable_key)
    explainer.commits = _commit_evidence(sources, tc, table, facts)
    if rank is not None:
        explainer.placed = (sources.transaction_order, rank)
    ok_read = wr & ~g1b & (tc.status[r_txn] == OK)
    final = table.writes[~keys.intermediate[table.writes] & live[table.txn[table.writes]]]
    open_ = LazyOpenWrites(
        table.key[final],
        table.txn[final],
        table.vid[final],
        r_txn[ok_read],
        r_vid[ok_read],
        np.array([table.n_vids]),
        make=register_open_writes,
    )
    return Inference(edges, anomalies, explainer, open_writes=open_)


def _commit_evidence(
    sources: VersionSources, tc: TxnColumns, table: MopTable, facts: list[Facts]
) -> CommitEvidence | None:
    """What the transaction order said, for explanations (None without it)."""
    given = [f for f in facts if f.txns is not None]
    if sources.transaction_order is None or not given:
        return None
    f = given[0]
    assert f.txns is not None
    return CommitEvidence.of(
        sources.transaction_order, tc, table.n_vids, f.earlier, f.later, f.txns
    )


def _garbage_reads(
    table: MopTable, keys: TxnKeys, writer: np.ndarray, r_vid: np.ndarray, has_w: np.ndarray
) -> np.ndarray:
    """Table rows of committed reads of a value no txn wrote to the key (Kingsbury
    & Alvaro 2020, section 6.1, garbage reads): external reads, and internal ones
    (a read that agrees with its txn's earlier read of the key repeats that read's
    observation and is not counted again)."""
    unwritten = np.flatnonzero(~has_w)  # (nil reads mostly: few rows)
    ext = keys.ext[unwritten]
    ext = ext[r_vid[unwritten] != table.nil_vid[table.key[ext]]]
    inner = keys.internal
    v = table.vid[inner]
    inner = inner[(v != table.nil_vid[table.key[inner]]) & (writer[v] < 0)]
    return np.union1d(ext, inner)


def _lost_updates(quote: Quoter, table: MopTable, keys: TxnKeys) -> list[Anomaly]:
    """Two or more committed txns read the same version of a key and wrote the key,
    grouped by version, groups in order of their first member."""
    cand = keys.lost
    if not len(cand):
        return []
    vids = table.vid[cand]
    counts = np.bincount(vids, minlength=table.n_vids)
    multi = cand[counts[vids] > 1]
    if not len(multi):
        return []
    mv = table.vid[multi]
    o = np.argsort(mv, kind="stable")
    mv = mv[o]
    starts = np.flatnonzero(np.r_[True, mv[1:] != mv[:-1]])
    bounds = np.r_[starts, len(mv)]
    groups = sorted(
        (multi[o[a:b]].tolist() for a, b in zip(bounds[:-1], bounds[1:], strict=True)),
        key=lambda g: g[0],
    )
    out: list[Anomaly] = []
    for g in groups:
        k, v = quote.kv(g[0])
        txns = [quote.op_json(int(table.txn[x])) for x in g]
        out.append({"key": k, "value": v, "txns": txns})
    return out


class _Order:
    """The version facts of a history: which keys have facts beyond the initial
    nil (`fact_key`, per key id), which of those have cyclic versions
    (`cyclic_key`; `cyclic_report`), and for the other fact keys every usable
    fact, the initial nil's included, as sorted packed pairs earlier * n_vids
    + later (`usable`, None without facts)."""

    def __init__(self, tc: TxnColumns, table: MopTable, facts: list[Facts]) -> None:
        self.table = table
        self.facts = facts
        n_keys = len(tc.cols.keys)
        self.fact_key = np.zeros(n_keys, bool)
        self.cyclic_key = np.zeros(n_keys, bool)
        self.cyclic = np.zeros(0, np.int64)
        self.usable: np.ndarray | None = None
        if not facts:
            return
        key = np.concatenate([f.key for f in facts])
        earlier = np.concatenate([f.earlier for f in facts])
        later = np.concatenate([f.later for f in facts])
        if not len(key):
            return
        self.fact_key[key] = True
        writes = table.writes[self.fact_key[table.key[table.writes]]]
        self.cyclic = self._cyclic(earlier, later, writes)
        if len(self.cyclic):
            self.cyclic_key[table.key_of_vid(self.cyclic)] = True
            keep = ~self.cyclic_key[key]
            key, earlier, later = key[keep], earlier[keep], later[keep]
            writes = writes[~self.cyclic_key[table.key[writes]]]
        has_pred = np.zeros(table.n_vids, bool)
        has_pred[later[earlier != table.nil_vid[key]]] = True
        first = writes[~has_pred[table.vid[writes]]]
        n = np.int64(table.n_vids)
        packed = np.concatenate(
            [earlier * n + later, table.nil_vid[table.key[first]] * n + table.vid[first]]
        )
        packed.sort()  # (np.unique hashes: many times slower on millions)
        self.usable = packed[np.r_[True, packed[1:] != packed[:-1]]] if len(packed) else packed

    def _cyclic(self, earlier: np.ndarray, later: np.ndarray, writes: np.ndarray) -> np.ndarray:
        """The vids on a cycle of the facts plus nil preceding every write of a fact key."""
        t = self.table
        src = np.concatenate([earlier, t.nil_vid[t.key[writes]]])
        dst = np.concatenate([later, t.vid[writes]])
        n = t.n_vids
        labels = scc_labels(n, src, dst)
        sizes = np.bincount(labels)
        return np.flatnonzero(sizes[labels] > 1)

    def cyclic_report(self, quote: Quoter) -> list[Anomaly]:
        """One cyclic-versions record per key, keys in the order their first fact was stated."""
        if not len(self.cyclic):
            return []
        t = self.table
        rows = t.rows_of_vids(self.cyclic)
        by_key: dict[int, list[Any]] = {}
        for kid, v in zip(t.key_of_vid(self.cyclic).tolist(), self.cyclic.tolist(), strict=True):
            value = None if v == t.nil_vid[kid] else quote.value_at(rows[v])
            by_key.setdefault(kid, []).append(value)
        return [
            {"key": quote.key(kid), "scc": sorted(by_key[kid], key=repr)}
            for kid in _first_stated(self.facts, self.cyclic_key)
        ]


def _first_stated(facts: list[Facts], wanted: np.ndarray) -> list[int]:
    """The keys in `wanted` (a mask) in the order of their first fact."""
    ranked: dict[int, tuple[int, int]] = {}
    tie_of: dict[int, Any] = {}
    for si, f in enumerate(facts):
        sel = np.flatnonzero(wanted[f.key])
        if not len(sel):
            continue
        o = np.lexsort((f.pos[sel], f.key[sel]))
        ks, ps = f.key[sel][o], f.pos[sel][o]
        heads = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        for kid, pos in zip(ks[heads].tolist(), ps[heads].tolist(), strict=True):
            if kid not in ranked:
                ranked[kid] = (si, pos)
                tie_of[si] = f.tie
    order = sorted(ranked, key=lambda kid: ranked[kid])
    out: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and ranked[order[j]] == ranked[order[i]]:
            j += 1
        same = order[i:j]
        si, pos = ranked[order[i]]
        tie = tie_of.get(si)
        out.extend(tie(pos, same) if tie is not None and len(same) > 1 else same)
        i = j
    return out


def _initial_edges(
    edges: EdgeBuilder,
    table: MopTable,
    keys: TxnKeys,
    r_txn: np.ndarray,
    r_vid: np.ndarray,
    live: np.ndarray,
    fact_key: np.ndarray,
) -> None:
    """rw edges of keys whose only fact is "nil precedes every write": each
    external reader of nil precedes each live writer of the key."""
    r_key = table.key[keys.ext]
    nil = np.flatnonzero((r_vid == table.nil_vid[r_key]) & ~fact_key[r_key])
    if not len(nil):
        return
    wanted = np.zeros(len(fact_key), bool)
    wanted[r_key[nil]] = True
    w = table.writes
    w = w[wanted[table.key[w]]]
    w = w[live[table.txn[w]]]
    if not len(w):
        return
    wk = table.key[w]
    o = np.argsort(wk.astype(np.int16) if len(fact_key) < 2**15 else wk, kind="stable")
    writers = table.txn[w[o]]
    counts = np.bincount(wk, minlength=len(fact_key))
    off = np.zeros(len(fact_key) + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    rk = r_key[nil]
    c = counts[rk]
    src = np.repeat(r_txn[nil], c)
    ends = np.cumsum(c)
    dst = writers[np.repeat(off[rk] - (ends - c), c) + np.arange(int(ends[-1]) if len(c) else 0)]
    edges.add_arrays(src, dst, RW)


def _fact_edges(
    edges: EdgeBuilder,
    tc: TxnColumns,
    order: _Order,
    writer: np.ndarray,
    live: np.ndarray,
    r_txn: np.ndarray,
    r_vid: np.ndarray,
) -> None:
    """ww and rw edges of the usable facts: writer of v1 (unless failed) to a
    live writer of v2, and each external reader of v1 to it."""
    assert order.usable is not None
    n = np.int64(order.table.n_vids)
    earlier, later = order.usable // n, order.usable % n
    w2 = writer[later]
    keep = w2 >= 0
    keep[keep] = live[w2[keep]]
    earlier, later, w2 = earlier[keep], later[keep], w2[keep]
    w1 = writer[earlier]
    ww = w1 >= 0
    ww[ww] = tc.status[w1[ww]] != FAIL
    edges.add_arrays(w1[ww], w2[ww], WW)
    ro = np.argsort(r_vid, kind="stable")
    readers = r_txn[ro]
    counts = np.bincount(r_vid, minlength=int(n))
    off = np.zeros(int(n) + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    c = counts[earlier]
    ends = np.cumsum(c)
    total = int(ends[-1]) if len(c) else 0
    src = readers[np.repeat(off[earlier] - (ends - c), c) + np.arange(total)]
    edges.add_arrays(src, np.repeat(w2, c), RW)
