"""The multi-version store: version chains, transaction status, snapshots, locks, SSI, vacuum.

- Each key has a chain of `Version`s, oldest first. A version records the
  transaction that created it (`creator`) and the one that wrote the next
  version on top of it (`superseded_by`, like PostgreSQL's xmin/xmax).
- Each `Txn` carries its status (in progress, committed, aborted) and, once
  committed, its commit sequence number `cs`; the transaction objects are the
  status table, reached directly from the versions they created.
- A snapshot is a commit sequence number: it holds exactly the transactions
  committed when it was taken. A version is visible to snapshot `s` if its
  creator committed with `cs <= s` (in-progress and aborted transactions
  carry an infinite `cs`).
- Writes take an exclusive row lock held to the end of the transaction; a
  transaction that must wait gets `BLOCKED` and is parked until the holder
  finishes (the scheduler really parks it). A wait that would close a cycle
  in the waits-for graph aborts the requester (deadlock victim).
- Serializable snapshot isolation keeps SIREAD marks per key and, per
  transaction, the transactions it has rw-antidependencies with; a dangerous
  structure whose last transaction committed first is broken by an abort
  (see `_dangerous`).
- Vacuum drops versions no live snapshot can see: those older than the
  newest committed version that every live snapshot sees, and aborted ones.
  Writes prune the chain they touch (like PostgreSQL's page pruning), and
  `vacuum()` prunes every chain touched since the last one.

Values are tuples for list-append (an append makes `old + (v,)`) and plain
values for registers. The level (see `levels.py`) decides which version a
read sees and which checks a write makes; bug flags (see `bugs.py`) break
them on purpose.
"""

from __future__ import annotations

from typing import Any

from mvcc_check.engine.bugs import get_bug
from mvcc_check.engine.levels import (
    READ_LOCKING,
    READ_TXN,
    READ_UNCOMMITTED,
    Level,
    get_level,
)

ACTIVE = 0
COMMITTED = 1
ABORTED = 2
NEVER = 1 << 62  # the commit number of a transaction that has not committed

BLOCKED = object()  # returned by read/write when the transaction must wait for a lock


