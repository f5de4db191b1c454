"""List-append over columns, part 3: rules within one transaction.

A transaction that touches a key more than once (read-modify-write is the
common case) can read its own appends: internal reads, future reads,
intermediate appends, lost-update candidates. Micro-ops are grouped by
(transaction, key), in C, transaction by transaction (`_split.within`); only
groups of two or more are looked at. Groups holding a read that is no prefix
of its key's longest read (rare: keys whose reads disagree), or an internal
read, are judged one by one (`odd_group_events`) on the values as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mvcc_check.analysis.columnar import _split
from mvcc_check.analysis.columnar.la_mops import Mops
from mvcc_check.analysis.columnar.la_reads import Orders, Reads

FUTURE, INTERNAL = 1, 2  # ranks of a read's anomalies (see la_records)


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


def within_txn(m: Mops, rd: Reads, o: Orders) -> Within:
    """The groups' rules, in one C pass over each transaction's micro-ops
    (`_split.within`); the groups it finds odd are handed on whole."""
    nr, na = len(rd.n), len(m.a_txn)
    ext, lost, inter = np.ones(nr, bool), np.zeros(nr, bool), np.zeros(na, bool)
    fut, fut_pos = np.empty(nr, np.int64), np.empty(nr, np.int64)
    odd_id, odd_read, odd_start = (
        np.empty(na + nr, np.int64),
        np.empty(na + nr, bool),
        np.empty(na + nr, bool),
    )
    n_fut, n_odd = _split.within(
        *(np.ascontiguousarray(x, np.int32) for x in (m.a_txn, m.a_pos, m.a_key)),
        m.a_multi.view(np.uint8), m.r_multi.view(np.uint8), np.ascontiguousarray(rd.src, np.int64),
        *(np.ascontiguousarray(x, np.int32) for x in (rd.txn, rd.pos, rd.key)),
        np.ascontiguousarray(rd.n, np.int64), rd.bad.view(np.uint8),
        np.ascontiguousarray(o.f_app, np.int32), np.ascontiguousarray(o.f_j, np.int64),
        np.ascontiguousarray(o.off, np.int64),
        ext.view(np.uint8), lost.view(np.uint8), inter.view(np.uint8), fut, fut_pos,
        odd_id, odd_read.view(np.uint8), odd_start.view(np.uint8),
    )  # fmt: skip
    odd_groups = []
    if n_odd:
        ids, reads = odd_id[:n_odd], odd_read[:n_odd]
        bounds = [*np.flatnonzero(odd_start[:n_odd]).tolist(), n_odd]
        for a, b in zip(bounds, bounds[1:], strict=False):
            odd_groups.append((ids[a:b][~reads[a:b]], ids[a:b][reads[a:b]]))
    return Within(ext, lost, inter, fut[:n_fut].copy(), fut_pos[:n_fut].copy(), odd_groups)


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
