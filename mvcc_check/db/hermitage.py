"""The classic deterministic isolation scenarios, after Martin Kleppmann's
Hermitage (github.com/ept/hermitage), driven step by step over separate
connections.

Each scenario is an exact interleaving of steps of sessions T1, T2, T3 over a
table `(id int primary key, value int, hist text)` holding (1, 10) and
(2, 20). Every session runs in its own thread: a step that has not finished
after `block_s` is *blocked*, and the scenario goes on with the next step, as
Hermitage's transcripts do ("T2 blocks ... T1 commits, T2 unblocks"). A step
of a session that is still blocked first waits for the blocked one.

Verdicts, per scenario: "anomaly" (the anomalous outcome was observed and
committed), "prevented by abort" (the database refused a transaction:
serialization failure, deadlock, lock timeout) or "prevented".

Recording for the checker. Besides `value`, each row keeps `hist`, the list
of every value written to it, appended in the same UPDATE. Reads return it,
so each scenario is also a list-append history (writes are appends, reads
return the whole list), recorded op by op and judged by the checker: the
version order the checker needs is then observable, and the tests make sure
the checker's verdict agrees with the scenario's. Predicate reads
(`WHERE value % 3 = 0`) are run as a scan of the (tiny) table with the
predicate applied to the rows read, so that the history holds a read of every
row, present or absent (an absent row reads as []).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from mvcc_check.db.dialects import FAIL, Session, open_session
from mvcc_check.db.target import DbError, DbTarget, normalize_level
from mvcc_check.history.recorder import HistoryRecorder

ANOMALY = "anomaly"
ABORT = "prevented by abort"
PREVENTED = "prevented"

TABLE = "mvcc_hermitage"
INITIAL = {1: 10, 2: 20}


@dataclass(frozen=True)
class Step:
    session: int
    action: str  # begin | commit | abort | read | scan | write | insert
    key: int | None = None
    value: int | None = None
    label: str | None = None  # names a read's result for the verdict

    def describe(self) -> str:
        a = self.action
        if a in ("begin", "commit", "abort"):
            return f"T{self.session}: {a}"
        if a == "read":
            return f"T{self.session}: select * from test where id = {self.key}"
        if a == "scan":
            return f"T{self.session}: select * from test"
        if a == "write":
            return f"T{self.session}: update test set value = {self.value} where id = {self.key}"
        return f"T{self.session}: insert into test values ({self.key}, {self.value})"


@dataclass
class Observation:
    reads: dict[str, dict[int, int | None]] = field(default_factory=dict)  # label -> key -> value
    committed: set[int] = field(default_factory=set)
    refused: set[int] = field(default_factory=set)  # the database aborted it
    errors: dict[int, str] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    final: dict[int, list[int]] = field(default_factory=dict)  # hist per key, after the end
    transcript: list[str] = field(default_factory=list)

    def seen(self, label: str, key: int) -> int | None:
        return self.reads.get(label, {}).get(key)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    keys: tuple[int, ...]  # every row the scenario may touch (scans read all of them)
    steps: tuple[Step, ...]
    anomaly: Callable[[Observation], bool]
    # the checker's anomaly types that show this scenario's anomaly in its history
    checker_types: frozenset[str]
    # False when the checker's types cannot tell this anomaly from a weaker one the
    # level allows (OTV: a fractured read and a plain non-repeatable read are both a
    # G-single cycle): then only "anomaly => the checker sees it" is required.
    checker_exact: bool = True


def _s(spec: str) -> tuple[Step, ...]:
    """Steps from a compact text: one per line, `T1 write 1 11`, `T2 read 1 a`, ..."""
    steps = []
    for line in spec.strip().splitlines():
        parts = line.split()
        sess = int(parts[0][1:])
        act = parts[1]
        key = value = label = None
        if act in ("write", "insert"):
            key, value = int(parts[2]), int(parts[3])
        elif act == "read":
            key, label = int(parts[2]), parts[3]
        elif act == "scan":
            label = parts[2]
        steps.append(Step(sess, act, key, value, label))
    return tuple(steps)


def _order(hist: list[int], a: int, b: int) -> bool | None:
    """True if a was appended before b, None if either is missing."""
    if a in hist and b in hist:
        return hist.index(a) < hist.index(b)
    return None


def _g0(o: Observation) -> bool:
    x, y = _order(o.final.get(1, []), 11, 12), _order(o.final.get(2, []), 21, 22)
    return {1, 2} <= o.committed and x is not None and y is not None and x != y


def _otv(o: Observation) -> bool:
    return any((o.seen(lbl, 1), o.seen(lbl, 2)) in ((12, 19), (11, 18)) for lbl in ("a", "b", "c"))


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "G0",
        "write cycles (dirty writes)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 11
            T2 write 1 12
            T1 write 2 21
            T1 commit
            T2 write 2 22
            T2 commit
        """),
        _g0,
        frozenset({"G0"}),
    ),
    Scenario(
        "G1a",
        "aborted reads (dirty reads)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 101
            T1 write 2 201
            T2 scan a
            T1 abort
            T2 scan b
            T2 commit
        """),
        lambda o: any(o.seen(lbl, 1) == 101 or o.seen(lbl, 2) == 201 for lbl in "ab"),
        frozenset({"G1a"}),
    ),
    Scenario(
        "G1b",
        "intermediate reads (dirty reads)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 101
            T2 scan a
            T1 write 1 11
            T1 commit
            T2 scan b
            T2 commit
        """),
        lambda o: any(o.seen(lbl, 1) == 101 for lbl in "ab"),
        frozenset({"G1b"}),
    ),
    Scenario(
        "G1c",
        "circular information flow (dirty reads)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 11
            T2 write 2 22
            T1 read 2 a
            T2 read 1 b
            T1 commit
            T2 commit
        """),
        lambda o: {1, 2} <= o.committed and o.seen("a", 2) == 22 and o.seen("b", 1) == 11,
        frozenset({"G1c"}),
    ),
    Scenario(
        "OTV",
        "observed transaction vanishes",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T3 begin
            T1 write 1 11
            T1 write 2 19
            T2 write 1 12
            T1 commit
            T3 scan a
            T2 write 2 18
            T3 scan b
            T2 commit
            T3 scan c
            T3 commit
        """),
        _otv,
        frozenset({"G-single", "G-single-item", "G1c", "G1b", "G1a"}),
        False,
    ),
    Scenario(
        "PMP",
        "predicate-many-preceders",
        (1, 2, 3),
        _s("""
            T1 begin
            T2 begin
            T1 scan a
            T2 insert 3 30
            T2 commit
            T1 scan b
            T1 commit
        """),
        # T1 asks twice for the rows with value % 3 = 0 and sees T2's row appear
        lambda o: 1 not in o.refused and o.seen("a", 3) is None and o.seen("b", 3) == 30,
        frozenset({"G-single", "G-single-item"}),
    ),
    Scenario(
        "P4",
        "lost update",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 read 1 a
            T2 read 1 b
            T1 write 1 11
            T2 write 1 12
            T1 commit
            T2 commit
        """),
        # both read 10 and both committed a write over it: T1's update is lost
        lambda o: {1, 2} <= o.committed and o.seen("a", 1) == 10 and o.seen("b", 1) == 10,
        frozenset({"G-single", "G-single-item", "lost-update"}),
    ),
    Scenario(
        "G-single",
        "read skew",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 read 1 a
            T2 read 1 x
            T2 read 2 y
            T2 write 1 12
            T2 write 2 18
            T2 commit
            T1 read 2 b
            T1 commit
        """),
        lambda o: o.seen("a", 1) == 10 and o.seen("b", 2) == 18,
        frozenset({"G-single", "G-single-item"}),
    ),
    Scenario(
        "G2-item",
        "write skew",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 scan a
            T2 scan b
            T1 write 1 11
            T2 write 2 21
            T1 commit
            T2 commit
        """),
        lambda o: {1, 2} <= o.committed and o.seen("a", 2) == 20 and o.seen("b", 1) == 10,
        frozenset({"G2-item", "G2"}),
    ),
    Scenario(
        "G2",
        "anti-dependency cycles on a predicate",
        (1, 2, 3, 4),
        _s("""
            T1 begin
            T2 begin
            T1 scan a
            T2 scan b
            T1 insert 3 30
            T2 insert 4 42
            T1 commit
            T2 commit
        """),
        # each asked for value % 3 = 0, saw nothing, and inserted a matching row
        lambda o: {1, 2} <= o.committed and o.seen("a", 4) is None and o.seen("b", 3) is None,
        frozenset({"G2-item", "G2"}),
    ),
)

SCENARIO_NAMES = tuple(s.name for s in SCENARIOS)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    level: str
    verdict: str
    observation: Observation
    history_path: str | None
    ops: list[dict]


def planned_mops(sc: Scenario, n: int) -> list[list]:
    """Session n's micro-ops as invoked (reads not yet known)."""
    mops: list[list] = []
    for st in sc.steps:
        if st.session != n:
            continue
        if st.action == "read":
            mops.append(["r", st.key, None])
        elif st.action == "scan":
            mops.extend(["r", k, None] for k in sc.keys)
        elif st.action in ("write", "insert"):
            mops.append(["append", st.key, st.value])
    return mops


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

    def _record(self, type_: str, process: int, value: list) -> None:
        with self.lock:
            self.rec.record(type_, process, value, time.time_ns())

    # -- SQL -----------------------------------------------------------------------
    def _concat(self, db: Session) -> str:
        return "CONCAT(hist, ',', %s)" if db.kind == "mysql" else "hist || ',' || %s"

    def _setup(self, db: Session) -> None:
        db.execute(f"DROP TABLE IF EXISTS {TABLE}")
        db.execute(f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, value INT, hist TEXT)")
        self._record("invoke", 0, [["append", k, v] for k, v in INITIAL.items()])
        db.begin("serializable" if db.kind == "sqlite" else "read-committed")
        for k, v in INITIAL.items():
            db.execute(f"INSERT INTO {TABLE} (id, value, hist) VALUES (%s, %s, %s)", (k, v, str(v)))
        db.commit()
        self._record("ok", 0, [["append", k, v] for k, v in INITIAL.items()])

    def _scan(self, s: _Sess, label: str) -> None:
        rows = {r[0]: (r[1], r[2]) for r in s.db.execute(f"SELECT id, value, hist FROM {TABLE}")}
        self.obs.reads[label] = {k: rows[k][0] if k in rows else None for k in self.sc.keys}
        for k in self.sc.keys:
            s.mops.append(["r", k, _hist(rows[k][1]) if k in rows else []])

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
            s.mops.append(["r", step.key, _hist(rows[0][1]) if rows else []])
        elif a == "scan":
            self._scan(s, step.label)
        elif a == "write":
            db.execute(
                f"UPDATE {TABLE} SET value = %s, hist = {self._concat(db)} WHERE id = %s",
                (step.value, str(step.value), step.key),
            )
            s.mops.append(["append", step.key, step.value])
        elif a == "insert":
            db.execute(
                f"INSERT INTO {TABLE} (id, value, hist) VALUES (%s, %s, %s)",
                (step.key, step.value, str(step.value)),
            )
            s.mops.append(["append", step.key, step.value])

    def _planned(self, n: int) -> list[list]:
        return planned_mops(self.sc, n)

    # -- outcomes ------------------------------------------------------------------
    def _settle(self, s: _Sess, fut: Future, step: Step) -> None:
        """The step finished: note its outcome and, at the end of a transaction, record it."""
        exc = fut.exception()
        if exc is None:
            self.obs.transcript.append(step.describe())
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
        sc = self.sc
        n_sessions = max(st.session for st in sc.steps)
        admin = open_session(self.target, lock_timeout_s=self.lock_timeout_s)
        sessions: dict[int, _Sess] = {}
        try:
            self._setup(admin)
            for n in range(1, n_sessions + 1):
                sessions[n] = _Sess(
                    n, open_session(self.target, lock_timeout_s=self.lock_timeout_s)
                )
            remaining = list(sc.steps)
            while remaining:
                # The next step whose session is not blocked: a blocked session's later
                # steps wait until it unblocks, and the others go on meanwhile.
                for i, step in enumerate(remaining):  # noqa: B007 - i is used below
                    s = sessions[step.session]
                    if s.pending is None or self._wait(s, 0):
                        break
                else:
                    step = remaining[0]
                    s = sessions[step.session]
                    if not self._wait(s, self.lock_timeout_s + 10):
                        raise DbError(
                            f"{sc.name}: T{s.n} stays blocked on {s.pending_step.describe()}"
                        )
                    i = 0
                del remaining[i]
                if s.done:
                    self.obs.transcript.append(f"{step.describe()}  (skipped: T{s.n} is over)")
                    continue
                if step.action == "begin":
                    self._record("invoke", s.n, self._planned(s.n))
                fut = s.pool.submit(self._do, s, step)
                s.pending, s.pending_step = fut, step
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
            for s in sessions.values():
                if s.pending is not None and not self._wait(s, self.lock_timeout_s + 10):
                    raise DbError(f"{sc.name}: T{s.n} never finished {s.pending_step.describe()}")
                if not s.done:  # a session left open by the scenario: roll it back
                    s.pool.submit(s.db.rollback).result(self.lock_timeout_s + 5)
                    self._record("fail", s.n, self._planned(s.n))
            # the final state, read by an observer transaction (recorded as well)
            obs_proc = n_sessions + 1
            reads = [["r", k, None] for k in sc.keys]
            self._record("invoke", obs_proc, reads)
            admin.begin("serializable" if admin.kind == "sqlite" else "read-committed")
            rows = {r[0]: r[1] for r in admin.execute(f"SELECT id, hist FROM {TABLE}")}
            admin.commit()
            self.obs.final = {k: _hist(rows.get(k)) for k in sc.keys}
            self._record("ok", obs_proc, [["r", k, self.obs.final[k]] for k in sc.keys])
        finally:
            for s in sessions.values():
                s.close()
            with contextlib.suppress(Exception):
                admin.execute(f"DROP TABLE IF EXISTS {TABLE}")
            admin.close()
        return self.obs


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


def checker_agrees(
    scenario: Scenario, verdict: str, found_types: set[str] | frozenset[str]
) -> bool:
    """Does the checker's finding on the scenario's history agree with its verdict?"""
    seen = bool(set(found_types) & scenario.checker_types)
    if verdict == ANOMALY:
        return seen
    return not seen or not scenario.checker_exact


def verdict_of(scenario: Scenario, obs: Observation) -> str:
    if scenario.anomaly(obs):
        return ANOMALY
    if obs.refused:
        return ABORT
    return PREVENTED


def run_scenario(
    target: DbTarget,
    level: str,
    scenario: Scenario,
    *,
    history_path: str | Path | None = None,
    block_s: float = 0.5,
    lock_timeout_s: float = 5.0,
) -> ScenarioResult:
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
