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
    app: np.ndarray  # the appends themselves (Mops.a_* indices)
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
        self._read_tables(m, rd)  # (now: Mops and Reads are freed after the inference)
        self.o = o
        self.reg = reg
        self.late = late
        self._txns: dict[int, tuple[int, list[int], list[int], list[int], list[int]]] = {}
        self._ws: dict[int, list[int]] = {}
        self._late: dict[int, set[int]] = {}
        self._ext: dict[int, list[tuple[int, int]]] = {}

    def _read_tables(self, m: Mops, rd: Reads) -> None:
        """Per committed read, for explaining many rw steps at once (`explain_rw_steps`):
        its key, length, flags (1: no prefix of the key's longest read; 2: after its
        txn's own append to the key) and group (the position of its txn's first read
        of the key that is not after such an append: `_external_reads`' order)."""
        self.rd_key = rd.key.astype(np.int32, copy=False)
        self.rd_n = rd.n.astype(np.int32 if len(rd.n) == 0 or rd.n.max() < 1 << 31 else np.int64)
        flags = rd.bad.astype(np.uint8)
        group = rd.pos.astype(np.int32)
        shared = np.flatnonzero(m.r_multi[rd.src])  # another micro-op may touch the key
        if len(shared):
            nk = max(len(self.cols.keys), 1)
            code = rd.txn[shared].astype(np.int64) * nk + rd.key[shared]
            apps = np.flatnonzero(m.a_multi)
            by = np.argsort(m.a_txn[apps].astype(np.int64) * nk + m.a_key[apps], kind="stable")
            apps = apps[by]  # by (txn, key), in history order within: the first is the earliest
            a_code = m.a_txn[apps].astype(np.int64) * nk + m.a_key[apps]
            at = np.minimum(np.searchsorted(a_code, code), max(len(a_code) - 1, 0))
            if len(a_code):
                own = (a_code[at] == code) & (m.a_pos[apps[at]] < rd.pos[shared])
                flags[shared[own]] |= 2
            ext = shared[(flags[shared] & 2) == 0]
            e_code = rd.txn[ext].astype(np.int64) * nk + rd.key[ext]
            firsts, where = np.unique(e_code, return_index=True)  # (reads: by txn, then pos)
            group[ext] = rd.pos[ext[where]][np.searchsorted(firsts, e_code)]
        self.rd_flags, self.rd_group = flags, group

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
        return self.cols.quoted_mop(int(self.tc.mop_row[t]), i)

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

    def explain_rw_steps(self, steps: list[tuple[int, int]]) -> dict[tuple[int, int], dict]:
        """rw explanations of many steps a -> b at once: `_rw`'s loop over a's reads,
        vectorised (steps no read decides are left out, for `explain` to refuse one by
        one). The same records as `explain` gives."""
        if not steps:
            return {}
        # (a_of in rd_txn's own type: else searchsorted casts the whole of rd_txn, per block)
        a_of = np.array([a for a, _ in steps], self.rd_txn.dtype)
        b_of = np.array([b for _, b in steps], np.int64)
        lo = np.searchsorted(self.rd_txn, a_of, "left")
        counts = np.searchsorted(self.rd_txn, a_of, "right") - lo
        step = np.repeat(np.arange(len(steps)), counts)
        ends = np.cumsum(counts)
        r = np.arange(int(ends[-1])) - np.repeat(ends - counts - lo, counts)
        external = (self.rd_flags[r] & 2) == 0
        r, step = r[external], step[external]
        order = np.lexsort((self.rd_pos[r], self.rd_group[r], step))  # `_external_reads`' order
        r, step = r[order], step[order]
        o, flags, b_at = self.o, self.rd_flags[r], b_of[step]
        kid, n = self.rd_key[r], self.rd_n[r].astype(np.int64)
        length = np.where(o.longest[kid] >= 0, o.length[kid], 0)
        prefix = (flags & 1) == 0
        shorter = (n < length) & prefix
        at = np.where(shorter, o.off[kid] + n, 0)
        writer = o.f_writer[at] if len(o.f_writer) else np.full(len(at), -1, np.int64)
        hit = shorter & (writer == b_at)
        whole = (n == length) & prefix
        unread = np.full(len(r), -1, np.int64)  # b's first unseen append to the key, if late
        if whole.any():
            unread[whole] = self._unread_appends(kid[whole], b_at[whole])
        decides = hit | (unread >= 0)
        first = np.full(len(steps), len(r), np.int64)
        np.minimum.at(first, step[decides], np.flatnonzero(decides))
        ok = np.flatnonzero(first < len(r))
        c = first[ok]
        h = hit[c]
        e = o.start[kid[c[h]]] + n[c[h]]  # value': the element the read stopped short of
        tags, vals = np.zeros(len(c), np.int8), np.zeros(len(c), np.int64)
        tags[h], vals[h] = self.cols.el_tag[e], self.cols.el_value[e]
        b_app = unread[c]
        b_app[h] = o.f_app[at[c[h]]]
        b_mop = self.a_pos[b_app].tolist()
        tags, vals = tags.tolist(), vals.tolist()
        out: dict[tuple[int, int], dict] = {}
        value = self.cols.value
        for s_, i, n_, h, tag, v, bm in zip(
            ok.tolist(),
            self.rd_pos[r[c]].tolist(),
            n[c].tolist(),
            hit[c].tolist(),
            tags,
            vals,
            b_mop,
            strict=True,
        ):
            a, b = steps[s_]
            mop = self._mop(a, i)
            record = out[(a, b)] = {
                "type": "rw",
                "key": mop[1],
                "value": mop[2][-1] if n_ else None,
                "value'": value(tag, v) if h else self._mop(b, bm)[2],
                "a-mop-index": i,
                "b-mop-index": bm,
            }
            if not h:
                record["unread"] = True
        return out

    def _unread_appends(self, kids: np.ndarray, txns: np.ndarray) -> np.ndarray:
        """Per (key, txn): the txn's first append to the key that no read shows, if the
        txn made a committed one (`_is_late`, then `_unread_mop`), else -1."""
        tables = self.__dict__.get("_unread_tables")
        if tables is None:  # the late appends by (key, txn); the first of a code: the earliest
            t = max(self.tc.n, 1)
            a_code = self.late.key.astype(np.int64) * t + self.late.txn
            by = np.argsort(a_code, kind="stable")  # (late is by key, in append order within)
            tables = self.__dict__["_unread_tables"] = (t, a_code[by], self.late.app[by])
        t, a_code, apps = tables
        out = np.full(len(kids), -1, np.int64)
        if not len(a_code):
            return out
        code = kids.astype(np.int64) * t + txns
        at = np.minimum(np.searchsorted(a_code, code), len(a_code) - 1)
        found = a_code[at] == code
        out[found] = apps[at[found]]
        return out

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
