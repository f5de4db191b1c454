"""List-append over columns, part 3: rules within one transaction.

A transaction that touches a key more than once (read-modify-write is the
common case) can read its own appends: internal reads, future reads,
intermediate appends, lost-update candidates. Micro-ops are grouped by
(transaction, key) with one sort; only groups of two or more are looked at,
vectorised over all of them. Groups holding a read that is no prefix of its
key's longest read (rare: keys whose reads disagree) are judged one by one
(`odd_group_events`) on the values as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.la_mops import NEVER, Mops
from mvcc_check.analysis.columnar.la_reads import Orders, Reads

FUTURE, INTERNAL = 1, 2
PACK_BITS = 63  # (txn, key, pos, id) packed in one int64 to sort when they fit  # ranks of a read's anomalies (see list_append._DUP etc.)


@dataclass
class Within:
    """What the groups of one transaction's micro-ops on one key give."""

    ext: np.ndarray  # per read: a read of committed state (no own append to the key before)
    lost_candidate: np.ndarray  # per read: the first read of a key the txn then appends to
    intermediate: np.ndarray  # per append: the same txn appended to the key again later
    future: np.ndarray  # read ids with a future read
    future_pos: np.ndarray  # the element's position in the key's longest read
    odd_groups: list[
        tuple[np.ndarray, np.ndarray]
    ]  # (append ids, read ids) of groups to judge singly


def _groups(m: Mops, rd: Reads) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The micro-ops (appends of every txn and committed reads) that share their
    (txn, key) with another, sorted by (txn, key, pos): (ids, is_read, group start flags).
    An id is an append index, or a read id for reads."""
    a_sel = np.flatnonzero(m.a_multi)
    r_sel = np.flatnonzero(m.r_multi[rd.src])
    txn = np.concatenate([m.a_txn[a_sel], rd.txn[r_sel]]).astype(np.int64)
    key = np.concatenate([m.a_key[a_sel], rd.key[r_sel]]).astype(np.int64)
    pos = np.concatenate([m.a_pos[a_sel], rd.pos[r_sel]]).astype(np.int64)
    na = len(a_sel)
    nkeys = max(len(m.cols.keys), 1)
    pbits = max(int(pos.max()).bit_length(), 1) if len(pos) else 1
    ibits = max(len(txn).bit_length(), 1)
    if (max(m.tc.n, 1) * nkeys).bit_length() + pbits + ibits <= PACK_BITS:
        s = np.sort((((txn * nkeys + key) << pbits | pos) << ibits) | np.arange(len(txn)))
        order = s & ((1 << ibits) - 1)
        tk = s >> (pbits + ibits)
    else:
        order = np.lexsort((pos, key, txn))
        tk = txn[order] * nkeys + key[order]
    same = tk[1:] == tk[:-1]
    multi = np.zeros(len(order), bool)
    multi[1:] = same
    multi[:-1] |= same
    sel = np.flatnonzero(multi)
    start = np.ones(len(sel), bool)
    start[1:] = ~same[sel[1:] - 1]
    ids = order[sel]
    is_read = ids >= na
    out = np.empty(len(ids), np.int64)
    out[is_read] = r_sel[ids[is_read] - na]
    out[~is_read] = a_sel[ids[~is_read]]
    return out, is_read, start


def within_txn(m: Mops, rd: Reads, o: Orders) -> Within:
    ids, is_read, start = _groups(m, rd)
    nr = len(rd.n)
    ext = np.ones(nr, bool)
    lost = np.zeros(nr, bool)
    inter = np.zeros(len(m.a_txn), bool)
    s = len(ids)
    gid = np.cumsum(start) - 1
    gstart = np.flatnonzero(start)[gid]  # index (in the groups' order) of the group's first
    idx = np.arange(s, dtype=np.int64)
    # Appends: intermediate if the next append of the group follows in the same group.
    apps = np.flatnonzero(~is_read)
    later = np.zeros(len(apps), bool)
    later[:-1] = gid[apps[1:]] == gid[apps[:-1]]
    inter[ids[apps[later]]] = True
    # Reads: external if no append of the group comes before.
    ngroups = int(gid[-1]) + 1 if s else 0
    first_app = np.full(ngroups, NEVER, np.int64)
    np.minimum.at(first_app, gid[apps], apps)
    reads = np.flatnonzero(is_read)
    rid = ids[reads]
    ext[rid] = reads < first_app[gid[reads]]
    first_read = np.full(ngroups, NEVER, np.int64)
    np.minimum.at(first_read, gid[reads], reads)
    lost[rid] = (reads == first_read[gid[reads]]) & (first_app[gid[reads]] < NEVER) & ext[rid]
    # Groups with a read that is no prefix of the longest, or with an internal
    # read (its record needs the values as written), are judged one by one.
    odd = np.zeros(ngroups, bool)
    odd[gid[reads[rd.bad[rid]]]] = True
    internal = _internal(m, rd, o, ids, is_read, gid, gstart, idx, ~odd[gid])
    odd[gid[np.isin(ids, internal) & is_read]] = True
    fut, fut_pos = _future(m, rd, o, ids, is_read, gid, ~odd[gid])
    odd_groups = []
    odd_gid = np.flatnonzero(odd)
    if len(odd_gid):
        bounds = np.searchsorted(gid, np.stack([odd_gid, odd_gid + 1]))
        for a, b in zip(bounds[0].tolist(), bounds[1].tolist(), strict=True):
            odd_groups.append((ids[a:b][~is_read[a:b]], ids[a:b][is_read[a:b]]))
    return Within(ext, lost, inter, fut, fut_pos, odd_groups)


def _future(
    m: Mops, rd: Reads, o: Orders, ids: np.ndarray, is_read: np.ndarray, gid: np.ndarray,
    clean: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Reads showing an element the same txn appends later: for a prefix read of
    length n, an own later append whose value is at a position below n."""
    s = len(ids)
    if not s:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    fpos = np.full(len(m.a_txn), NEVER, np.int64)  # first position of each append in the longest
    known = np.flatnonzero(o.f_app >= 0)
    np.minimum.at(fpos, o.f_app[known], o.f_j[known])
    big = np.int64(1) << 32
    vals = np.full(s, big - 1, np.int64)
    apps = np.flatnonzero(~is_read)
    vals[apps] = np.minimum(fpos[ids[apps]], big - 1)
    rev = (vals + gid * big)[::-1]
    suffix = (np.minimum.accumulate(rev) - gid[::-1] * big)[::-1]  # min over self and later
    after = np.full(s, big - 1, np.int64)
    same = gid[1:] == gid[:-1]
    after[:-1][same] = suffix[1:][same]
    hit = np.flatnonzero(is_read & clean)
    rid = ids[hit]
    found = after[hit] < rd.n[rid]
    return rid[found], after[hit][found]


