"""Why one transaction precedes another in an rw-register history: the key and
versions behind an edge, recovered on demand from the columns (the micro-op
table of the inference is not kept)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.rw_commit_order import CommitEvidence
from mvcc_check.analysis.columnar.rw_table import VersionCoder
from mvcc_check.analysis.graph import RW, WR, WW
from mvcc_check.history.columns import OK, READ, WRITE
from mvcc_check.history.pairing import TxnColumns
from mvcc_check.history.txn_order import TransactionOrder

_Mop = tuple[int, int, int]  # (kind, key id, vid)


class RegisterExplainer:
    """Recovers, for an edge, the key and versions that justify it.

    `reads` holds, for every external read in (txn, micro-op) order, the
    reader, the read's index among its micro-ops and the writer of the value
    read (-1: nil or unwritten). `fact_key` marks the keys with version facts
    beyond the initial state, and `usable` holds the facts of those whose
    versions are not cyclic (`usable_key`; sorted packed pairs earlier *
    n_vids + later, nil's facts included; None without facts); a key with
    cyclic versions has none, and every other key's only facts are nil before
    each write."""

    def __init__(
        self,
        tc: TxnColumns,
        coder: VersionCoder,
        reads: tuple[np.ndarray, np.ndarray, np.ndarray],
        fact_key: np.ndarray,
        usable: np.ndarray | None,
        usable_key: np.ndarray,
    ) -> None:
        self.tc = tc
        self.coder = coder
        self.reads = reads
        self.fact_key = fact_key
        self.usable = usable if usable is not None else np.zeros(0, np.int64)
        self.usable_key = usable_key
        self.commits: CommitEvidence | None = None  # the transaction order's facts, if given
        # The transaction order and each txn's rank in it (-1: not placed), if given.
        self.placed: tuple[TransactionOrder, np.ndarray] | None = None

    def forget(self) -> None:
        """(Nothing is cached per transaction.)"""

    def _mops(self, t: int) -> list[_Mop]:
        """Txn t's micro-ops, as (kind, key id, vid)."""
        cols = self.tc.cols
        r = int(self.tc.mop_row[t])
        lo, hi = int(cols.op_mop[r]), int(cols.op_mop[r + 1])
        vid = self.coder.vid
        return [
            (f, k, vid(k, g, v))
            for f, k, g, v in zip(
                cols.mop_kind[lo:hi].tolist(),
                cols.mop_key[lo:hi].tolist(),
                cols.mop_tag[lo:hi].tolist(),
                cols.mop_value[lo:hi].tolist(),
                strict=True,
            )
        ]

    def _before(self, kid: int, v1: int, v2: int) -> bool:
        """Is v1 < v2 a usable version fact of key kid (v2 being a write)?"""
        if self.usable_key[kid]:
            packed = v1 * self.coder.n_vids + v2
            i = int(np.searchsorted(self.usable, packed))
            return i < len(self.usable) and int(self.usable[i]) == packed
        if self.fact_key[kid]:
            return False
        return v1 == int(self.coder.nil_vid[kid])

    def _mop(self, t: int, i: int) -> list[Any]:
        """Txn t's micro-op i as the history wrote it (true, 1 and 1.0 are one
        value in the columns, but each is shown as written)."""
        return self.tc.cols.quoted_mop(int(self.tc.mop_row[t]), i)

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        if rel == WR:
            return self._explain_wr(a, b)
        mb = self._mops(b)
        ma = self._mops(a)
        # b's writes: each value is unique, so b is its registered writer.
        for j, (f, kid, v2) in enumerate(mb):
            if f != WRITE:
                continue
            if rel == WW:
                for i, (fa, ka, v1) in enumerate(ma):
                    if fa == WRITE and ka == kid and self._before(kid, v1, v2):
                        return self._why(self._record("ww", a, i, b, j), v1, v2)
            elif rel == RW:
                i = self._external_read(a, ma, kid)
                if i is not None and self._before(kid, ma[i][2], v2):
                    return self._why(self._record("rw", a, i, b, j), ma[i][2], v2)
        return None

    def _why(self, record: dict[str, Any], v1: int, v2: int) -> dict[str, Any]:
        """The record, with the two commits behind v1 < v2 when the transaction order gave it."""
        why = self.commits.why(v1, v2) if self.commits is not None else None
        if why is not None:
            record["transaction-order"] = why
        return record

    def _external_read(self, t: int, mops: list[_Mop], kid: int) -> int | None:
        """The index of committed txn t's external read of kid, if it has one."""
        if self.tc.status[t] != OK:
            return None
        for i, (f, k, _) in enumerate(mops):
            if k == kid:
                return i if f == READ else None
        return None

    def _record(self, typ: str, a: int, i: int, b: int, j: int) -> dict[str, Any]:
        _, k, v2 = self._mop(b, j)
        return {
            "type": typ,
            "key": k,
            "value": self._mop(a, i)[2],
            "value'": v2,
            "a-mop-index": i,
            "b-mop-index": j,
        }

    def committed_because(self, t: int) -> dict[str, Any] | None:
        tids, pos, writers = self.reads
        hits = np.flatnonzero(writers == t)
        if not len(hits):
            return self._placed(t)
        reader, i = int(tids[hits[0]]), int(pos[hits[0]])
        vid = self._mops(reader)[i][2]
        j = next(j for j, m in enumerate(self._mops(t)) if m[0] == WRITE and m[2] == vid)
        _, k, v = self._mop(t, j)
        return {
            "key": k,
            "value": v,
            "reader": self.tc.cols.op_json(self.tc.op_row(reader)),
            "mop-index": i,
        }

    def _placed(self, t: int) -> dict[str, Any] | None:
        """The transaction order's position of info txn t, if the order places it."""
        if self.placed is None or self.placed[1][t] < 0:
            return None
        order, _ = self.placed
        index = self.tc.cols.index_of(int(self.tc.complete_row[t]))
        position = order.position[order.index.index(index)]
        return {"transaction-order": {"source": order.source, "position": position}}

    def _explain_wr(self, a: int, b: int) -> dict[str, Any] | None:
        tids, pos, writers = self.reads
        key = tids.dtype.type(b)  # (a Python int would make numpy convert the whole array)
        lo, hi = np.searchsorted(tids, key, "left"), np.searchsorted(tids, key, "right")
        for r in range(int(lo), int(hi)):
            if writers[r] == a:
                i = int(pos[r])
                vid = self._mops(b)[i][2]
                w = next(j for j, m in enumerate(self._mops(a)) if m[0] == WRITE and m[2] == vid)
                _, k, v = self._mop(b, i)
                return {"type": "wr", "key": k, "value": v, "a-mop-index": w, "b-mop-index": i}
        return None
