"""Predicate reads, inserts and deletes on the engine (the closed-predicate workload).

The keys are the rows of one table. A predicate read (`SELECT key, value WHERE
value % m = r`) scans every row the table has ever had, reading each as an item
read does at the level (snapshot, statement snapshot, or shared lock), and
returns the rows that exist and match. A delete writes a tombstone version.

Predicates are protected the way the databases this engine imitates do it,
coarsely, at the table:

- serializable (SSI): the read leaves a SIREAD mark on the table itself (as
  PostgreSQL's relation-level predicate lock for a sequential scan), so a later
  write of any row by a concurrent transaction, an insert included, is an
  rw-antidependency from the reader;
- serializable-2pl: the read takes a shared lock on the table, and every write
  an intention-exclusive one (S and IX conflict, IX and IX do not), so no row
  can appear in, leave or change in a predicate read until the reader finishes.

The `skip-predicate-locks` (2PL) and `skip-predicate-siread` (SSI) bugs drop them:
the read locks or marks only the rows it finds, so a row inserted afterwards is a
phantom nothing notices.
"""

from __future__ import annotations

from typing import Any

from mvcc_check.engine.store import BLOCKED, Engine, Txn
from mvcc_check.history.ops import CLOSED_PREDICATE
from mvcc_check.history.predicates import matches, parse_predicate

TABLE = ("<the table>",)  # the lock and SIREAD key that stands for every row, present or future
TOMBSTONE = ("<deleted>",)  # the version a delete installs


class PredicateEngine(Engine):
    """An Engine whose keys are rows, with predicate reads and table-level protection."""

    def __init__(self, level: Any, bugs: tuple[str, ...] = (), vacuum_every: int = 64) -> None:
        super().__init__(level, workload=CLOSED_PREDICATE, bugs=bugs, vacuum_every=vacuum_every)
        self.predicate_locks = "skip-predicate-locks" not in self.bugs
        self.predicate_siread = "skip-predicate-siread" not in self.bugs
        self.ix: list[Txn] = []  # intention-exclusive holders of TABLE (2PL writers)

    def load(self, rows: dict[Any, Any]) -> None:
        """Install the init op's rows, committed before anything else runs."""
        t = self.begin()
        for k, v in rows.items():
            self.write(t, k, v)
        self.commit(t)

    def read(self, t: Txn, key: Any) -> Any:
        r = super().read(t, key)
        return None if r is TOMBSTONE else r

    def delete(self, t: Txn, key: Any) -> object | None:
        return self.write(t, key, TOMBSTONE)

    def read_predicate(self, t: Txn, pred: Any) -> Any:
        """{key as a string: value} of the rows matching `pred` that `t` sees, or BLOCKED."""
        p = parse_predicate(tuple(pred) if isinstance(pred, list) else pred)
        if self.two_pl and self.predicate_locks and t not in self.slock.get(TABLE, ()):
            others = [x for x in self.ix if x is not t]
            if others:
                return self._wait(t, TABLE, False, others)
            self.slock.setdefault(TABLE, []).append(t)
            t.slocks.append(TABLE)
        elif self.ssi and self.predicate_siread:
            self._note_siread(t, TABLE)
        out: dict[str, Any] = {}
        for k in sorted(k for k in self.chains if k is not TABLE):
            v = self.read(t, k)
            if v is BLOCKED:
                return BLOCKED
            if v is not None and matches(p, v):
                out[str(k)] = v
        return out

    def write(self, t: Txn, key: Any, value: Any) -> object | None:
        if self.two_pl and t not in self.ix:
            readers = [x for x in self.slock.get(TABLE, ()) if x is not t]
            if readers:
                return self._wait(t, TABLE, True, readers)
            self.ix.append(t)
        if self.ssi and t.status == 0 and key not in t.writes:
            self._rw_to_writer(t, TABLE)
        return super().write(t, key, value)

    def _blockers(self, t: Txn, key: Any, exclusive: bool) -> list[Txn]:
        if key is not TABLE:
            return super()._blockers(t, key, exclusive)
        holders = self.slock.get(TABLE, ()) if exclusive else self.ix
        return [x for x in holders if x is not t]

    def _release(self, t: Txn) -> list[Txn]:
        woken = super()._release(t)
        if t in self.ix:
            self.ix.remove(t)
            w = self.waiters.pop(TABLE, None)
            if w:
                for x in w:
                    x.wait_key = None
                woken.extend(w)
        return woken
