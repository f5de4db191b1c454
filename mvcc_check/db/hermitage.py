"""Martin Kleppmann's Hermitage (github.com/ept/hermitage) scenarios, driven step by
step over separate connections. The catalogue of scenarios, every variant of
Hermitage's per-database files, is data: `mvcc_check.db.hermitage_scenarios`;
Hermitage's table and legend: `mvcc_check.db.hermitage_table`.

Every session runs in its own thread: a step that has not finished after
`block_s` is *blocked*, and the scenario goes on with the next step, as
Hermitage's transcripts do ("T2 blocks ... T1 commits, T2 unblocks"). A step
of a session that is still blocked first waits for the blocked one.

Verdicts, per scenario: "anomaly" (the anomalous outcome was observed and
committed), "prevented by abort" (the database refused a transaction:
serialization failure, deadlock, lock timeout) or "prevented".

Recording for the checker. Besides `value`, each row keeps `hist`, the list
of every value written to it, appended in the same statement. Reads return it,
so each scenario is also a list-append history (writes are appends, reads
return the whole list), judged by the checker: the version order the checker
needs is then observable, and the tests make sure the checker's verdict agrees
with the scenario's. A predicate write (`update ... where`, `delete ... where`)
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
from dataclasses import dataclass
from pathlib import Path

from mvcc_check.db.dialects import FAIL, Session, open_session
from mvcc_check.db.hermitage_scenarios import (
    ABORT,
    ANOMALY,
    CATALOGUE,
    INITIAL,
    PREVENTED,
    SCENARIO_NAMES,
    Observation,
    Scenario,
    Step,
    checker_agrees,
    planned_mops,
    step_mops,
    verdict_of,
)
from mvcc_check.db.target import DbError, DbTarget, normalize_level
from mvcc_check.history.recorder import HistoryRecorder

__all__ = [
    "ABORT",
    "ANOMALY",
    "PREVENTED",
    "SCENARIOS",
    "SCENARIO_NAMES",
    "Observation",
    "Scenario",
    "ScenarioResult",
    "checker_agrees",
    "default_levels",
    "run_scenario",
    "scenarios_for",
    "verdict_of",
]

TABLE = "mvcc_hermitage"
SCENARIOS = CATALOGUE


def scenarios_for(kind: str) -> tuple[Scenario, ...]:
    """The variants a target runs: the built-in engine has no predicate writes."""
    return tuple(sc for sc in SCENARIOS if kind != "engine" or not sc.needs_sql)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    level: str
    verdict: str
    observation: Observation
    history_path: str | None
    ops: list[dict]


class _Sess:
    """One Hermitage session: a connection and the one thread that uses it."""

    def __init__(self, n: int, session: Session) -> None:
        self.n = n
        self.db = session
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hermitage-T{n}")
        self.pending: Future | None = None
        self.pending_step: Step | None = None
        self.done = False  # committed, aborted or refused
        self.mops: list[list] = []

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.db.close()


def _hist(raw: str | None) -> list[int]:
    return [int(x) for x in raw.split(",")] if raw else []


Value = list | Callable[[], list]


class _Runner:
    def __init__(
        self,
        target: DbTarget,
        level: str,
        scenario: Scenario,
        recorder: HistoryRecorder,
        block_s: float,
        lock_timeout_s: float,
    ) -> None:
        self.target = target
        self.level = level
        self.sc = scenario
        self.rec = recorder
        self.block_s = block_s
        self.lock_timeout_s = lock_timeout_s
        self.obs = Observation()
        self.lock = threading.Lock()
        self.events: list[tuple[str, int, Value, int]] = []
        self.made: dict[int, list[list]] = {}  # id(step) -> appends a predicate write made
        self.gone: dict[int, list[int]] = {}  # deleted row -> its list, tombstone last
        self.shown: dict[int, str] = {}  # id(step) -> what it returned, for the transcript

    def _record(self, type_: str, process: int, value: Value) -> None:
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

    def _planned(self, n: int) -> Callable[[], list]:
        return lambda: self._plan(n)

    # -- SQL -----------------------------------------------------------------------
    def _setup(self, db: Session) -> None:
        db.execute(f"DROP TABLE IF EXISTS {TABLE}")
        db.execute(f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, value INT, hist TEXT, w INT)")
        self._record("invoke", 0, [["append", k, v] for k, v in INITIAL.items()])
        db.begin("serializable" if db.kind == "sqlite" else "read-committed")
        for k, v in INITIAL.items():
            db.execute(f"INSERT INTO {TABLE} (id, value, hist) VALUES (%s, %s, %s)", (k, v, str(v)))
        db.commit()
        self._record("ok", 0, [["append", k, v] for k, v in INITIAL.items()])

    def _absent(self, key: int) -> list[int]:
        """What a read of a missing row returns: a deleted row's list, else []."""
        if key in self.gone:
            return list(self.gone[key])
        if key in INITIAL:
            raise DbError(f"{self.sc.name}: row {key} is missing, but no delete of it was seen")
        return []

    def _scan(self, s: _Sess, step: Step) -> None:
        rows = {r[0]: (r[1], r[2]) for r in s.db.execute(f"SELECT id, value, hist FROM {TABLE}")}
        self.obs.reads[step.label] = {k: rows[k][0] if k in rows else None for k in self.sc.keys}
        self._show(step, ", ".join(f"{k} => {v}" for k, (v, _) in sorted(rows.items())))
        for k in self.sc.keys:
            s.mops.append(["r", k, _hist(rows[k][1]) if k in rows else self._absent(k)])

    def _show(self, step: Step, rows: str, verb: str = "") -> None:
        self.shown[id(step)] = f"  -> {verb}{rows or 'nothing'}"

    @staticmethod
    def _where(step: Step) -> tuple[str, tuple]:
        if step.where is None:
            return "1 = 1", ()
        column, value = step.where
        return f"{column} = %s", (value,)

    def _update(self, s: _Sess, step: Step) -> None:
        db = s.db
        new, p = ("value + %s", step.add) if step.add is not None else ("%s", step.value)
        where, wp = self._where(step)
        tag = self.sc.steps.index(step) + 1
        rows = db.execute(db.hermitage_update_sql(TABLE, new, where), (p, p, tag, *wp))
        if not db.update_returning:  # the rows this statement changed, by their tag
            rows = db.execute(f"SELECT id, value FROM {TABLE} WHERE w = %s", (tag,))
        made = [["append", int(k), int(v)] for k, v in sorted(rows)]
        self.made[id(step)] = made
        self._show(step, ", ".join(f"{m[1]} => {m[2]}" for m in made), "changed ")
        s.mops.extend(made)

    def _delete(self, s: _Sess, step: Step) -> None:
        where, wp = self._where(step)
        made = []
        for k, raw in sorted(s.db.execute(s.db.hermitage_delete_sql(TABLE, where), wp)):
            k = int(k)
            self.gone[k] = [*_hist(raw), -s.n]
            self.obs.deleted.setdefault(s.n, set()).add(k)
            made.append(["append", k, -s.n])
        self.made[id(step)] = made
        self._show(step, ", ".join(str(m[1]) for m in made), "deleted ")
        s.mops.extend(made)

    def _do(self, s: _Sess, step: Step) -> None:
        """Runs in the session's thread."""
        db, a = s.db, step.action
        if a == "begin":
            db.begin(self.level)
        elif a == "commit":
            db.commit()
        elif a == "abort":
            db.rollback()
        elif a == "read":
            rows = db.execute(f"SELECT value, hist FROM {TABLE} WHERE id = %s", (step.key,))
            self.obs.reads.setdefault(step.label, {})[step.key] = rows[0][0] if rows else None
            self._show(step, f"{step.key} => {rows[0][0]}" if rows else "")
            s.mops.append(["r", step.key, _hist(rows[0][1]) if rows else self._absent(step.key)])
        elif a == "scan":
            self._scan(s, step)
        elif a == "write":
            db.execute(
                f"UPDATE {TABLE} SET value = %s, hist = {db.hist_append('%s')} WHERE id = %s",
                (step.value, str(step.value), step.key),
            )
            s.mops.append(["append", step.key, step.value])
        elif a == "insert":
            db.execute(
                f"INSERT INTO {TABLE} (id, value, hist) VALUES (%s, %s, %s)",
                (step.key, step.value, str(step.value)),
            )
            s.mops.append(["append", step.key, step.value])
        elif a == "update":
            self._update(s, step)
        elif a == "delete":
            self._delete(s, step)

    # -- outcomes ------------------------------------------------------------------
    def _settle(self, s: _Sess, fut: Future, step: Step) -> None:
        """The step finished: note its outcome and, at the end of a transaction, record it."""
        exc = fut.exception()
        if exc is None:
            self.obs.transcript.append(step.describe() + self.shown.get(id(step), ""))
            if step.action == "commit":
                s.done = True
                self.obs.committed.add(s.n)
                self._record("ok", s.n, s.mops)
            elif step.action == "abort":
                s.done = True
                self._record("fail", s.n, self._planned(s.n))
            return
        kind = s.db.classify(exc)
        msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self.obs.transcript.append(f"{step.describe()}  -> error: {msg}")
        s.done = True
        if kind == FAIL:
            self.obs.refused.add(s.n)
            with contextlib.suppress(Exception):
                s.pool.submit(s.db.rollback).result(self.lock_timeout_s + 5)
            self._record("fail", s.n, self._planned(s.n))
        else:
            # lost connection or an unexpected error: we cannot know the outcome
            self.obs.errors[s.n] = msg
            self._record("info", s.n, self._planned(s.n))

    def _wait(self, s: _Sess, timeout: float) -> bool:
        """Wait for s's pending step; True if it finished (and was settled)."""
        if s.pending is None:
            return True
        try:
            s.pending.exception(timeout)
        except FutureTimeout:
            return False
        fut, step = s.pending, s.pending_step
        s.pending = s.pending_step = None
        self._settle(s, fut, step)
        return True

    def run(self) -> Observation:
        n_sessions = max(st.session for st in self.sc.steps)
        admin = open_session(self.target, lock_timeout_s=self.lock_timeout_s)
        sessions: dict[int, _Sess] = {}
        try:
            self._setup(admin)
            for n in range(1, n_sessions + 1):
                sessions[n] = _Sess(
                    n, open_session(self.target, lock_timeout_s=self.lock_timeout_s)
                )
            self._steps(sessions)
            self._close_open(sessions)
            self._final(admin, n_sessions + 1)
        finally:
            for s in sessions.values():
                s.close()
            with contextlib.suppress(Exception):
                admin.execute(f"DROP TABLE IF EXISTS {TABLE}")
            admin.close()
            self._flush()
        return self.obs

    def _next(self, remaining: list[Step], sessions: dict[int, _Sess]) -> tuple[int, _Sess]:
        """The next step whose session is not blocked: a blocked session's later steps
        wait until it unblocks, and the others go on meanwhile."""
        for i, step in enumerate(remaining):
            s = sessions[step.session]
            if s.pending is None or self._wait(s, 0):
                return i, s
        s = sessions[remaining[0].session]
        if not self._wait(s, self.lock_timeout_s + 10):
            raise DbError(f"{self.sc.name}: T{s.n} stays blocked on {s.pending_step.describe()}")
        return 0, s

    def _steps(self, sessions: dict[int, _Sess]) -> None:
        remaining = list(self.sc.steps)
        while remaining:
            i, s = self._next(remaining, sessions)
            step = remaining.pop(i)
            if s.done:
                self.obs.transcript.append(f"{step.describe()}  (skipped: T{s.n} is over)")
                continue
            if step.action == "begin":
                self._record("invoke", s.n, self._planned(s.n))
            s.pending, s.pending_step = s.pool.submit(self._do, s, step), step
            if not self._wait(s, self.block_s):
                self.obs.blocked.append(step.describe())
                self.obs.transcript.append(f"{step.describe()}  -- blocks")
                continue
            if step.action in ("commit", "abort") or s.done:
                # the end of a transaction may unblock the others
                for other in sessions.values():
                    if (
                        other is not s
                        and other.pending is not None
                        and self._wait(other, self.block_s)
                    ):
                        self.obs.transcript[-1] += "  (unblocked)"

    def _close_open(self, sessions: dict[int, _Sess]) -> None:
        for s in sessions.values():
            if s.pending is not None and not self._wait(s, self.lock_timeout_s + 10):
                raise DbError(f"{self.sc.name}: T{s.n} never finished {s.pending_step.describe()}")
            if not s.done:  # a session left open by the scenario: roll it back
                s.pool.submit(s.db.rollback).result(self.lock_timeout_s + 5)
                self._record("fail", s.n, self._planned(s.n))

    def _final(self, admin: Session, process: int) -> None:
        """The final state, read by an observer transaction (recorded as well)."""
        keys = self.sc.keys
        self._record("invoke", process, [["r", k, None] for k in keys])
        admin.begin("serializable" if admin.kind == "sqlite" else "read-committed")
        rows = {r[0]: (r[1], r[2]) for r in admin.execute(f"SELECT id, value, hist FROM {TABLE}")}
        admin.commit()
        self.obs.final = {k: _hist(rows[k][1]) if k in rows else self._absent(k) for k in keys}
        self.obs.final_values = {k: rows[k][0] if k in rows else None for k in keys}
        self._record("ok", process, [["r", k, self.obs.final[k]] for k in keys])