class Abort(Exception):  # noqa: N818 - it is an outcome, not an error
    """The engine aborted the transaction (the reason says why)."""

    def __init__(self, reason: str, woken: list[Txn] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.woken: list[Txn] = woken or []  # waiters released by the rollback


class Version:
    __slots__ = ("creator", "value", "superseded_by")

    def __init__(self, creator: Txn, value: Any) -> None:
        self.creator = creator
        self.value = value
        self.superseded_by: Txn | None = None

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Version(T{self.creator.id}, {self.value!r})"


class Txn:
    """One transaction's state. `snap` is its snapshot (-1 when it has none)."""

    __slots__ = (
        "id",
        "status",
        "cs",
        "snap",
        "read_snap",
        "writes",
        "xlocks",
        "slocks",
        "wait_key",
        "wait_x",
        "rw_in",
        "rw_out",
        "doomed",
        "sireads",
        "client",
    )

    def __init__(self, tid: int, snap: int, read_snap: int) -> None:
        self.id = tid
        self.status = ACTIVE
        self.cs = NEVER
        self.snap = snap
        self.read_snap = read_snap
        self.writes: dict[Any, Version] = {}
        self.xlocks: list[Any] = []
        self.slocks: list[Any] = []
        self.wait_key: Any = None
        self.wait_x = False
        self.rw_in: list[Txn] = []  # transactions with an rw-antidependency to this one
        self.rw_out: list[Txn] = []  # transactions this one has an rw-antidependency to
        self.doomed = False
        self.sireads: list[Any] = []
        self.client = -1

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Txn({self.id}, status={self.status}, cs={self.cs}, snap={self.snap})"


class Engine:
    """One multi-version store under one isolation level (and optional bugs).

    Operations: `begin()`, `read(t, k)`, `write(t, k, v)`, `commit(t)`,
    `abort(t)`. `read` and `write` return `BLOCKED` when `t` must wait for a
    lock (retry after one of the transactions returned by `commit`/`abort`
    as woken), and raise `Abort` when the engine aborts `t` (its state is
    rolled back already).
    """

    def __init__(
        self,
        level: Level | str,
        workload: str = "list-append",
        bugs: tuple[str, ...] | frozenset[str] = (),
        vacuum_every: int = 64,
    ) -> None:
        self.level = get_level(level) if isinstance(level, str) else level
        self.append = workload == "list-append"
        for b in bugs:
            get_bug(b)
        self.bugs = frozenset(bugs)
        lv = self.level
        self.read_mode = lv.read_mode
        self.fuw = lv.first_updater_wins and "skip-first-updater" not in self.bugs
        self.ssi = lv.ssi
        self.ssi_abort = lv.ssi and "skip-dangerous-structure" not in self.bugs
        self.two_pl = lv.two_phase_locking
        self.early_release = "early-lock-release" in self.bugs
        self.see_aborted = "read-aborted" in self.bugs
        self.dirty_read = "dirty-read" in self.bugs
        self.stale = "stale-snapshot" in self.bugs
        self.eager_vacuum = "eager-vacuum" in self.bugs
        self.holds_snapshot = lv.read_mode == READ_TXN

        self.chains: dict[Any, list[Version]] = {}
        self.xlock: dict[Any, Txn] = {}
        self.slock: dict[Any, list[Txn]] = {}
        self.waiters: dict[Any, list[Txn]] = {}
        self.siread: dict[Any, list[Txn]] = {}
        self.active: dict[int, Txn] = {}
        self.recent: list[Txn] = []  # committed SSI txns that may still be concurrent with someone
        self.cs = 0  # commits so far; the current snapshot
        self.next_id = 0
        self._horizon = 0
        self._horizon_stale = True
        self._dirty: set[Any] = set()
        self.vacuum_every = vacuum_every
        self._since_vacuum = 0
        # counters
        self.created = 0
        self.reclaimed = 0
        self.longest_chain = 0
        self.committed = 0
        self.aborted = 0
        self.deadlocks = 0
        self.serialization_failures = 0

    # ------------------------------------------------------------------ txns
    def begin(self) -> Txn:
        snap = self.cs if self.read_mode == READ_TXN else -1
        read_snap = snap
        if self.stale and snap >= 0:
            read_snap = max(0, snap - 2)
        t = Txn(self.next_id, snap, read_snap)
        self.next_id += 1
        self.active[t.id] = t
        if snap >= 0:
            self._horizon_stale = True
        return t

    def commit(self, t: Txn) -> list[Txn]:
        """Commit `t`; return the transactions woken by its released locks. May raise Abort."""
        if t.doomed:
            self._fail(t, "serialization failure (pivot of a dangerous structure)")
        if self.ssi_abort and (t.rw_in or t.rw_out):
            self._check_commit(t)
        self.cs += 1
        t.cs = self.cs
        t.status = COMMITTED
        self.committed += 1
        del self.active[t.id]
        if t.snap >= 0:
            self._horizon_stale = True
        if self.ssi:
            if t.sireads or t.rw_in or t.rw_out:
                self.recent.append(t)
            self._forget_old_sireads()
        woken = self._release(t)
        # Versions point at their creator; dropping the creator's map back to them
        # leaves no reference cycle, so pruned versions are freed at once (runs
        # keep the cyclic GC paused).
        t.writes = {}
        self._since_vacuum += 1
        if self._since_vacuum >= self.vacuum_every:
            self.vacuum()
        return woken

    def abort(self, t: Txn) -> list[Txn]:
        """Roll `t` back (its versions stay in the chains, marked aborted, until pruned)."""
        if t.status != ACTIVE:
            return []
        t.status = ABORTED
        self.aborted += 1
        del self.active[t.id]
        if t.snap >= 0:
            self._horizon_stale = True
        if t.sireads:
            for k in t.sireads:
                lst = self.siread.get(k)
                if lst is not None and t in lst:
                    lst.remove(t)
            t.sireads = []
        for k in t.writes:
            self._dirty.add(k)
        t.writes = {}
        t.rw_in = []  # others' lists may still name t: aborted, it is skipped there
        t.rw_out = []
        return self._release(t)

    def _fail(self, t: Txn, reason: str) -> None:
        if reason.startswith("serialization"):
            self.serialization_failures += 1
        woken = self.abort(t)
        raise Abort(reason, woken)

    # --------------------------------------------------------------- locks
    def _release(self, t: Txn) -> list[Txn]:
        woken: list[Txn] = []
        waiters = self.waiters
        xlock = self.xlock
        for k in t.xlocks:
            if xlock.get(k) is t:
                del xlock[k]
            w = waiters.pop(k, None)
            if w:
                woken.extend(w)
        t.xlocks = []
        if t.slocks:
            slock = self.slock
            for k in t.slocks:
                holders = slock.get(k)
                if holders is not None:
                    holders.remove(t)
                    if not holders:
                        del slock[k]
                w = waiters.pop(k, None)
                if w:
                    woken.extend(w)
            t.slocks = []
        for w in woken:
            w.wait_key = None
        return woken

    def _blockers(self, t: Txn, key: Any, exclusive: bool) -> list[Txn]:
        out: list[Txn] = []
        h = self.xlock.get(key)
        if h is not None and h is not t:
            out.append(h)
        if exclusive:
            for s in self.slock.get(key, ()):
                if s is not t:
                    out.append(s)
        return out

    def _wait(self, t: Txn, key: Any, exclusive: bool, blockers: list[Txn]) -> object:
        """Park `t` on `key`, unless waiting would deadlock (then abort it)."""
        # Depth-first search of the waits-for graph from the blockers back to t.
        seen: set[int] = set()
        stack = list(blockers)
        while stack:
            u = stack.pop()
            if u is t:
                self.deadlocks += 1
                t.wait_key = None
                self._fail(t, "deadlock detected")
            if u.id in seen or u.wait_key is None:
                continue
            seen.add(u.id)
            stack.extend(self._blockers(u, u.wait_key, u.wait_x))
        t.wait_key = key
        t.wait_x = exclusive
        self.waiters.setdefault(key, []).append(t)
        return BLOCKED

    # --------------------------------------------------------------- reads
    def read(self, t: Txn, key: Any) -> Any:
        """The value `t` sees for `key` (a tuple, a register value, or None), or BLOCKED."""
        if t.doomed:
            self._fail(t, "serialization failure (pivot of a dangerous structure)")
        t.wait_key = None
        own = t.writes.get(key)
        if own is not None:
            return own.value
        mode = self.read_mode
        if mode == READ_LOCKING:
            h = self.xlock.get(key)
            if h is not None and h is not t:
                return self._wait(t, key, False, [h])
            if not self.early_release:
                holders = self.slock.get(key)
                if holders is None:
                    self.slock[key] = [t]
                    t.slocks.append(key)
                elif t not in holders:
                    holders.append(t)
                    t.slocks.append(key)
        chain = self.chains.get(key)
        if not chain:
            if self.ssi:
                self._note_siread(t, key)
            return None
        if self.dirty_read or mode == READ_UNCOMMITTED:
            for i in range(len(chain) - 1, -1, -1):
                v = chain[i]
                if v.creator.status != ABORTED:
                    return v.value
            return None
        snap = t.read_snap if mode == READ_TXN else self.cs
        see_aborted = self.see_aborted
        for i in range(len(chain) - 1, -1, -1):
            c = chain[i].creator
            if c.cs <= snap or (see_aborted and c.status == ABORTED):
                if self.ssi:
                    self._note_siread(t, key)
                    self._rw_from_newer(t, chain, i)
                return chain[i].value
        if self.ssi:
            self._note_siread(t, key)
            self._rw_from_newer(t, chain, -1)
        return None

    def visible(self, t: Txn, key: Any) -> Version | None:
        """The version `t` would read now (no side effects; for tests and vacuum checks)."""
        own = t.writes.get(key)
        if own is not None:
            return own
        chain = self.chains.get(key, ())
        snap = t.read_snap if self.read_mode == READ_TXN else self.cs
        for v in reversed(chain):
            if self.read_mode == READ_UNCOMMITTED:
                if v.creator.status != ABORTED:
                    return v
            elif v.creator.cs <= snap:
                return v
        return None

    # -------------------------------------------------------------- writes
    def write(self, t: Txn, key: Any, value: Any) -> object | None:
        """Append `value` to `key` (list-append) or write it (register). None, or BLOCKED."""
        if t.doomed:
            self._fail(t, "serialization failure (pivot of a dangerous structure)")
        t.wait_key = None
        own = t.writes.get(key)
        if own is not None:
            own.value = own.value + (value,) if self.append else value
            return None
        xlock = self.xlock
        h = xlock.get(key)
        if h is not None and h is not t:
            return self._wait(t, key, True, self._blockers(t, key, True))
        if self.two_pl:
            sh = self.slock.get(key)
            if sh is not None and (len(sh) > 1 or sh[0] is not t):
                return self._wait(t, key, True, self._blockers(t, key, True))
        xlock[key] = t
        t.xlocks.append(key)
        chain = self.chains.get(key)
        if chain is None:
            chain = self.chains[key] = []
        elif chain:
            self._prune(key, chain)
        # The latest committed version (we hold the lock, so nothing newer is in progress).
        base = None
        for i in range(len(chain) - 1, -1, -1):
            if chain[i].creator.status == COMMITTED:
                base = chain[i]
                break
        if base is not None and self.fuw and base.creator.cs > t.snap:
            self._fail(t, "serialization failure (concurrent update)")
        if self.ssi:
            self._rw_to_writer(t, key)
        if self.append:
            v = Version(t, (value,) if base is None else base.value + (value,))
        else:
            v = Version(t, value)
        if base is not None:
            base.superseded_by = t
        chain.append(v)
        t.writes[key] = v
        self.created += 1
        n = len(chain)
        if n > self.longest_chain:
            self.longest_chain = n
        self._dirty.add(key)
        return None

    # ------------------------------------------------------------------ SSI
    def _note_siread(self, t: Txn, key: Any) -> None:
        lst = self.siread.get(key)
        if lst is None:
            self.siread[key] = [t]
            t.sireads.append(key)
        elif not lst or (lst[-1] is not t and t not in lst):
            lst.append(t)
            t.sireads.append(key)

    def _rw_from_newer(self, reader: Txn, chain: list[Version], seen_at: int) -> None:
        """Versions newer than the one `reader` sees: reader -rw-> each creator."""
        for j in range(seen_at + 1, len(chain)):
            c = chain[j].creator
            if c is not reader and c.status != ABORTED:
                self._rw_edge(reader, c, reader)

    def _rw_to_writer(self, writer: Txn, key: Any) -> None:
        """Earlier readers of `key` that do not see `writer`'s version: reader -rw-> writer."""
        lst = self.siread.get(key)
        if not lst:
            return
        for r in lst:
            if r is not writer and r.status != ABORTED and r.cs > writer.snap:
                self._rw_edge(r, writer, writer)

    def _rw_edge(self, r: Txn, w: Txn, current: Txn) -> None:
        """Record r -rw-> w, found while `current` (r or w) acts; check the structures it closes."""
        if not self.ssi_abort or w in r.rw_out:
            return
        r.rw_out.append(w)
        w.rw_in.append(r)
        for x in r.rw_in:  # x -> r -> w, r the pivot
            self._dangerous(x, r, w, current)
        for y in w.rw_out:  # r -> w -> y, w the pivot
            self._dangerous(r, w, y, current)

    def _check_commit(self, t: Txn) -> None:
        """Before `t` commits: is it the pivot or the first of a dangerous structure?"""
        for x in t.rw_in:
            for y in t.rw_out:
                self._dangerous(x, t, y, t)
        for p in t.rw_out:
            for y in list(p.rw_out):
                self._dangerous(t, p, y, t)

    def _dangerous(self, tin: Txn, pivot: Txn, tout: Txn, current: Txn) -> None:
        """tin -rw-> pivot -rw-> tout is dangerous if tout committed before the other two.

        Fekete et al. (2005): every cycle of a non-serializable snapshot-isolation
        execution has such a structure whose tout commits first in the cycle; Ports
        and Grittner (2012) use that commit order to spare structures that cannot
        close a cycle. Active transactions commit later than any committed one; tin
        and tout may be the same transaction (write skew). The pivot is aborted if it
        is still active (at once if it is the one acting, else at its next step);
        otherwise tin, which must then be active.
        """
        if tout.status != COMMITTED or ABORTED in (tin.status, pivot.status):
            return
        if not (tout.cs < pivot.cs and (tin is tout or tout.cs < tin.cs)):
            return
        victim = pivot if pivot.status == ACTIVE else tin
        assert victim.status == ACTIVE, "a dangerous structure among committed transactions"
        if victim is current:
            self._fail(current, "serialization failure (dangerous structure)")
        victim.doomed = True

    def _forget_old_sireads(self) -> None:
        """Drop SIREAD marks and rw lists of committed txns that no active transaction overlaps.

        No new rw-antidependency can involve them, and no active transaction has
        one with them, so no dangerous structure can need them (and the lists'
        references back and forth would otherwise outlive them: the GC is paused).
        """
        horizon = min((a.snap for a in self.active.values()), default=self.cs)
        recent = self.recent
        i = 0
        while i < len(recent) and recent[i].cs <= horizon:
            t = recent[i]
            for k in t.sireads:
                lst = self.siread.get(k)
                if lst is not None:
                    lst.remove(t)
                    if not lst:
                        del self.siread[k]
            t.sireads = []
            t.rw_in = []
            t.rw_out = []
            i += 1
        if i:
            del recent[:i]

    # --------------------------------------------------------------- vacuum
    def horizon(self) -> int:
        """The oldest snapshot any live transaction reads from (the current one if none)."""
        if self.eager_vacuum:
            return self.cs  # the bug: as if no snapshot were older than now
        if self._horizon_stale:
            h = self.cs
            for a in self.active.values():
                if 0 <= a.read_snap < h:
                    h = a.read_snap
            self._horizon = h
            self._horizon_stale = False
        return self._horizon if self.holds_snapshot else self.cs

    def _prune(self, key: Any, chain: list[Version]) -> None:
        h = self.horizon()
        # Newest committed version every live (and future) snapshot sees.
        keep_from = -1
        for i in range(len(chain) - 1, -1, -1):
            if chain[i].creator.cs <= h:
                keep_from = i
                break
        dead = 0
        if keep_from > 0:
            dead = keep_from
            del chain[:keep_from]
        # Aborted versions are visible to no one.
        if any(v.creator.status == ABORTED for v in chain):
            before = len(chain)
            chain[:] = [v for v in chain if v.creator.status != ABORTED]
            dead += before - len(chain)
        self.reclaimed += dead

    def vacuum(self) -> int:
        """Prune every chain written since the last vacuum (or left long by it); return versions reclaimed."""
        before = self.reclaimed
        chains = self.chains
        still: set[Any] = set()
        for k in self._dirty:
            chain = chains.get(k)
            if chain:
                self._prune(k, chain)
                if len(chain) > 1:  # kept for an old snapshot: look again next time
                    still.add(k)
        self._dirty = still
        self._since_vacuum = 0
        return self.reclaimed - before

    def stats(self) -> dict[str, int]:
        return {
            "committed": self.committed,
            "aborted": self.aborted,
            "deadlocks": self.deadlocks,
            "serialization_failures": self.serialization_failures,
            "versions_created": self.created,
            "versions_reclaimed": self.reclaimed,
            "versions_live": sum(len(c) for c in self.chains.values()),
            "longest_chain": self.longest_chain,
        }
