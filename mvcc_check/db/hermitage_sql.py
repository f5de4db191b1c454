"""Hermitage on a SQL database: each session a connection in its own thread, so a
statement that waits for a lock is seen to block (it has not finished after
`block_s`), and the driver (db/hermitage.py) goes on with the other sessions.

Recording for the checker. Besides `value`, each row keeps `hist`, the list
of every value written to it, appended in the same statement. Reads return it,
so each scenario is also a list-append history (writes are appends, reads
return the whole list). A predicate write (`update ... where`, `delete ... where`)
appends to the rows it changed, learnt from RETURNING (or, on MariaDB, whose
UPDATE has no RETURNING, from the rows tagged with the step in column `w`); a
deleted row's list ends with a tombstone, -n for session n, which later reads of
the missing row return. Because which rows a predicate write touches is known
only once it ran, a scenario's ops are written to the history file when it ends
(in the order and with the times they happened), each invocation holding its
transaction's micro-ops as they turned out.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from mvcc_check.db.dialects import Session, open_session
from mvcc_check.db.hermitage_scenarios import INITIAL, Observation, Scenario, Step, step_mops
from mvcc_check.db.target import DbError, DbTarget
from mvcc_check.history.recorder import HistoryRecorder

TABLE = "mvcc_hermitage"

Value = list | Callable[[], list]


def _hist(raw: str | None) -> list[int]:
    return [int(x) for x in raw.split(",")] if raw else []


class SqlBackend:
    """A scenario's tables, recording and observer on one SQL target."""

    def __init__(
        self,
        target: DbTarget,
        level: str,
        scenario: Scenario,
        recorder: HistoryRecorder,
        lock_timeout_s: float,
    ) -> None:
        self.target = target
        self.level = level
        self.sc = scenario
        self.rec = recorder
        self.lock_timeout_s = lock_timeout_s
        self.obs = Observation()
        self.lock = threading.Lock()
        self.events: list[tuple[str, int, Value, int]] = []
        self.made: dict[int, list[list]] = {}  # id(step) -> appends a predicate write made
        self.gone: dict[int, list[int]] = {}  # deleted row -> its list, tombstone last
        self.shown: dict[int, str] = {}  # id(step) -> what it returned, for the transcript
        self.admin: Session | None = None

    # -- recording -----------------------------------------------------------------
    def record(self, type_: str, process: int, value: Value) -> None:
        with self.lock:
            self.events.append((type_, process, value, time.time_ns()))

    def _flush(self) -> None:
        for type_, process, value, t in self.events:
            self.rec.record(type_, process, value() if callable(value) else value, t)
        self.events.clear()

    def _plan(self, n: int) -> list[list]:
        """Session n's micro-ops as invoked: reads unknown, predicate writes as they ran."""
        mops: list[list] = []
        for st in self.sc.steps:
            if st.session == n:
                mops.extend(
                    self.made.get(id(st), [])
                    if st.action in ("update", "delete")
                    else step_mops(self.sc, st)
                )
        return mops

    def planned(self, n: int) -> Callable[[], list]:
        return lambda: self._plan(n)

    # -- the scenario's table, its sessions, its end ---------------------------------
    def prepare(self) -> None:
        self.admin = db = open_session(self.target, lock_timeout_s=self.lock_timeout_s)
        db.execute(f"DROP TABLE IF EXISTS {TABLE}")
        db.execute(f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, value INT, hist TEXT, w INT)")

    def load_initial(self) -> None:
        db = self.admin
        assert db is not None
        db.begin(db.observer_level)
        for k, v in INITIAL.items():
            db.execute(f"INSERT INTO {TABLE} (id, value, hist) VALUES (%s, %s, %s)", (k, v, str(v)))
        db.commit()

    def open(self, n: int) -> SqlSession:
        return SqlSession(n, open_session(self.target, lock_timeout_s=self.lock_timeout_s), self)

    def final(self, keys: tuple[int, ...]) -> tuple[dict, dict | None]:
        """The final state, read by an observer transaction."""
        db = self.admin
        assert db is not None
        db.begin(db.observer_level)
        rows = {r[0]: (r[1], r[2]) for r in db.execute(f"SELECT id, value, hist FROM {TABLE}")}
        db.commit()
        final = {k: _hist(rows[k][1]) if k in rows else self.absent(k) for k in keys}
        return final, {k: rows[k][0] if k in rows else None for k in keys}

    def close(self) -> None:
        if self.admin is not None:
            with contextlib.suppress(Exception):
                self.admin.execute(f"DROP TABLE IF EXISTS {TABLE}")
            self.admin.close()
        self._flush()

    def absent(self, key: int) -> list[int]:
        """What a read of a missing row returns: a deleted row's list, else []."""
        if key in self.gone:
            return list(self.gone[key])
        if key in INITIAL:
            raise DbError(f"{self.sc.name}: row {key} is missing, but no delete of it was seen")
        return []

    def show(self, step: Step, rows: str, verb: str = "") -> None:
        self.shown[id(step)] = f"  -> {verb}{rows or 'nothing'}"


