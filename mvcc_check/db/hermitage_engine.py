"""Hermitage on the built-in engine (`--db engine:`), in one thread: the engine says
BLOCKED where a database would make the statement wait, and names the transactions
a commit or abort wakes; a woken step is tried again when the driver next looks at
its session (db/hermitage.py drives both this and the SQL sessions)."""

from __future__ import annotations

from mvcc_check.db.dialects import FAIL
from mvcc_check.db.hermitage_scenarios import INITIAL, Observation, Scenario, Step, planned_mops
from mvcc_check.engine import BLOCKED, Abort, Engine
from mvcc_check.history.recorder import HistoryRecorder


class EngineBackend:
    """One engine for a scenario; ops recorded as they happen, on a logical clock."""

    def __init__(
        self, level: str, bugs: tuple[str, ...], scenario: Scenario, recorder: HistoryRecorder
    ) -> None:
        self.eng = Engine(level, "list-append", bugs=bugs)
        self.sc = scenario
        self.rec = recorder
        self.obs = Observation()
        self.clock = 0
        self.sessions: dict[int, EngineSession] = {}

    def record(self, type_: str, process: int, value: list) -> None:
        self.clock += 1
        self.rec.record(type_, process, value, self.clock)

    def planned(self, n: int) -> list[list]:
        return planned_mops(self.sc, n)

    def prepare(self) -> None:
        pass

    def load_initial(self) -> None:
        t0 = self.eng.begin()
        for k, v in INITIAL.items():
            self.eng.write(t0, k, v)
        self.eng.commit(t0)

    def open(self, n: int) -> EngineSession:
        self.sessions[n] = EngineSession(n, self)
        return self.sessions[n]

    def final(self, keys: tuple[int, ...]) -> tuple[dict, dict | None]:
        t = self.eng.begin()
        final = {k: list(self.eng.read(t, k) or ()) for k in keys}
        self.eng.commit(t)
        return final, None

    def close(self) -> None:
        pass

    def wake(self, woken: list) -> None:
        """Transactions whose lock came free: their sessions' blocked steps may go on."""
        ids = {id(t) for t in woken}
        for s in self.sessions.values():
            if s.txn is not None and id(s.txn) in ids:
                s.woken = True


class EngineSession:
    """One Hermitage session on the engine: its transaction and its blocked step."""

    drains_at_end = False  # a step still blocked at the end goes with the rollback

    def __init__(self, n: int, backend: EngineBackend) -> None:
        self.n = n
        self.b = backend
        self.txn = None
        self.pending_step: Step | None = None
        self.pos = 0  # where a blocked scan goes on
        self.woken = False
        self.error: BaseException | None = None
        self.done = False
        self.mops: list[list] = []
        self.unblocked = f"  (T{n} unblocked)"  # said after a step a commit or abort woke

    def start(self, step: Step) -> None:
        self.pending_step, self.pos, self.woken = step, 0, True

    def settle(self, timeout: float) -> tuple[bool, BaseException | None]:
        """Run the pending step if it may go on (just started, or its lock came free);
        (whether it finished, its error). Nothing runs meanwhile, so `timeout` is moot."""
        if not self.woken:
            return False, None
        self.woken = False
        try:
            finished = self._attempt(self.pending_step)
        except Abort as exc:
            self.b.wake(exc.woken)
            return True, exc
        return finished, None

    def _attempt(self, step: Step) -> bool:
        """Run the step from where it stopped; False if it blocks."""
        eng, a = self.b.eng, step.action
        if a == "begin":
            self.txn = eng.begin()
        elif a == "commit":
            self.b.wake(eng.commit(self.txn))
        elif a == "abort":
            self.b.wake(eng.abort(self.txn))
        elif a in ("read", "scan"):
            keys = (step.key,) if a == "read" else self.b.sc.keys
            for i in range(self.pos, len(keys)):
                v = eng.read(self.txn, keys[i])
                if v is BLOCKED:
                    self.pos = i
                    return False
                vals = list(v or ())
                self.b.obs.reads.setdefault(step.label, {})[keys[i]] = vals[-1] if vals else None
                self.mops.append(["r", keys[i], vals])
        else:  # write / insert: both append to the row's list
            if eng.write(self.txn, step.key, step.value) is BLOCKED:
                return False
            self.mops.append(["append", step.key, step.value])
        return True

    def shown(self, step: Step) -> str:
        return ""

    def classify(self, exc: BaseException) -> str:
        if isinstance(exc, Abort):
            return FAIL
        raise exc  # not an outcome of the transaction: a bug, let it show

    def after_refusal(self) -> None:
        pass  # the engine has rolled the transaction back already

    def rollback(self) -> None:
        self.b.eng.abort(self.txn)

    def stuck(self, scenario: str) -> str:
        return f"{scenario}: every session left is blocked (engine)"

    def close(self) -> None:
        pass
