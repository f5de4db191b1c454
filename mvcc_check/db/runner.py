"""The concurrent runner behind `mvcc-check test`: C client threads, each with
its own connection, run the randomized transactions of a `WorkloadSpec` at one
isolation level and record every op as it happens.

The runner only *produces* a history (JSON Lines, flushed per op, wall-clock
nanosecond times); judging it is the checker's job.

Outcomes (see dialects.py): committed -> ok (with the values read), the
database refused it -> fail, unknown (lost connection, timeout in COMMIT) ->
info, after which the client reconnects and continues as a new process (as
in Jepsen: a process with an indeterminate op never issues another one).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mvcc_check.db import predicate_sql
from mvcc_check.db.dialects import FAIL, INFO, Session, open_session
from mvcc_check.db.target import DbError, DbTarget, normalize_level
from mvcc_check.history.ops import CLOSED_PREDICATE
from mvcc_check.history.recorder import HistoryRecorder
from mvcc_check.workload import WorkloadSpec, workload_generator

TABLE_PREFIX = "mvcc_check_"


@dataclass
class RunStats:
    committed: int = 0
    aborted: int = 0  # fail: the database refused the transaction
    indeterminate: int = 0  # info: we cannot know whether it committed
    started: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False
    timed_out: bool = False
    errors: list[str] = field(default_factory=list)
    abort_causes: Counter[str] = field(default_factory=Counter)  # aborted (fail) by error

    @property
    def finished(self) -> int:
        return self.committed + self.aborted + self.indeterminate

    @property
    def committed_per_s(self) -> float:
        return self.committed / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class RunResult:
    history_path: str
    stats: RunStats
    server_version: str
    level: str
    spec: WorkloadSpec
    target_display: str
    table: str
    faults: dict | None = None  # nemesis.summary() when faults were injected
    ops: list[dict] = field(default_factory=list, repr=False)  # as recorded in history_path


class _Shared:
    """What the client threads share: the generator, the recorder, the counters."""

    def __init__(self, spec: WorkloadSpec, recorder: HistoryRecorder) -> None:
        self.gen = workload_generator(spec)
        self.total = spec.txns
        self.issued = 0
        self.recorder = recorder
        self.stats = RunStats()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.connected = threading.Semaphore(0)  # released once by each connected client

    def next_txn(self) -> list | None:
        with self.lock:
            if self.stop.is_set() or self.issued >= self.total:
                return None
            self.issued += 1
            return self.gen.next_txn()

    def record_nemesis(self, f: str, value: dict) -> None:
        with self.lock:
            if not self.recorder.closed:
                self.recorder.record("info", "nemesis", value, time.time_ns(), f=f)

    def record(self, type_: str, process: int, value: list) -> None:
        with self.lock:
            if self.recorder.closed:  # the run is over (interrupted): nothing more to say
                return
            self.recorder.record(type_, process, value, time.time_ns())
            st = self.stats
            if type_ == "invoke":
                st.started += 1
            elif type_ == "ok":
                st.committed += 1
            elif type_ == "fail":
                st.aborted += 1
            else:
                st.indeterminate += 1


def abort_cause(exc: BaseException) -> str:
    """Why the database refused a transaction, in a few words: the error's class and
    its SQLSTATE or error code (`SerializationFailure (40001)`, `OperationalError (1213)`)."""
    code = getattr(exc, "sqlstate", None)
    if code is None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
    if code is not None:
        return f"{type(exc).__name__} ({code})"
    first = str(exc).strip().splitlines()[:1]
    return f"{type(exc).__name__}: {first[0][:60]}" if first else type(exc).__name__


def parse_read(workload: str, raw: Any) -> Any:
    if workload == "list-append":
        if raw is None or raw == "":
            return []
        return [int(x) for x in str(raw).split(",")]
    return None if raw is None else int(raw)


def run_txn(
    session: Session, table: str, level: str, workload: str, txn: list, state: dict
) -> list:
    """Run one transaction; return the micro-ops with the values read. Raises what the
    database raised (the caller classifies it); `state["commit-sent"]` tells whether
    COMMIT had been sent when it did."""
    if workload == CLOSED_PREDICATE:
        return predicate_sql.run_txn(session, table, level, txn, state)
    if hasattr(session, "transact"):  # not SQL (etcd): the session runs it its own way
        return session.transact(table, level, workload, txn, state)
    append_sql = session.append_sql(table)
    write_sql = session.write_sql(table)
    state["commit-sent"] = False
    session.begin(level)
    out: list = []
    for f, k, v in txn:
        if f == "r":
            out.append(["r", k, parse_read(workload, session.read(table, k))])
        else:
            session.execute(append_sql if f == "append" else write_sql, (k, str(v)))
            out.append([f, k, v])
    state["commit-sent"] = True
    session.commit()
    return out


@dataclass(frozen=True)
class Routing:
    """Where transactions go: read-write ones to `target` at the run's level; read-only
    ones to `read_target` (a standby) at `read_level` when given."""

    target: DbTarget
    read_target: DbTarget | None = None
    read_level: str | None = None


class Client(threading.Thread):
    def __init__(
        self,
        n: int,
        clients: int,
        routing: Routing,
        level: str,
        table: str,
        workload: str,
        shared: _Shared,
        on_session: Callable[[int, Session], None] | None,
    ):
        super().__init__(name=f"mvcc-client-{n}", daemon=True)
        self.n = n
        self.process = n
        self.clients = clients
        self.routing = routing
        self.level = level
        self.table = table
        self.workload = workload
        self.shared = shared
        self.on_session = on_session
        self.sessions: dict[str, Session] = {}

    def _session(self, which: str) -> Session:
        """The connection for `which` ("rw" or "ro"), opened (again) when needed."""
        s = self.sessions.get(which)
        if s is None:
            target = self.routing.target if which == "rw" else self.routing.read_target
            s = self.sessions[which] = open_session(target)
            if self.on_session is not None and which == "rw":
                self.on_session(self.process, s)
        return s

    def _reconnect(self, which: str) -> None:
        """Drop the broken connection and open a new one, retrying while the run lasts
        (the server may be down: a crash fault restarts it)."""
        old = self.sessions.pop(which, None)
        if old is not None:
            old.close()
        while not self.shared.stop.is_set():
            try:
                self._session(which)
                return
            except Exception:  # noqa: BLE001 - keep trying while the run lasts
                time.sleep(0.2)

    def _one(self, txn: list) -> None:
        sh = self.shared
        ro = self.routing.read_target is not None and all(m[0] == "r" for m in txn)
        which, level = ("ro", self.routing.read_level) if ro else ("rw", self.level)
        state: dict = {}
        sh.record("invoke", self.process, txn)
        session = None
        try:
            session = self._session(which)
            out = run_txn(session, self.table, level, self.workload, txn, state)
        except Exception as exc:  # noqa: BLE001 - classified below
            kind = session.classify(exc) if session is not None else INFO
            if kind == FAIL:
                session.rollback()
                with sh.lock:
                    sh.stats.abort_causes[abort_cause(exc)] += 1
                sh.record("fail", self.process, txn)
                return
            if kind == INFO and not state.get("commit-sent"):
                # the connection broke before COMMIT was sent: it surely did not commit
                sh.record("fail", self.process, txn)
                self._reconnect(which)
                return
            # COMMIT was in flight, or an error we do not understand: either way we
            # cannot know whether the transaction committed.
            sh.record("info", self.process, txn)
            if kind != INFO:
                raise
            self.process += self.clients  # a fresh process after an indeterminate op
            self._reconnect(which)
            return
        sh.record("ok", self.process, out)

    def run(self) -> None:
        sh = self.shared
        try:
            self._session("rw")
            sh.connected.release()
            while (txn := sh.next_txn()) is not None:
                self._one(txn)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, run stops
            with sh.lock:
                sh.stats.errors.append(f"client {self.n}: {type(exc).__name__}: {exc}")
            sh.stop.set()
        finally:
            for s in self.sessions.values():
                s.close()


def _prepare(target: DbTarget, level: str, history_path, routing: Routing, workload: str = ""):
    """Open the history and the admin connection, create the run's table: (recorder,
    admin, server version, table)."""
    try:
        recorder = HistoryRecorder(history_path)
    except OSError as exc:
        raise DbError(f"cannot write the history to {history_path}: {exc.strerror}") from None
    admin = None
    try:
        admin = open_session(target)
        admin.check_level(level)
        version = admin.server_version()
        table = f"{TABLE_PREFIX}{secrets.token_hex(4)}"
        if workload == CLOSED_PREDICATE:
            if hasattr(admin, "transact"):
                raise DbError("the closed-predicate workload needs a SQL database")
            predicate_sql.create_table(admin, table)
        else:
            admin.create_kv_table(table)
        if routing.read_target is not None:
            _wait_visible(routing, table)
    except BaseException:
        if admin is not None:
            admin.close()
        recorder.close()
        raise
    return recorder, admin, version, table


def _wait_visible(routing: Routing, table: str, timeout: float = 30.0) -> None:
    """Wait until the new table has reached the standby (replication is asynchronous)."""
    reader = open_session(routing.read_target)
    try:
        reader.check_level(routing.read_level)
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader.read(table, 0)
                return
            except Exception:  # noqa: BLE001 - not there yet
                if time.monotonic() > deadline:
                    raise DbError(
                        f"table {table} did not reach the standby in {timeout:.0f} s"
                    ) from None
                reader.reconnect()
                time.sleep(0.05)
    finally:
        reader.close()


def _drive(clients, shared: _Shared, spec, nemesis, time_limit_s, on_progress) -> None:
    """Run the clients (and the nemesis) until done, the time limit, or an error; the
    nemesis heals before the clients are waited for."""
    t0 = time.monotonic()
    try:
        for c in clients:
            c.start()
        if nemesis is not None:  # faults start once every client has connected
            for c in clients:
                while not shared.connected.acquire(timeout=0.1) and c.is_alive():
                    pass
            nemesis.start()
        while any(c.is_alive() for c in clients):
            for c in clients:
                c.join(0.1)
            if on_progress is not None:
                on_progress(shared.stats.finished, spec.txns)
            if time_limit_s is not None and time.monotonic() - t0 > time_limit_s:
                shared.stats.timed_out = True
                break
            if nemesis is not None and nemesis.errors:
                break
    except KeyboardInterrupt:
        shared.stats.interrupted = True
    finally:
        shared.stop.set()
        if nemesis is not None:
            nemesis.stop()
            shared.stats.errors.extend(nemesis.errors)
        grace = time.monotonic() + (30 if shared.stats.timed_out else 5)
        for c in clients:
            if c.ident is not None:  # the signal may come while the clients are starting
                c.join(max(0.0, grace - time.monotonic()))
        shared.stats.elapsed_s = time.monotonic() - t0


def run_workload(
    target: DbTarget,
    level: str,
    spec: WorkloadSpec,
    history_path: str | Path,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_session: Callable[[int, Session], None] | None = None,
    keep_table: bool = False,
    client_target: DbTarget | None = None,
    read_target: DbTarget | None = None,
    read_level: str | None = None,
    nemesis: Any = None,
    time_limit_s: float | None = None,
) -> RunResult:
    """Run `spec` against the database and record the history in `history_path`.

    `target` is used for the run's table; clients connect to `client_target` (e.g. a
    proxy) when given, and send read-only transactions to `read_target` at
    `read_level` when given. `nemesis` (nemesis.Nemesis) injects faults meanwhile.
    KeyboardInterrupt stops the clients; the history written so far stays readable
    and `stats.interrupted` is set (in-flight transactions have an invoke and no
    completion, which readers treat as indeterminate). `time_limit_s` ends the run
    early (`stats.timed_out`).
    """
    level = normalize_level(level)
    routing = Routing(client_target or target, read_target, read_level)
    recorder, admin, version, table = _prepare(target, level, history_path, routing, spec.workload)
    shared = _Shared(spec, recorder)
    if spec.workload == CLOSED_PREDICATE:
        try:
            predicate_sql.load_init(admin, table, shared.gen.init, recorder)  # type: ignore[attr-defined]
        except BaseException:
            with contextlib.suppress(Exception):
                admin.drop_table(table)
            admin.close()
            recorder.close()
            raise
    hooks = [h for h in (on_session, nemesis and nemesis.on_session) if h]
    if nemesis is not None:
        nemesis.record = shared.record_nemesis

    def session_hook(process: int, session: Session) -> None:
        for h in hooks:
            h(process, session)

    clients = [
        Client(i, spec.clients, routing, level, table, spec.workload, shared, session_hook)
        for i in range(spec.clients)
    ]
    try:
        _drive(clients, shared, spec, nemesis, time_limit_s, on_progress)
    finally:
        with shared.lock:
            recorder.close()
        with contextlib.suppress(Exception):  # the server may be gone; the history matters more
            if not keep_table:
                admin.drop_table(table)
        admin.close()
    faults = None
    if nemesis is not None:
        from mvcc_check.db.nemesis import summary

        faults = summary(recorder.ops, nemesis.faults, nemesis.interval)
    return RunResult(
        history_path=str(history_path),
        stats=shared.stats,
        server_version=version,
        level=level,
        spec=spec,
        target_display=target.display,
        table=table,
        faults=faults,
        ops=recorder.ops,
    )
