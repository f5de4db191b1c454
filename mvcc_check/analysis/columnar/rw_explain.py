"""Why one transaction precedes another in an rw-register history: the key and
versions behind an edge, recovered from the micro-op table on demand."""

from __future__ import annotations

from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.rw_table import MopTable
from mvcc_check.analysis.graph import RW, WR, WW
from mvcc_check.history.columns import OK, READ, WRITE
from mvcc_check.history.pairing import TxnColumns


class RegisterExplainer:
    """Recovers, for an edge, the key and versions that justify it.

    `reads` holds, for every external read in table order, the reader, its
    table row and the writer of the value read (-1: nil or unwritten).
    `fact_key` marks the keys with version facts beyond the initial state,
    and `usable` holds the facts of those whose versions are not cyclic
    (sorted packed pairs earlier * n_vids + later, nil's facts included;
    None without facts); a key with cyclic versions has none, and every other
    key's only facts are nil before each write."""

    def __init__(
        self,
        tc: TxnColumns,
        table: MopTable,
        reads: tuple[np.ndarray, np.ndarray, np.ndarray],
        fact_key: np.ndarray,
        usable: np.ndarray | None,
    ) -> None:
        self.tc = tc
        self.table = table
        self.reads = reads
        self.fact_key = fact_key
        self.usable = usable if usable is not None else np.zeros(0, np.int64)
        if len(self.usable):  # the keys that have usable facts
            self.usable_key = np.zeros(len(fact_key), bool)
            self.usable_key[table.key_of_vid(self.usable // table.n_vids)] = True
        else:
            self.usable_key = self.fact_key & False

    def _before(self, kid: int, v1: int, v2: int) -> bool:
        """Is v1 < v2 a usable version fact of key kid (v2 being a write)?"""
        if self.usable_key[kid]:
            packed = v1 * self.table.n_vids + v2
            i = int(np.searchsorted(self.usable, packed))
            return i < len(self.usable) and int(self.usable[i]) == packed
        if self.fact_key[kid]:
            return False
        return v1 == int(self.table.nil_vid[kid])

    def _value(self, x: int) -> Any:
        cols = self.tc.cols
        r = int(self.table.row[x])
        return cols.value(int(cols.mop_tag[r]), int(cols.mop_value[r]))

    def _rows(self, t: int) -> range:
        return range(int(self.table.start[t]), int(self.table.start[t + 1]))

    def _external_read(self, t: int, kid: int) -> int | None:
        """The table row of committed txn t's external read of kid, if it has one."""
        if self.tc.status[t] != OK:
            return None
        tab = self.table
        for x in self._rows(t):
            if tab.key[x] == kid:
                return x if tab.kind[x] == READ else None
        return None

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        tab = self.table
        if rel == WR:
            return self._explain_wr(a, b)
        # b's writes: each value is unique, so b is its registered writer.
        for j in self._rows(b):
            if tab.kind[j] != WRITE:
                continue
            kid, v2 = int(tab.key[j]), int(tab.vid[j])
            if rel == WW:
                for i in self._rows(a):
                    if (
                        tab.kind[i] == WRITE
                        and tab.key[i] == kid
                        and self._before(kid, int(tab.vid[i]), v2)
                    ):
                        return self._record("ww", kid, i, j, a, b)
            elif rel == RW:
                ext = self._external_read(a, kid)
                if ext is not None and self._before(kid, int(tab.vid[ext]), v2):
                    return self._record("rw", kid, ext, j, a, b)
        return None

    def _record(self, typ: str, kid: int, i: int, j: int, a: int, b: int) -> dict[str, Any]:
        start = self.table.start
        return {
            "type": typ,
            "key": self.tc.cols.keys[kid],
            "value": self._value(i),
            "value'": self._value(j),
            "a-mop-index": i - int(start[a]),
            "b-mop-index": j - int(start[b]),
        }

    def _explain_wr(self, a: int, b: int) -> dict[str, Any] | None:
        tids, rows, writers = self.reads
        tab = self.table
        key = np.int64(b)
        lo, hi = np.searchsorted(tids, key, "left"), np.searchsorted(tids, key, "right")
        for r in range(int(lo), int(hi)):
            if writers[r] == a:
                x = int(rows[r])
                vid = tab.vid[x]
                w = next(i for i in self._rows(a) if tab.kind[i] == WRITE and tab.vid[i] == vid)
                return {
                    "type": "wr",
                    "key": self.tc.cols.keys[int(tab.key[x])],
                    "value": self._value(x),
                    "a-mop-index": w - int(tab.start[a]),
                    "b-mop-index": x - int(tab.start[b]),
                }
        return None
