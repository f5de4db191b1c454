"""Inference for list-append histories over columns (Kingsbury & Alvaro 2020, section 4).

The same rules, records, edges and explanations as the per-op inference it
replaced (tests/reference/list_append.py, the tests' oracle),
computed with numpy over the columns of history/columns.py instead of one
Python object per micro-op. Each key holds a list; transactions append
unique values and read whole lists. Every read is a prefix of the key's
version order, so the longest read gives the order of the values it contains:

- ww: the writer of each element precedes the writer of the next;
- wr: the writer of a read's last element precedes the reader;
- rw: a reader precedes the writer of the element after what it saw.

The work is split in parts: la_mops (micro-ops by kind, the registry of
appended values, input checks), la_reads (longest reads and the prefix check),
la_within (rules inside one transaction), la_records (anomaly records),
la_explain (the explainer). Python runs only for anomalous items and for
reads that are no prefix of their key's longest read.
"""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis.background import Background
from mvcc_check.analysis.columnar import _split
from mvcc_check.analysis.columnar.la_explain import Late, ListAppendExplainer
from mvcc_check.analysis.columnar.la_mops import Mops, input_error, split_mops
from mvcc_check.analysis.columnar.la_observed import (
    bad_read_apps,
    last_known_apps,
    last_known_node,
    proven_committed,
)
from mvcc_check.analysis.columnar.la_reads import Orders, Reads, committed_reads, version_orders
from mvcc_check.analysis.columnar.la_records import (
    Exact,
    dirty_updates,
    incompatible_orders,
    lost_updates,
    read_events,
)
from mvcc_check.analysis.columnar.la_within import Within, within_txn
from mvcc_check.analysis.complete.choices import LazyOpenWrites
from mvcc_check.analysis.graph import RW, WR, WW, EdgeBuilder
from mvcc_check.analysis.inference import Anomaly, Inference
from mvcc_check.history.columns import FAIL
from mvcc_check.history.pairing import TxnColumns


def infer(tc: TxnColumns) -> Inference:
    """Edges, non-cycle anomalies and an explainer for a list-append history;
    HistoryError (the first problem, in the per-op pass's order) on malformed input."""
    m = split_mops(tc)
    reads = Background(committed_reads, m)  # (C, beside the registry's numpy)
    err, reg = input_error(m)
    if err is not None:
        reads.wait()  # (the first problem is the input's, whatever the reads' pass met)
        raise err
    rd = reads.result()
    assert reg is not None
    o = version_orders(m, rd, reg)
    within = Background(within_txn, m, rd, o)  # (C, beside what does not need it)
    ex = Exact(tc)
    incompatible, dirty = incompatible_orders(m, rd, o, ex), dirty_updates(m, rd, o, ex)
    owner, bad_apps = bad_read_apps(m, rd, reg)
    committed = proven_committed(m, o, bad_apps)
    late = unread(m, o, committed)
    edges = EdgeBuilder()
    _edges_from_orders(o, late, edges)
    explainer = ListAppendExplainer(tc, m, rd, o, reg, late, (owner, bad_apps))
    w = within.result()
    anomalies: dict[str, list[Anomaly]] = {}
    for _, _, _, _, kind, record in read_events(m, rd, o, w, reg, ex):
        anomalies.setdefault(kind, []).append(record)
    for kind, records in (
        ("incompatible-order", incompatible),
        ("dirty-update", dirty),
        ("lost-update", lost_updates(m, rd, o, w, ex)),
    ):
        if records:
            anomalies.setdefault(kind, []).extend(records)
    _edges_from_reads(m, rd, o, w, late, (owner, bad_apps), edges)
    none = np.zeros(0, np.int64)
    open_ = LazyOpenWrites(late.key, late.txn, none, none, none)  # unread: no reader, open order
    return Inference(edges, anomalies, explainer, open_writes=open_)


def unread(m: Mops, o: Orders, committed: np.ndarray) -> Late:
    """Committed appends (of ok txns, and of info txns a read proved committed:
    `committed`, per txn) that no longest read shows, by key (in append order).
    Lists only grow, so they come after every value read."""
    seen = np.zeros(len(m.a_txn), bool)
    seen[o.f_app[o.f_app >= 0]] = True
    late = np.flatnonzero(committed[m.a_txn] & ~seen)
    late = late[np.argsort(m.a_key[late], kind="stable")]
    return Late(m.a_key[late], m.a_txn[late].astype(np.int64), late, seen)


def _edges_from_orders(o: Orders, late: Late, edges: EdgeBuilder) -> None:
    """ww: each element's writer precedes the next one's; the last one's precedes unread appends."""
    node = o.f_node
    if len(node) > 1:
        a, b = node[:-1], node[1:]
        keep = (o.f_j[1:] > 0) & (a >= 0) & (b >= 0)
        edges.add_arrays(a[keep], b[keep], WW)
    k = late.key
    has = o.length[k] > 0
    last = np.full(len(k), -1, np.int64)
    last[has] = node[o.off[k[has]] + o.length[k[has]] - 1]
    keep = last >= 0
    edges.add_arrays(last[keep], late.txn[keep], WW)


def _edges_from_reads(
    m: Mops,
    rd: Reads,
    o: Orders,
    w: Within,
    late: Late,
    bad: tuple[np.ndarray, np.ndarray],
    edges: EdgeBuilder,
) -> None:
    """wr and rw edges of the external reads (reads of committed state). The wr
    edge comes from the writer of the read's last element that some txn
    appended (a garbage element after it names no writer); `bad` holds the
    elements' appends of the reads that are no prefix (la_observed.bad_read_apps)."""
    per_key = np.bincount(late.key, minlength=len(o.off))  # late is by key: its spans
    late_hi = np.cumsum(per_key)
    late_lo = late_hi - per_key
    ins = (
        np.ascontiguousarray(rd.txn, np.int32),
        np.ascontiguousarray(rd.key, np.int32),
        np.ascontiguousarray(rd.n, np.int64),
        w.ext.view(np.uint8),
        rd.bad.view(np.uint8),
        np.ascontiguousarray(o.off, np.int64),
        np.ascontiguousarray(o.length, np.int64),
        np.ascontiguousarray(last_known_node(o), np.int64),
        np.ascontiguousarray(o.f_node, np.int64),
        np.ascontiguousarray(late_lo, np.int64),
        np.ascontiguousarray(late_hi, np.int64),
        np.ascontiguousarray(late.txn, np.int64),
    )
    n_wr, n_rw = _split.read_edges(*ins, None, None, None, None)  # (bounds: counts first)
    out = [np.empty(n_wr, np.int64), np.empty(n_wr, np.int64)]
    out += [np.empty(n_rw, np.int64), np.empty(n_rw, np.int64)]
    n_wr, n_rw = _split.read_edges(*ins, *out)  # in C: one pass, no temporaries
    for column, count in zip(out, (n_wr, n_wr, n_rw, n_rw), strict=True):
        column.resize(count, refcheck=False)
    edges.add_arrays(out[0], out[1], WR)
    edges.add_arrays(out[2], out[3], RW)
    # Reads that are no prefix of the longest: the writer of their last element.
    odd = np.flatnonzero(w.ext & rd.bad & (rd.n > 0))
    if len(odd):
        app = last_known_apps(*bad, odd)
        hit = app >= 0
        src = m.a_txn[app[hit]].astype(np.int64)
        dst = rd.txn[odd[hit]].astype(np.int64)
        keep = m.tc.status[src] != FAIL
        edges.add_arrays(src[keep], dst[keep], WR)