class _EngineRunner:
    """The same scenarios on the built-in engine (`--db engine:`), in one thread: the
    engine says BLOCKED where a database would make the statement wait, and names the
    transactions a commit or abort wakes; a woken step is retried at once."""

    def __init__(
        self, level: str, bugs: tuple[str, ...], scenario: Scenario, recorder: HistoryRecorder
    ) -> None:
        from mvcc_check.engine import Engine

        self.eng = Engine(level, "list-append", bugs=bugs)
        self.sc = scenario
        self.rec = recorder
        self.obs = Observation()
        self.clock = 0

    def _record(self, type_: str, process: int, value: list) -> None:
        self.clock += 1
        self.rec.record(type_, process, value, self.clock)

    def _planned(self, n: int) -> list[list]:
        return planned_mops(self.sc, n)

    def run(self) -> Observation:
        from mvcc_check.engine import BLOCKED, Abort

        eng, sc, obs = self.eng, self.sc, self.obs
        init = [["append", k, v] for k, v in INITIAL.items()]
        self._record("invoke", 0, init)
        t0 = eng.begin()
        for k, v in INITIAL.items():
            eng.write(t0, k, v)
        eng.commit(t0)
        self._record("ok", 0, init)
        n_sessions = max(st.session for st in sc.steps)
        txn: dict[int, object] = {}
        mops: dict[int, list] = {n: [] for n in range(1, n_sessions + 1)}
        done: set[int] = set()
        pending: dict[int, tuple[Step, int]] = {}  # session -> (blocked step, scan position)

        def finish(n: int, woken: list) -> None:
            done.add(n)
            by_id = {id(t): m for m, t in txn.items()}
            for t in woken:
                m = by_id.get(id(t))
                if m is not None and m in pending:
                    step, pos = pending.pop(m)
                    if attempt(m, step, pos):
                        obs.transcript[-1] += f"  (T{m} unblocked)"

        def attempt(n: int, step: Step, pos: int = 0) -> bool:
            """Run a step; False if it blocks (it is then pending)."""
            t = txn.get(n)
            a = step.action
            try:
                if a == "begin":
                    self._record("invoke", n, self._planned(n))
                    txn[n] = eng.begin()
                elif a == "commit":
                    woken = eng.commit(t)
                    obs.committed.add(n)
                    self._record("ok", n, mops[n])
                    obs.transcript.append(step.describe())
                    finish(n, woken)
                    return True
                elif a == "abort":
                    woken = eng.abort(t)
                    self._record("fail", n, self._planned(n))
                    obs.transcript.append(step.describe())
                    finish(n, woken)
                    return True
                elif a in ("read", "scan"):
                    keys = (step.key,) if a == "read" else sc.keys
                    label = step.label
                    for i in range(pos, len(keys)):
                        v = eng.read(t, keys[i])
                        if v is BLOCKED:
                            pending[n] = (step, i)
                            return False
                        vals = list(v or ())
                        obs.reads.setdefault(label, {})[keys[i]] = vals[-1] if vals else None
                        mops[n].append(["r", keys[i], vals])
                else:  # write / insert: both append to the row's list
                    if eng.write(t, step.key, step.value) is BLOCKED:
                        pending[n] = (step, 0)
                        return False
                    mops[n].append(["append", step.key, step.value])
            except Abort as exc:
                obs.refused.add(n)
                pending.pop(n, None)
                obs.transcript.append(f"{step.describe()}  -> error: {exc}")
                self._record("fail", n, self._planned(n))
                finish(n, exc.woken or [])
                return True
            obs.transcript.append(step.describe())
            return True

        remaining = list(sc.steps)
        while remaining:
            idx = next((i for i, st in enumerate(remaining) if st.session not in pending), None)
            if idx is None:
                raise DbError(f"{sc.name}: every session left is blocked (engine)")
            step = remaining.pop(idx)
            if step.session in done:
                obs.transcript.append(f"{step.describe()}  (skipped: T{step.session} is over)")
                continue
            if not attempt(step.session, step):
                obs.blocked.append(step.describe())
                obs.transcript.append(f"{step.describe()}  -- blocks")
        for n in range(1, n_sessions + 1):
            if n not in done:
                eng.abort(txn[n])
                self._record("fail", n, self._planned(n))
        reads = [["r", k, None] for k in sc.keys]
        self._record("invoke", n_sessions + 1, reads)
        t = eng.begin()
        obs.final = {k: list(eng.read(t, k) or ()) for k in sc.keys}
        eng.commit(t)
        self._record("ok", n_sessions + 1, [["r", k, obs.final[k]] for k in sc.keys])
        return obs