def _internal(
    m: Mops, rd: Reads, o: Orders, ids: np.ndarray, is_read: np.ndarray, gid: np.ndarray,
    gstart: np.ndarray, idx: np.ndarray, clean: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Reads that disagree with what the txn read and appended before on the key:
    after an earlier read p and m appends, the read must be p's value then those
    appends; after m appends and no read, it must end with them."""
    s = len(ids)
    if not s:
        return np.zeros(0, np.int64)
    last_read = np.maximum.accumulate(np.where(is_read, idx, -1))
    prev = np.full(s, -1, np.int64)  # the group's previous read, -1 if none
    prev[1:] = last_read[:-1]
    prev[prev < gstart] = -1
    nlen = np.zeros(s, np.int64)
    nlen[is_read] = rd.n[ids[is_read]]
    napp = np.where(prev >= 0, idx - prev - 1, idx - gstart)  # appends since the last read
    base = np.where(prev >= 0, nlen[np.maximum(prev, 0)], nlen - napp)  # where they must be
    reads = np.flatnonzero(is_read & clean & ((prev >= 0) | (napp > 0)))
    bad_len = np.where(prev[reads] >= 0, nlen[reads] != base[reads] + napp[reads], base[reads] < 0)
    wrong = np.zeros(s, bool)
    wrong[reads[bad_len]] = True
    # Each append against the position it must hold in the next read of its group.
    nxt = np.minimum.accumulate(np.where(is_read, idx, s)[::-1])[::-1]
    apps = np.flatnonzero(~is_read & clean)
    r = nxt[apps]
    ok = r < s
    apps, r = apps[ok], r[ok]
    ok = (gid[r] == gid[apps]) & ~wrong[r] & ((prev[r] >= 0) | (napp[r] > 0))
    apps, r = apps[ok], r[ok]
    t = apps - np.where(prev[r] >= 0, prev[r] + 1, gstart[r])
    at = base[r] + t
    key = m.a_key[ids[apps]]
    holder = o.f_app[o.off[key] + at]
    wrong[r[holder != ids[apps]]] = True
    return ids[np.flatnonzero(wrong)]


def odd_group_events(
    reads: list[tuple[int, int, list]], appends: list[tuple[int, Any]]
) -> list[tuple[int, int, dict[str, Any]]]:
    """Future and internal reads of one (txn, key) group, as the per-txn pass
    judged them: reads (read id, pos, value) and appends (pos, value), values as
    written. Returns (read id, rank, partial record) in the groups' order."""
    own = {v: i for i, v in appends}
    events: list[tuple[int, int, dict[str, Any]]] = []
    steps = sorted(
        [(i, 1, v, -1) for i, v in appends] + [(i, 0, v, r) for r, i, v in reads],
        key=lambda step: step[0],
    )
    known: list | None = None
    suffix: list = []
    for i, is_app, v, r in steps:
        if is_app:
            (known if known is not None else suffix).append(v)
            continue
        for e in v:
            j = own.get(e)
            if j is not None and j > i:
                events.append((r, FUTURE, {"element": e}))
                break
        if known is not None:
            if v != known:
                events.append((r, INTERNAL, {"expected": list(known)}))
        elif suffix:
            if len(v) < len(suffix) or v[len(v) - len(suffix) :] != suffix:
                events.append((r, INTERNAL, {"expected": ["...", *suffix]}))
            suffix = []
        known = list(v)
    return events
