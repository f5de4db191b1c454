"""Martin Kleppmann's Hermitage (github.com/ept/hermitage) scenarios, driven step by
step over separate sessions. The catalogue of scenarios, every variant of
Hermitage's per-database files, is data: `mvcc_check.db.hermitage_scenarios`;
Hermitage's table and legend: `mvcc_check.db.hermitage_table`.

One driver (here) runs every scenario over one session interface, which a SQL
database (`hermitage_sql.py`: a connection per session, each in its own thread)
and the built-in engine (`hermitage_engine.py`: one thread, the engine says
BLOCKED) both implement. A step that has not finished after `block_s` is
*blocked*, and the scenario goes on with the next step, as Hermitage's
transcripts do ("T2 blocks ... T1 commits, T2 unblocks"). A step of a session
that is still blocked first waits for the blocked one.

Verdicts, per scenario: "anomaly" (the anomalous outcome was observed and
committed), "prevented by abort" (the database refused a transaction:
serialization failure, deadlock, lock timeout) or "prevented".

Each scenario is also a list-append history (writes are appends, reads return
the whole list of a row's values), judged by the checker in the lab: the tests
make sure the checker's verdict agrees with the scenario's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mvcc_check.db.dialects import FAIL, session_class_of
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


class ScenarioSession(Protocol):
    """One Hermitage session (T1, T2, ...) as the driver sees it."""

    n: int
    done: bool  # committed, aborted or refused
    mops: list[list]  # its transaction's micro-ops as they ran
    pending_step: Step | None  # a step started and not yet settled
    unblocked: str  # said after a step that a commit or abort unblocked
    drains_at_end: bool  # a step still blocked at the end is waited for (else dropped)

    def start(self, step: Step) -> None: ...
    def settle(self, timeout: float) -> tuple[bool, BaseException | None]: ...
    def shown(self, step: Step) -> str: ...
    def classify(self, exc: BaseException) -> str | None: ...
    def after_refusal(self) -> None: ...
    def rollback(self) -> None: ...
    def stuck(self, scenario: str) -> str: ...
    def close(self) -> None: ...


class Backend(Protocol):
    """A target's side of a scenario: its sessions, recording, initial and final state."""

    obs: Observation

    def record(self, type_: str, process: int, value: Any) -> None: ...
    def planned(self, n: int) -> Any: ...
    def prepare(self) -> None: ...
    def load_initial(self) -> None: ...
    def open(self, n: int) -> ScenarioSession: ...
    def final(self, keys: tuple[int, ...]) -> tuple[dict, dict | None]: ...
    def close(self) -> None: ...