def engine_levels() -> tuple[str, ...]:
    from mvcc_check.engine import LEVEL_NAMES

    return tuple(LEVEL_NAMES)


def engine_claims(level: str) -> str:
    from mvcc_check.engine import get_level

    return get_level(level).claims


def engine_bugs(url: str) -> tuple[str, ...]:
    """`engine:` or `engine:bug1,bug2` (see `mvcc-check run --list-bugs`)."""
    rest = url.split(":", 1)[1].strip()
    return tuple(b for b in rest.split(",") if b)


def run_scenario(
    target: DbTarget,
    level: str,
    scenario: Scenario,
    *,
    history_path: str | Path | None = None,
    block_s: float = 0.5,
    lock_timeout_s: float = 5.0,
) -> ScenarioResult:
    if target.kind == "engine" and scenario.needs_sql:
        raise DbError(f"{scenario.name} has predicate writes, which the built-in engine cannot run")
    rec = HistoryRecorder(history_path)
    try:
        if target.kind == "engine":
            obs = _EngineRunner(level, engine_bugs(target.url), scenario, rec).run()
        else:
            level = normalize_level(level)
            obs = _Runner(target, level, scenario, rec, block_s, lock_timeout_s).run()
    finally:
        rec.close()
    return ScenarioResult(
        scenario.name,
        level,
        verdict_of(scenario, obs),
        obs,
        None if history_path is None else str(history_path),
        rec.ops,
    )


def default_levels(kind: str) -> tuple[str, ...]:
    return {
        "sqlite": ("serializable",),
        # PostgreSQL's READ UNCOMMITTED is its READ COMMITTED
        "postgresql": ("read-committed", "repeatable-read", "serializable"),
        "mysql": ("read-uncommitted", "read-committed", "repeatable-read", "serializable"),
    }.get(kind) or (engine_levels() if kind == "engine" else ("serializable",))
