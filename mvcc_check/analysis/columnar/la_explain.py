"""List-append over columns, part 5: why one transaction precedes another.

Called only for the edges of reported cycles, so plain Python over one or two
transactions' micro-ops, with the longest reads' positions from the flat
tables of la_reads. Values come from the ops when they are held in memory
(exactly as written), else from the columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.la_mops import Mops, Registry
from mvcc_check.analysis.columnar.la_reads import Orders, Reads
from mvcc_check.analysis.graph import RW, WR, WW
from mvcc_check.history.columns import APPEND, LIST, OK, READ
from mvcc_check.history.pairing import TxnColumns


@dataclass
class Late:
    """Committed appends no longest read shows, sorted by key (append order within)."""

    key: np.ndarray
    txn: np.ndarray
    seen: np.ndarray  # per append: its value is in its key's longest read

    def span(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(self.key, keys, "left"), np.searchsorted(self.key, keys, "right")

    def has(self, kid: int, t: int) -> bool:
        lo, hi = self.span(np.array([kid]))
        return bool((self.txn[int(lo[0]) : int(hi[0])] == t).any())


class ListAppendExplainer:
    """Recovers, for an edge, the key and values that justify it."""

    def __init__(
        self, tc: TxnColumns, m: Mops, rd: Reads, o: Orders, reg: Registry, late: Late
    ) -> None:
        self.tc = tc
        self.cols = tc.cols
        self.a_txn, self.a_pos = m.a_txn, m.a_pos
        self.rd_txn, self.rd_pos = rd.txn, rd.pos
        self.o = o
        self.reg = reg
        self.late = late
        self._orders: dict[int, list] = {}

    # -- values ---------------------------------------------------------------

    def _mops(self, t: int) -> tuple[int, list[int], list[int]]:
        """(first row, kinds, key ids) of txn t's micro-ops."""
        lo, hi = self.tc.mop_range(t)
        c = self.cols
        return lo, c.mop_kind[lo:hi].tolist(), c.mop_key[lo:hi].tolist()

    def _mop(self, t: int, i: int) -> list[Any]:
        """Micro-op i of txn t: as written when the ops are in memory."""
        c = self.cols
        if c.ops is not None:
            return c.ops[int(self.tc.mop_row[t])].value[i]
        return c.mop(self.tc.mop_range(t)[0] + i)

    def _read(self, t: int, i: int) -> list:
        v = self._mop(t, i)[2]
        return [] if v is None else v

    def _order(self, kid: int) -> list:
        """Key kid's longest read (empty if none)."""
        order = self._orders.get(kid)
        if order is None:
            r = int(self.o.longest[kid])
            order = [] if r < 0 else self._read(int(self.rd_txn[r]), int(self.rd_pos[r]))
            self._orders[kid] = order
        return order

    def _writers(self, kid: int) -> np.ndarray:
        lo = int(self.o.off[kid])
        return self.o.f_writer[lo : lo + int(self.o.length[kid])]

    def _app_pos(self, kid: int, j: int) -> int:
        """Index, within its txn, of the append that wrote position j of kid's longest read."""
        return int(self.a_pos[self.o.f_app[int(self.o.off[kid]) + j]])

    def _unread_mop(self, t: int, kid: int) -> int:
        """Index of the first append to kid by txn t that no read shows."""
        lo = int(np.searchsorted(self.a_txn, t, "left"))
        hi = int(np.searchsorted(self.a_txn, t, "right"))
        first_row = self.tc.mop_range(t)[0]
        for a in range(lo, hi):
            if self.cols.mop_key[first_row + int(self.a_pos[a])] == kid and not self.late.seen[a]:
                return int(self.a_pos[a])
        raise AssertionError(f"txn {t} has no unread append to key id {kid}")

    def _external_reads(self, t: int) -> list[tuple[int, int]]:
        """A committed txn's reads of committed state (not after its own append
        to the key), as (key id, mop index), grouped by key in first-read order."""
        if self.tc.status[t] != OK:
            return []
        _, kinds, kids = self._mops(t)
        appended: dict[int, int] = {}
        for i, (f, k) in enumerate(zip(kinds, kids, strict=True)):
            if f == APPEND and k not in appended:
                appended[k] = i
        by_key: dict[int, list[tuple[int, int]]] = {}
        for i, (f, k) in enumerate(zip(kinds, kids, strict=True)):
            if f == READ and (k not in appended or appended[k] > i):
                by_key.setdefault(k, []).append((k, i))
        return [r for rs in by_key.values() for r in rs]

    def _read_span(self, t: int, i: int) -> tuple[int, int]:
        """(first element row, length) of read i of txn t."""
        j = self.tc.mop_range(t)[0] + i
        c = self.cols
        if c.mop_tag[j] != LIST:
            return 0, 0
        lst = int(c.mop_value[j])
        lo = int(c.el_start[lst])
        return lo, int(c.el_start[lst + 1]) - lo

    def _is_prefix(self, kid: int, lo: int, n: int) -> bool:
        c = self.cols
        L = int(self.o.start[kid])
        return bool(
            (c.el_value[lo : lo + n] == c.el_value[L : L + n]).all()
            and (c.el_tag[lo : lo + n] == c.el_tag[L : L + n]).all()
        )

    def _last_writer(self, kid: int, lo: int, n: int) -> int:
        """Writer of the last element of a read of kid (any status), -1 if none."""
        if self.o.inconsistent[kid]:
            c = self.cols
            e = lo + n - 1
            app = self.reg.lookup(np.array([kid]), c.el_tag[e : e + 1], c.el_value[e : e + 1])[0]
            return int(self.a_txn[app]) if app >= 0 else -1
        return int(self._writers(kid)[n - 1])

    # -- explanations ---------------------------------------------------------

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        if rel == WW:
            return self._ww(a, b)
        if rel == WR:
            return self._wr(a, b)
        if rel == RW:
            return self._rw(a, b)
        return None

    def _ww(self, a: int, b: int) -> dict[str, Any] | None:
        _, kinds, kids = self._mops(b)
        firsts: dict[int, int] = {}
        for i, (f, k) in enumerate(zip(kinds, kids, strict=True)):
            if f == APPEND and k not in firsts:
                firsts[k] = i
        for kid, i in firsts.items():
            ws = self._writers(kid)
            key = self._mop(b, i)[1]
            hits = np.flatnonzero((ws[:-1] == a) & (ws[1:] == b))
            if len(hits):
                pos = int(hits[0]) + 1
                order = self._order(kid)
                return {
                    "type": "ww",
                    "key": key,
                    "value": order[pos - 1],
                    "value'": order[pos],
                    "a-mop-index": self._app_pos(kid, pos - 1),
                    "b-mop-index": self._app_pos(kid, pos),
                }
            if len(ws) and ws[-1] == a and self.late.has(kid, b):
                order = self._order(kid)
                j = self._unread_mop(b, kid)
                return {
                    "type": "ww",
                    "key": key,
                    "value": order[-1],
                    "value'": self._mop(b, j)[2],
                    "a-mop-index": self._app_pos(kid, len(ws) - 1),
                    "b-mop-index": j,
                    "unread": True,
                }
        return None

    def _wr(self, a: int, b: int) -> dict[str, Any] | None:
        for kid, i in self._external_reads(b):
            lo, n = self._read_span(b, i)
            if n and self._last_writer(kid, lo, n) == a:
                mop = self._mop(b, i)
                return {
                    "type": "wr",
                    "key": mop[1],
                    "value": mop[2][-1],
                    "a-mop-index": self._append_of(a, kid, lo + n - 1),
                    "b-mop-index": i,
                }
        return None

    def _append_of(self, t: int, kid: int, el: int) -> int:
        """Index of txn t's append of element row el's value to kid."""
        c = self.cols
        app = int(
            self.reg.lookup(np.array([kid]), c.el_tag[el : el + 1], c.el_value[el : el + 1])[0]
        )
        if app < 0 or int(self.a_txn[app]) != t:
            raise AssertionError(f"txn {t} has no such append to key id {kid}")
        return int(self.a_pos[app])

    def _rw(self, a: int, b: int) -> dict[str, Any] | None:
        for kid, i in self._external_reads(a):
            lo, n = self._read_span(a, i)
            length = int(self.o.length[kid]) if self.o.longest[kid] >= 0 else 0
            if n < length and self._is_prefix(kid, lo, n):
                if int(self._writers(kid)[n]) == b:
                    mop = self._mop(a, i)
                    return {
                        "type": "rw",
                        "key": mop[1],
                        "value": mop[2][-1] if n else None,
                        "value'": self._order(kid)[n],
                        "a-mop-index": i,
                        "b-mop-index": self._app_pos(kid, n),
                    }
            elif n == length and self._is_prefix(kid, lo, n) and self.late.has(kid, b):
                mop = self._mop(a, i)
                j = self._unread_mop(b, kid)
                return {
                    "type": "rw",
                    "key": mop[1],
                    "value": mop[2][-1] if n else None,
                    "value'": self._mop(b, j)[2],
                    "a-mop-index": i,
                    "b-mop-index": j,
                    "unread": True,
                }
        return None
