"""List-append over columns, part 6: what the committed reads observed.

Two facts follow from the elements a committed read returns, beyond the
version order itself:

- An element some transaction appended was observed: if that transaction is
  indeterminate (info), it committed (or the read saw an aborted write, which
  is worse: Kingsbury & Alvaro 2020, section 4.3), so all its appends count as
  a committed transaction's do; those no read shows are unread appends.
- An element no transaction appended to the key is a garbage read
  (Kingsbury & Alvaro 2020, section 6.1: "a read observes a value which was
  never written"). The elements around it still name their writers: a read
  of [1 999] still saw the append of 1 (wr). Edges that would need the
  garbage element's writer (ww to or from it, rw from a read that stops just
  before it) are not drawn: the order around a value from nowhere is not
  trusted.

Numpy over the longest reads' flat tables (la_reads.Orders); the reads that
are no prefix of their key's longest read (rare) are looked up element by
element, all at once.
"""

from __future__ import annotations

import numpy as np

from mvcc_check.analysis.columnar.la_mops import Mops, Registry
from mvcc_check.analysis.columnar.la_reads import Orders, Reads
from mvcc_check.history.columns import INFO, OK


def bad_read_apps(m: Mops, rd: Reads, reg: Registry) -> tuple[np.ndarray, np.ndarray]:
    """(owner, append) of every element of the reads that are no prefix of their
    key's longest read: owner is the read id, append the Mops.a_* index of the
    append that wrote the element (-1: nobody), elements in read order."""
    bad = np.flatnonzero(rd.bad)
    n = rd.n[bad]
    total = int(n.sum()) if len(n) else 0
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ends = np.cumsum(n)
    owner = np.repeat(bad, n)
    el = np.repeat(rd.start[bad] - (ends - n), n) + np.arange(total)
    apps = reg.lookup(rd.key[owner], m.cols.el_tag[el], m.cols.el_value[el])
    return owner, apps.astype(np.int64)


def proven_committed(m: Mops, o: Orders, bad_apps: np.ndarray) -> np.ndarray:
    """Per txn: ok, or info with an append some committed read shows (in its
    key's longest read, or in a read that is no prefix of it)."""
    status = m.tc.status
    out = status == OK
    shown = np.concatenate([o.f_app[o.f_app >= 0], bad_apps[bad_apps >= 0]])
    if len(shown):
        txn = m.a_txn[shown]
        out[txn[status[txn] == INFO]] = True
    return out


def last_known_node(o: Orders) -> np.ndarray:
    """Per flat position of the longest reads: the graph node (see Orders.f_node)
    of the last element at or before it that some txn appended, -1 if there is
    none on the key. With no unknown element it is f_node itself."""
    if not len(o.f_app) or (o.f_app >= 0).all():
        return o.f_node
    flat = np.arange(len(o.f_app), dtype=np.int64)
    at = np.maximum.accumulate(np.where(o.f_app >= 0, flat, -1))
    out = np.full(len(flat), -1, np.int64)
    ok = at >= o.off[o.f_key]  # (the last known element is on the same key)
    out[ok] = o.f_node[at[ok]]
    return out


def last_known_apps(owner: np.ndarray, apps: np.ndarray, reads: np.ndarray) -> np.ndarray:
    """For each read id in `reads` (among bad_read_apps's owners), the append of
    its last element that some txn appended, -1 if none is."""
    out = np.full(len(reads), -1, np.int64)
    known = np.flatnonzero(apps >= 0)
    if not len(known) or not len(reads):
        return out
    last = np.full(int(owner.max()) + 1, -1, np.int64)
    np.maximum.at(last, owner[known], known)  # the last known element of each read
    hit = reads <= int(owner.max())
    at = np.full(len(reads), -1, np.int64)
    at[hit] = last[reads[hit]]
    out[at >= 0] = apps[at[at >= 0]]
    return out