class _Driver:
    """Runs one scenario's steps in order over a backend's sessions."""

    def __init__(self, sc: Scenario, backend: Backend, block_s: float, wait_s: float) -> None:
        self.sc = sc
        self.b = backend
        self.obs = backend.obs
        self.block_s = block_s
        self.wait_s = wait_s  # how long a blocked session may take to finish at all

    def run(self) -> Observation:
        b, n_sessions = self.b, max(st.session for st in self.sc.steps)
        sessions: dict[int, ScenarioSession] = {}
        try:
            b.prepare()
            init = [["append", k, v] for k, v in INITIAL.items()]
            b.record("invoke", 0, init)
            b.load_initial()
            b.record("ok", 0, init)
            for n in range(1, n_sessions + 1):
                sessions[n] = b.open(n)
            self._steps(sessions)
            self._close_open(sessions)
            self._final(n_sessions + 1)
        finally:
            for s in sessions.values():
                s.close()
            b.close()
        return self.obs

    def _settle(self, s: ScenarioSession, step: Step, exc: BaseException | None) -> None:
        """The step finished: note its outcome and, at the end of a transaction, record it."""
        obs = self.obs
        if exc is None:
            obs.transcript.append(step.describe() + s.shown(step))
            if step.action == "commit":
                s.done = True
                obs.committed.add(s.n)
                self.b.record("ok", s.n, s.mops)
            elif step.action == "abort":
                s.done = True
                self.b.record("fail", s.n, self.b.planned(s.n))
            return
        kind = s.classify(exc)
        msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        obs.transcript.append(f"{step.describe()}  -> error: {msg}")
        s.done = True
        if kind == FAIL:
            obs.refused.add(s.n)
            s.after_refusal()
            self.b.record("fail", s.n, self.b.planned(s.n))
        else:
            # lost connection or an unexpected error: we cannot know the outcome
            obs.errors[s.n] = msg
            self.b.record("info", s.n, self.b.planned(s.n))

    def _wait(self, s: ScenarioSession, timeout: float) -> bool:
        """Wait for s's pending step; True if it finished (and was settled)."""
        step = s.pending_step
        if step is None:
            return True
        finished, exc = s.settle(timeout)
        if not finished:
            return False
        s.pending_step = None
        self._settle(s, step, exc)
        return True

    def _next(
        self, remaining: list[Step], sessions: dict[int, ScenarioSession]
    ) -> tuple[int, ScenarioSession]:
        """The next step whose session is not blocked: a blocked session's later steps
        wait until it unblocks, and the others go on meanwhile."""
        for i, step in enumerate(remaining):
            s = sessions[step.session]
            if s.pending_step is None or self._wait(s, 0):
                return i, s
        s = sessions[remaining[0].session]
        if not self._wait(s, self.wait_s):
            raise DbError(s.stuck(self.sc.name))
        return 0, s

    def _steps(self, sessions: dict[int, ScenarioSession]) -> None:
        remaining = list(self.sc.steps)
        obs = self.obs
        while remaining:
            i, s = self._next(remaining, sessions)
            step = remaining.pop(i)
            if s.done:
                obs.transcript.append(f"{step.describe()}  (skipped: T{s.n} is over)")
                continue
            if step.action == "begin":
                self.b.record("invoke", s.n, self.b.planned(s.n))
            s.start(step)
            if not self._wait(s, self.block_s):
                obs.blocked.append(step.describe())
                obs.transcript.append(f"{step.describe()}  -- blocks")
                continue
            if step.action in ("commit", "abort") or s.done:
                # the end of a transaction may unblock the others
                for other in sessions.values():
                    if (
                        other is not s
                        and other.pending_step is not None
                        and self._wait(other, self.block_s)
                    ):
                        obs.transcript[-1] += other.unblocked

    def _close_open(self, sessions: dict[int, ScenarioSession]) -> None:
        for s in sessions.values():
            if s.pending_step is not None and s.drains_at_end and not self._wait(s, self.wait_s):
                raise DbError(f"{self.sc.name}: T{s.n} never finished {s.pending_step.describe()}")
            if not s.done:  # a session left open by the scenario: roll it back
                s.rollback()
                self.b.record("fail", s.n, self.b.planned(s.n))

    def _final(self, process: int) -> None:
        """The final state, read by an observer transaction (recorded as well)."""
        keys = self.sc.keys
        self.b.record("invoke", process, [["r", k, None] for k in keys])
        final, values = self.b.final(keys)
        self.obs.final = final
        if values is not None:
            self.obs.final_values = values
        self.b.record("ok", process, [["r", k, final[k]] for k in keys])


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
    backend: Backend
    try:
        if target.kind == "engine":
            from mvcc_check.db.hermitage_engine import EngineBackend

            backend = EngineBackend(level, engine_bugs(target.url), scenario, rec)
        else:
            from mvcc_check.db.hermitage_sql import SqlBackend

            level = normalize_level(level)
            backend = SqlBackend(target, level, scenario, rec, lock_timeout_s)
        obs = _Driver(scenario, backend, block_s, lock_timeout_s + 10).run()
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
    """The levels `hermitage` runs when none is asked for: those the target offers
    (the dialect says which; the engine: all of its levels)."""
    if kind == "engine":
        return engine_levels()
    try:
        return session_class_of(kind).hermitage_levels
    except DbError:  # a kind without a session class
        return ("serializable",)
