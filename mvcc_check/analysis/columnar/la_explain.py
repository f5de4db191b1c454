"""List-append over columns, part 5: why one transaction precedes another.

Called only for the edges of reported cycles, so plain Python over one or two
transactions' micro-ops, with the longest reads' positions from the flat
tables of la_reads. Quoted micro-ops come from their ops, exactly as written
(held in memory, or re-read from the file); longest reads from the columns.
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
        keys = keys.astype(self.key.dtype, copy=False)  # else searchsorted casts the whole array
        return np.searchsorted(self.key, keys, "left"), np.searchsorted(self.key, keys, "right")

    def has(self, kid: int, t: int) -> bool:
        lo, hi = self.span(np.array([kid]))
        return bool((self.txn[int(lo[0]) : int(hi[0])] == t).any())


class ListAppendExplainer:
    """Recovers, for an edge, the key and values that justify it.

    The micro-ops of the txns asked about and the writers of each key's longest
    read are decoded once and cached (explanations come in cycles, which share
    txns and keys)."""

    def __init__(
        self,
        tc: TxnColumns,
        m: Mops,
        rd: Reads,
        o: Orders,
        reg: Registry,
        late: Late,
        bad: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """`bad`: (read id, append) of the elements of reads that are no prefix
        of their key's longest (la_observed.bad_read_apps)."""
        self.tc = tc
        self.bad = bad
        self.cols = tc.cols
        self.a_txn, self.a_pos = m.a_txn, m.a_pos
        self.rd_txn, self.rd_pos = rd.txn, rd.pos
        self.o = o
        self.reg = reg
        self.late = late
        self._txns: dict[int, tuple[int, list[int], list[int], list[int], list[int]]] = {}
        self._ws: dict[int, list[int]] = {}
        self._late: dict[int, set[int]] = {}
        self._ext: dict[int, list[tuple[int, int]]] = {}

    def forget(self) -> None:
        """Drop everything decoded (cheap to decode again, and a big history's keys
        decoded whole would hold gigabytes until the search ends)."""
        for cache in (self._txns, self._ext, self._ws, self._late):
            cache.clear()

    # -- values ---------------------------------------------------------------

    def _view(self, t: int) -> tuple[int, list[int], list[int], list[int], list[int]]:
        """(first row, kinds, key ids, tags, values) of txn t's micro-ops."""
        view = self._txns.get(t)
        if view is None:
            c = self.cols
            r = int(self.tc.mop_row[t])
            lo, hi = int(c.op_mop[r]), int(c.op_mop[r + 1])
            view = (
                lo,
                c.mop_kind[lo:hi].tolist(),
                c.mop_key[lo:hi].tolist(),
                c.mop_tag[lo:hi].tolist(),
                c.mop_value[lo:hi].tolist(),
            )
            self._txns[t] = view
        return view

    def _mop(self, t: int, i: int) -> list[Any]:
        """Micro-op i of txn t, as written: from the op in memory, or re-read (the cycle
        being explained has just quoted it, so it is at hand)."""
        return self.cols.op(int(self.tc.mop_row[t])).value[i]

    def _longest_at(self, kid: int, j: int) -> Any:
        """Element j (from the end when negative) of key kid's longest read, from the
        columns (one element: not worth re-reading the op that read it)."""
        e = int(self.o.start[kid]) + (j if j >= 0 else int(self.o.length[kid]) + j)
        c = self.cols
        return c.value(int(c.el_tag[e]), int(c.el_value[e]))

    def _writers(self, kid: int) -> list[int]:
        """The writer of each position of kid's longest read (-1: nobody)."""
        ws = self._ws.get(kid)
        if ws is None:
            lo = int(self.o.off[kid])
            ws = self._ws[kid] = self.o.f_writer[lo : lo + int(self.o.length[kid])].tolist()
        return ws

    def _is_late(self, kid: int, t: int) -> bool:
        """Whether t made a committed append to kid that no read shows."""
        late = self._late.get(kid)
        if late is None:
            lo, hi = self.late.span(np.array([kid]))
            late = self._late[kid] = set(self.late.txn[int(lo[0]) : int(hi[0])].tolist())
        return t in late

    def _app_pos(self, kid: int, j: int) -> int:
        """Index, within its txn, of the append that wrote position j of kid's longest read."""
        return int(self.a_pos[self.o.f_app[int(self.o.off[kid]) + j]])

    def _unread_mop(self, t: int, kid: int) -> int:
        """Index of the first append to kid by txn t that no read shows."""
        at = self.a_txn.dtype.type(t)  # the array's own type: no cast of the whole array
        lo, hi = int(self.a_txn.searchsorted(at, "left")), int(self.a_txn.searchsorted(at, "right"))
        kids = self._view(t)[2]
        for a in range(lo, hi):
            if kids[int(self.a_pos[a])] == kid and not self.late.seen[a]:
                return int(self.a_pos[a])
        raise AssertionError(f"txn {t} has no unread append to key id {kid}")

    def _external_reads(self, t: int) -> list[tuple[int, int]]:
        """A committed txn's reads of committed state (not after its own append
        to the key), as (key id, mop index), grouped by key in first-read order."""
        ext = self._ext.get(t)
        if ext is None:
            ext = self._ext[t] = self._find_external_reads(t)
        return ext

    def _find_external_reads(self, t: int) -> list[tuple[int, int]]:
        if self.tc.status[t] != OK:
            return []
        _, kinds, kids, _, _ = self._view(t)
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
        _, _, _, tags, vals = self._view(t)
        if tags[i] != LIST:
            return 0, 0
        lo, hi = self.cols.el_start[vals[i] : vals[i] + 2].tolist()
        return lo, hi - lo

    def _is_prefix(self, kid: int, lo: int, n: int) -> bool:
        """Whether the read at element rows lo:lo+n is a prefix of kid's longest."""
        if not self.o.inconsistent[kid]:
            return True  # every read of the key is
        c = self.cols
        L = int(self.o.start[kid])
        return bool(
            (c.el_value[lo : lo + n] == c.el_value[L : L + n]).all()
            and (c.el_tag[lo : lo + n] == c.el_tag[L : L + n]).all()
        )

    def _last_known(self, kid: int, lo: int, n: int) -> tuple[int, int]:
        """(position, writer of any status) of the last element of a read of kid
        that some txn appended (a garbage element names nobody); (-1, -1) if none."""
        if not self.o.inconsistent[kid]:
            ws = self._writers(kid)
            j = next((j for j in range(n - 1, -1, -1) if ws[j] >= 0), -1)
            return j, (ws[j] if j >= 0 else -1)
        for j in range(n - 1, -1, -1):
            app = self._lookup(kid, lo + j)
            if app >= 0:
                return j, int(self.a_txn[app])
        return -1, -1

    def _lookup(self, kid: int, el: int) -> int:
        """The append (Mops.a_* index) of the element at row el of a read of kid, -1 if none."""
        c = self.cols
        return int(
            self.reg.lookup(np.array([kid]), c.el_tag[el : el + 1], c.el_value[el : el + 1])[0]
        )

    # -- explanations ---------------------------------------------------------

    def committed_because(self, t: int) -> dict[str, Any] | None:
        """Why info txn t committed: a committed read that shows one of its appends
        (key, value, the reader and its micro-op index); None if none does."""
        at = self.a_txn.dtype.type(t)
        lo, hi = int(self.a_txn.searchsorted(at, "left")), int(self.a_txn.searchsorted(at, "right"))
        kids = self._view(t)[2]
        for a in range(lo, hi):
            if self.late.seen[a]:
                kid = kids[int(self.a_pos[a])]
                r = int(self.o.longest[kid])
                return self._shown_by(t, a, int(self.rd_txn[r]), int(self.rd_pos[r]))
        owner, apps = self.bad
        hits = np.flatnonzero((apps >= lo) & (apps < hi))
        if len(hits):
            r = int(owner[hits[0]])
            return self._shown_by(t, int(apps[hits[0]]), int(self.rd_txn[r]), int(self.rd_pos[r]))
        return None

    def _shown_by(self, t: int, a: int, reader: int, i: int) -> dict[str, Any]:
        """Txn t's append a was seen by micro-op i of txn reader."""
        _, k, v = self._mop(t, int(self.a_pos[a]))
        return {
            "key": k,
            "value": v,
            "reader": self.cols.op_json(self.tc.op_row(reader)),
            "mop-index": i,
        }

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        if rel == WW:
            return self._ww(a, b)
        if rel == WR:
            return self._wr(a, b)
        if rel == RW:
            return self._rw(a, b)
        return None

    def _ww(self, a: int, b: int) -> dict[str, Any] | None:
        _, kinds, kids, _, _ = self._view(b)
        firsts: dict[int, int] = {}
        for i, (f, k) in enumerate(zip(kinds, kids, strict=True)):
            if f == APPEND and k not in firsts:
                firsts[k] = i
        for kid, i in firsts.items():
            ws = self._writers(kid)
            pos = next((p for p in range(1, len(ws)) if ws[p] == b and ws[p - 1] == a), 0)
            if pos:
                return {
                    "type": "ww",
                    "key": self._mop(b, i)[1],
                    "value": self._longest_at(kid, pos - 1),
                    "value'": self._longest_at(kid, pos),
                    "a-mop-index": self._app_pos(kid, pos - 1),
                    "b-mop-index": self._app_pos(kid, pos),
                }
            if ws and ws[-1] == a and self._is_late(kid, b):
                j = self._unread_mop(b, kid)
                return {
                    "type": "ww",
                    "key": self._mop(b, i)[1],
                    "value": self._longest_at(kid, -1),
                    "value'": self._mop(b, j)[2],
                    "a-mop-index": self._app_pos(kid, len(ws) - 1),
                    "b-mop-index": j,
                    "unread": True,
                }
        return None

    def _wr(self, a: int, b: int) -> dict[str, Any] | None:
        for kid, i in self._external_reads(b):
            lo, n = self._read_span(b, i)
            j, writer = self._last_known(kid, lo, n)
            if j >= 0 and writer == a:
                mop = self._mop(b, i)
                return {
                    "type": "wr",
                    "key": mop[1],
                    "value": mop[2][j],
                    "a-mop-index": self._append_of(a, kid, lo, j),
                    "b-mop-index": i,
                }
        return None

    def _append_of(self, t: int, kid: int, lo: int, j: int) -> int:
        """Index of txn t's append of element j of the read at rows lo: of kid."""
        if not self.o.inconsistent[kid]:
            return self._app_pos(kid, j)  # the read is a prefix of the longest
        app = self._lookup(kid, lo + j)
        if app < 0 or int(self.a_txn[app]) != t:
            raise AssertionError(f"txn {t} has no such append to key id {kid}")
        return int(self.a_pos[app])

    def _rw(self, a: int, b: int) -> dict[str, Any] | None:
        for kid, i in self._external_reads(a):
            lo, n = self._read_span(a, i)
            length = int(self.o.length[kid]) if self.o.longest[kid] >= 0 else 0
            if n < length and self._is_prefix(kid, lo, n):
                if self._writers(kid)[n] == b:
                    mop = self._mop(a, i)
                    return {
                        "type": "rw",
                        "key": mop[1],
                        "value": mop[2][-1] if n else None,
                        "value'": self._longest_at(kid, n),
                        "a-mop-index": i,
                        "b-mop-index": self._app_pos(kid, n),
                    }
            elif n == length and self._is_prefix(kid, lo, n) and self._is_late(kid, b):
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
