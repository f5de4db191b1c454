"""The seeded scheduler: clients interleave step by step over one engine, and every op is recorded.

Each client (an Elle process) runs one transaction at a time, taken from a
shared queue. A step is one of: begin (records the `invoke`), one micro-op,
or the end (commit, a voluntary rollback, or a crash). At every step the
scheduler picks one runnable client at random (seeded); a client blocked on
a lock is not runnable until the transaction holding the lock finishes. An
engine abort (deadlock victim, serialization failure) ends the transaction
with `fail`. A crash between micro-ops, before commit, or after commit but
before the client learns the outcome, records `info`, and the client continues as a new process
(process + clients), as in Jepsen.

Time is logical: the step number. The same transactions, options and seed
give a byte-identical history.

`choices`, when given, replaces the random picks: at step i the scheduler
runs runnable client `choices[i] % len(runnable)`, and the first runnable
one once the list runs out. The picks actually made are returned in
`RunResult.schedule`, so a run can be replayed or shrunk.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mvcc_check.engine.predicates import PredicateEngine
from mvcc_check.engine.store import BLOCKED, Abort, Engine
from mvcc_check.history.ops import CLOSED_PREDICATE
from mvcc_check.history.recorder import HistoryRecorder
from mvcc_check.predicate_workload import init_value, is_init
from mvcc_check.workload import WorkloadSpec, workload_generator


@dataclass
class RunResult:
    """What one engine run produced."""

    ops: list[dict[str, Any]]  # the recorded history (Elle op maps); empty if not kept
    stats: dict[str, int]
    schedule: list[int]  # the scheduler's picks (index into the runnable list)
    trace: list[tuple[int, int, str]] | None = None  # (time, process, event) when traced
    txns: list[list[list[Any]]] = field(default_factory=list)  # the transactions run
    rolled_back: list[int] = field(
        default_factory=list
    )  # positions (in txns) rolled back voluntarily


class _Client:
    __slots__ = ("process", "txn", "mops", "out", "pos", "qi")

    def __init__(self, process: int) -> None:
        self.process = process
        self.qi = -1
        self.txn: Any = None
        self.mops: list[list[Any]] = []
        self.out: list[list[Any]] = []
        self.pos = 0


def _fmt_mop(m: Sequence[Any]) -> str:
    f, k, v = m
    if f == "r":
        return f"r {k} -> {v!r}"
    return f"{f} {k} {v!r}"


PROGRESS_EVERY = 1000


def _taken(
    source: Iterator[list[list[Any]]],
    into: list[list[list[Any]]],
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[int, list[list[Any]]]]:
    """(position, transaction) as clients take them, each kept in `into`; generated
    lazily, so that recording starts at once however many transactions a run has."""
    for i, t in enumerate(source):
        into.append(t)
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i)
        yield i, t


def _engine(level: str, workload: str, bugs: tuple[str, ...], vacuum_every: int) -> Engine:
    if workload == CLOSED_PREDICATE:
        return PredicateEngine(level, bugs=bugs, vacuum_every=vacuum_every)
    return Engine(level, workload=workload, bugs=bugs, vacuum_every=vacuum_every)


def _load_init(
    engine: Engine,
    source: Iterator[list[list[Any]]],
    into: list[list[list[Any]]],
    rec: HistoryRecorder,
) -> Iterator[list[list[Any]]]:
    """The closed-predicate workload's init op, run and recorded (process 0) before the
    clients start; the transactions after it."""
    first = next(source, None)
    if first is not None and is_init(first):
        into.append(first)
        value = init_value(first)
        rec.record("invoke", 0, value, 0, f="init")
        engine.load(first[0][2])  # type: ignore[attr-defined]
        rec.record("ok", 0, value, 0, f="init")
    elif first is not None:
        yield first
    yield from source


def run_engine(
    level: str,
    spec: WorkloadSpec,
    *,
    txns: Iterable[list[list[Any]]] | None = None,
    bugs: Sequence[str] = (),
    seed: int | None = None,
    recorder: HistoryRecorder | None = None,
    choices: Sequence[int] | None = None,
    rollback_rate: float = 0.02,
    crash_rate: float = 0.0,
    trace: bool = False,
    vacuum_every: int = 64,
    rollbacks: frozenset[int] | set[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run `spec`'s transactions (or `txns`) over a fresh engine; record into `recorder`.

    `seed` seeds the scheduler (default: `spec.seed`). `rollback_rate` is
    the probability that a client rolls back instead of committing;
    `crash_rate` the probability that it crashes at its commit instead (and a
    quarter of it, the probability of a crash before each micro-op after the first).
    `rollbacks`, when given, names the positions in the transaction list that
    roll back instead (and `rollback_rate` is ignored), so that a shrunk run
    keeps exactly the rollbacks it needs.

    Transactions are generated as clients take them, and every op is recorded as
    it happens, so a run that is stopped (KeyboardInterrupt) leaves its history
    so far in the recorder. `progress`, when given, is told the number of
    transactions begun, every PROGRESS_EVERY of them.
    """
    # The run makes millions of small, long-lived objects; the cyclic GC only slows it down.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(
            level,
            spec,
            txns,
            bugs,
            seed,
            recorder,
            choices,
            rollback_rate,
            crash_rate,
            trace,
            vacuum_every,
            rollbacks,
            progress,
        )
    except KeyboardInterrupt:
        # Stopping must be quick: a collection over the millions of objects made
        # with the GC off would take seconds, so they are left out of it.
        gc.freeze()
        raise
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(
    level: str,
    spec: WorkloadSpec,
    txns: Iterable[list[list[Any]]] | None,
    bugs: Sequence[str],
    seed: int | None,
    recorder: HistoryRecorder | None,
    choices: Sequence[int] | None,
    rollback_rate: float,
    crash_rate: float,
    trace: bool,
    vacuum_every: int,
    rollbacks: frozenset[int] | set[int] | None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    engine = _engine(level, spec.workload, tuple(bugs), vacuum_every)
    seed = spec.seed if seed is None else seed
    own_recorder = recorder is None
    rec = HistoryRecorder() if own_recorder else recorder
    assert rec is not None
    txn_list: list[list[list[Any]]] = []  # filled as clients take transactions
    source = iter(txns) if txns is not None else iter(workload_generator(spec))
    if spec.workload == CLOSED_PREDICATE:
        source = _load_init(engine, source, txn_list, rec)  # type: ignore[arg-type]
    queue = _taken(source, txn_list, progress)
    if rollbacks is not None:
        rollback_rate = 0.0
    s = _Scheduler(engine, spec, queue, rec, seed, choices, trace)
    s.faults(rollback_rate, crash_rate, rollbacks)
    s.run()
    ops = rec.ops
    if own_recorder:
        rec.close()
    return RunResult(
        ops=ops,
        stats=engine.stats(),
        schedule=s.schedule,
        trace=s.tr,
        txns=txn_list,
        rolled_back=sorted(s.rolled_back),
    )


class _Scheduler:
    """One run: the clients, the runnable ones, the picks, and what each step does."""

    def __init__(
        self,
        engine: Engine,
        spec: WorkloadSpec,
        queue: Iterator[tuple[int, list[list[Any]]]],
        rec: HistoryRecorder,
        seed: int,
        choices: Sequence[int] | None,
        trace: bool,
    ) -> None:
        self.engine = engine
        self.queue = queue
        self.record = rec.record
        self.rnd = random.Random(seed).random  # the scheduler's picks
        self.frnd = random.Random(f"faults-{seed}").random  # rollbacks, crashes: apart
        self.nclients = spec.clients
        self.clients = [_Client(p) for p in range(spec.clients)]
        self.runnable = list(range(spec.clients))
        self.schedule: list[int] = []
        self.tr: list[tuple[int, int, str]] | None = [] if trace else None
        self.append = spec.workload == "list-append"
        self.choices = choices
        self.nchoices = -1 if choices is None else len(choices)
        self.rolled_back: list[int] = []
        self.step = 0

    def faults(
        self, rollback_rate: float, crash_rate: float, rollbacks: frozenset[int] | set[int] | None
    ) -> None:
        self.rollback_rate = rollback_rate
        self.crash_rate = crash_rate
        self.rollbacks = rollbacks
        self.fault = rollback_rate > 0 or crash_rate > 0 or bool(rollbacks)

    def _say(self, c: _Client, event: str) -> None:
        if self.tr is not None:
            self.tr.append((self.step, c.process, event))

    def _wake(self, woken: list[Any]) -> None:
        runnable = self.runnable
        for w in woken:
            ci = w.client
            if ci not in runnable:
                runnable.append(ci)

    def _pick(self) -> int:
        n = len(self.runnable)
        if self.nchoices < 0:
            pick = int(self.rnd() * n)
        elif self.step < self.nchoices:
            pick = self.choices[self.step] % n  # type: ignore[index]
        else:
            pick = 0
        self.schedule.append(pick)
        self.step += 1
        return pick

    def run(self) -> None:
        runnable, clients = self.runnable, self.clients
        while runnable:
            pick = self._pick()
            c = clients[runnable[pick]]
            if c.txn is None:
                self._begin(pick, c)
                continue
            try:
                if c.pos < len(c.mops):
                    self._mop(pick, c)
                elif not self.fault or not self._fault_end(c):
                    self._wake(self.engine.commit(c.txn))
                    self.record("ok", c.process, c.out, self.step)
                    if self.tr is not None:
                        self._say(c, "commit (ok)")
                    c.txn = None
            except Abort as e:
                self._wake(e.woken)
                self.record("fail", c.process, c.mops, self.step)
                self._say(c, f"aborted: {e.reason} (fail)")
                c.txn = None
        if any(c.txn is not None for c in clients):  # pragma: no cover - would be an engine bug
            raise RuntimeError("scheduler stalled: every remaining client waits for a lock")

    def _begin(self, pick: int, c: _Client) -> None:
        """The client takes the next transaction (or, with none left, stops)."""
        nxt = next(self.queue, None)
        if nxt is None:
            self.runnable.pop(pick)
            return
        c.qi, mops = nxt
        t = self.engine.begin()
        t.client = self.runnable[pick]
        c.txn = t
        c.mops = mops
        c.out = [[f, k, v] for f, k, v in mops]
        c.pos = 0
        self.record("invoke", c.process, mops, self.step)
        if self.tr is not None:
            self._say(c, "begin")

    def _crash(self, c: _Client, event: str) -> None:
        """The client crashed: the outcome is unknown (info); it goes on as a new process."""
        self.record("info", c.process, c.mops, self.step)
        self._say(c, event)
        c.txn = None
        c.process += self.nclients

    def _mop(self, pick: int, c: _Client) -> None:
        """One micro-op (or a crash before it); a lock wait makes the client not runnable."""
        pos, t = c.pos, c.txn
        if self.crash_rate and pos and self.frnd() < self.crash_rate / 4:
            # Crash between two micro-ops: the engine rolls the transaction back,
            # the client never learns the outcome.
            self._wake(self.engine.abort(t))
            self._crash(c, "crash mid-transaction (info)")
            return
        f, k, v = c.mops[pos]
        if f == "r" or f == "rp":
            r = self.engine.read(t, k) if f == "r" else self.engine.read_predicate(t, k)  # type: ignore[attr-defined]
            if r is BLOCKED:
                self.runnable.pop(pick)
                self._say(c, f"r {k}: waits for a lock")
                return
            if self.append:
                r = [] if r is None else list(r)
            c.out[pos][2] = r
        else:
            r = self.engine.write(t, k, v) if f != "delete" else self.engine.delete(t, k)  # type: ignore[attr-defined]
            if r is BLOCKED:
                self.runnable.pop(pick)
                self._say(c, f"{f} {k} {v!r}: waits for a lock")
                return
        c.pos = pos + 1
        if self.tr is not None:
            self._say(c, _fmt_mop(c.out[pos]))

    def _fault_end(self, c: _Client) -> bool:
        """The end of a transaction as a voluntary rollback or a crash; False: commit it."""
        t, x = c.txn, self.frnd()
        rollbacks = self.rollbacks
        if x < self.rollback_rate or (rollbacks and c.qi in rollbacks):
            self.rolled_back.append(c.qi)
            self._wake(self.engine.abort(t))
            self.record("fail", c.process, c.mops, self.step)
            self._say(c, "rollback (fail)")
            c.txn = None
            return True
        if x >= self.rollback_rate + self.crash_rate:
            return False
        # Crash: half the time before the commit reaches the engine, half after.
        if self.frnd() < 0.5:
            self._wake(self.engine.abort(t))
            what = "crash before commit (info)"
        else:
            what = "crash after commit (info)"
            try:
                self._wake(self.engine.commit(t))
            except Abort as e:  # the commit failed, but no one hears of it
                self._wake(e.woken)
                what = f"crash after a failed commit: {e.reason} (info)"
        self._crash(c, what)
        return True