class SqlSession:
    """One Hermitage session: a connection and the one thread that uses it."""

    unblocked = "  (unblocked)"
    drains_at_end = True  # a step still running at the end is waited for

    def __init__(self, n: int, session: Session, backend: SqlBackend) -> None:
        self.n = n
        self.db = session
        self.b = backend
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hermitage-T{n}")
        self.pending: Future | None = None
        self.pending_step: Step | None = None
        self.done = False  # committed, aborted or refused
        self.mops: list[list] = []

    def start(self, step: Step) -> None:
        self.pending, self.pending_step = self.pool.submit(self._do, step), step

    def settle(self, timeout: float) -> tuple[bool, BaseException | None]:
        """(whether the pending step finished within `timeout`, its error)."""
        assert self.pending is not None
        try:
            exc = self.pending.exception(timeout)
        except FutureTimeout:
            return False, None
        self.pending = None
        return True, exc

    def shown(self, step: Step) -> str:
        return self.b.shown.get(id(step), "")

    def classify(self, exc: BaseException) -> str | None:
        return self.db.classify(exc)

    def after_refusal(self) -> None:
        with contextlib.suppress(Exception):
            self.pool.submit(self.db.rollback).result(self.b.lock_timeout_s + 5)

    def rollback(self) -> None:
        """Roll back a transaction the scenario left open."""
        self.pool.submit(self.db.rollback).result(self.b.lock_timeout_s + 5)

    def stuck(self, scenario: str) -> str:
        return f"{scenario}: T{self.n} stays blocked on {self.pending_step.describe()}"

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.db.close()

    # -- SQL, in the session's thread -------------------------------------------------
    def _do(self, step: Step) -> None:
        db, a = self.db, step.action
        if a == "begin":
            db.begin(self.b.level)
        elif a == "commit":
            db.commit()
        elif a == "abort":
            db.rollback()
        elif a == "read":
            self._read(step)
        elif a == "scan":
            self._scan(step)
        elif a == "write":
            db.execute(
                f"UPDATE {TABLE} SET value = %s, hist = {db.hist_append('%s')} WHERE id = %s",
                (step.value, str(step.value), step.key),
            )
            self.mops.append(["append", step.key, step.value])
        elif a == "insert":
            db.execute(
                f"INSERT INTO {TABLE} (id, value, hist) VALUES (%s, %s, %s)",
                (step.key, step.value, str(step.value)),
            )
            self.mops.append(["append", step.key, step.value])
        elif a == "update":
            self._update(step)
        elif a == "delete":
            self._delete(step)

    def _read(self, step: Step) -> None:
        b = self.b
        rows = self.db.execute(f"SELECT value, hist FROM {TABLE} WHERE id = %s", (step.key,))
        b.obs.reads.setdefault(step.label, {})[step.key] = rows[0][0] if rows else None
        b.show(step, f"{step.key} => {rows[0][0]}" if rows else "")
        self.mops.append(["r", step.key, _hist(rows[0][1]) if rows else b.absent(step.key)])

    def _scan(self, step: Step) -> None:
        b, keys = self.b, self.b.sc.keys
        rows = {r[0]: (r[1], r[2]) for r in self.db.execute(f"SELECT id, value, hist FROM {TABLE}")}
        b.obs.reads[step.label] = {k: rows[k][0] if k in rows else None for k in keys}
        b.show(step, ", ".join(f"{k} => {v}" for k, (v, _) in sorted(rows.items())))
        for k in keys:
            self.mops.append(["r", k, _hist(rows[k][1]) if k in rows else b.absent(k)])

    @staticmethod
    def _where(step: Step) -> tuple[str, tuple]:
        if step.where is None:
            return "1 = 1", ()
        column, value = step.where
        return f"{column} = %s", (value,)

    def _update(self, step: Step) -> None:
        db, b = self.db, self.b
        new, p = ("value + %s", step.add) if step.add is not None else ("%s", step.value)
        where, wp = self._where(step)
        tag = b.sc.steps.index(step) + 1
        rows = db.execute(db.hermitage_update_sql(TABLE, new, where), (p, p, tag, *wp))
        if not db.update_returning:  # the rows this statement changed, by their tag
            rows = db.execute(f"SELECT id, value FROM {TABLE} WHERE w = %s", (tag,))
        made = [["append", int(k), int(v)] for k, v in sorted(rows)]
        b.made[id(step)] = made
        b.show(step, ", ".join(f"{m[1]} => {m[2]}" for m in made), "changed ")
        self.mops.extend(made)

    def _delete(self, step: Step) -> None:
        b = self.b
        where, wp = self._where(step)
        made = []
        for k, raw in sorted(self.db.execute(self.db.hermitage_delete_sql(TABLE, where), wp)):
            k = int(k)
            b.gone[k] = [*_hist(raw), -self.n]
            b.obs.deleted.setdefault(self.n, set()).add(k)
            made.append(["append", k, -self.n])
        b.made[id(step)] = made
        b.show(step, ", ".join(str(m[1]) for m in made), "deleted ")
        self.mops.extend(made)
