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

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mvcc_check.db.dialects import FAIL, INFO, Session, open_session
from mvcc_check.db.target import DbError, DbTarget, normalize_level
from mvcc_check.history.recorder import HistoryRecorder
from mvcc_check.workload import TxnGenerator, WorkloadSpec

TABLE_PREFIX = "mvcc_check_"


@dataclass
class RunStats:
    committed: int = 0
    aborted: int = 0  # fail: the database refused the transaction
    indeterminate: int = 0  # info: we cannot know whether it committed
    started: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False
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


class _Shared:
    """What the client threads share: the generator, the recorder, the counters."""

    def __init__(self, spec: WorkloadSpec, recorder: HistoryRecorder) -> None:
        self.gen = TxnGenerator(spec)
        self.total = spec.txns
        self.issued = 0
        self.recorder = recorder
        self.stats = RunStats()
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def next_txn(self) -> list | None:
        with self.lock:
            if self.stop.is_set() or self.issued >= self.total:
                return None
            self.issued += 1
            return self.gen.next_txn()

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


def run_txn(session: Session, table: str, level: str, workload: str, txn: list) -> list:
    """Run one transaction; return the micro-ops with the values read. Raises what the
    database raised (the caller classifies it)."""
    append_sql = session.append_sql(table)
    write_sql = session.write_sql(table)
    session.begin(level)
    out: list = []
    for f, k, v in txn:
        if f == "r":
            out.append(["r", k, parse_read(workload, session.read(table, k))])
        else:
            session.execute(append_sql if f == "append" else write_sql, (k, str(v)))
            out.append([f, k, v])
    session.commit()
    return out


class Client(threading.Thread):
    def __init__(
        self,
        n: int,
        clients: int,
        target: DbTarget,
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
        self.target = target
        self.level = level
        self.table = table
        self.workload = workload
        self.shared = shared
        self.on_session = on_session
        self.session: Session | None = None

    def _connect(self) -> None:
        self.session = open_session(self.target)
        if self.on_session is not None:
            self.on_session(self.process, self.session)

    def run(self) -> None:
        sh = self.shared
        try:
            self._connect()
            while (txn := sh.next_txn()) is not None:
                sh.record("invoke", self.process, txn)
                try:
                    out = run_txn(self.session, self.table, self.level, self.workload, txn)
                except Exception as exc:  # noqa: BLE001 - classified below
                    kind = self.session.classify(exc)
                    if kind == FAIL:
                        self.session.rollback()
                        with sh.lock:
                            sh.stats.abort_causes[abort_cause(exc)] += 1
                        sh.record("fail", self.process, txn)
                        continue
                    # INFO, or an error we do not understand: either way we cannot
                    # know whether the transaction committed.
                    sh.record("info", self.process, txn)
                    if kind != INFO:
                        raise
                    self.process += self.clients  # a fresh process after an indeterminate op
                    while not sh.stop.is_set():
                        try:
                            self.session.reconnect()
                            if self.on_session is not None:
                                self.on_session(self.process, self.session)
                            break
                        except Exception:  # noqa: BLE001 - keep trying while the run lasts
                            time.sleep(0.2)
                    continue
                sh.record("ok", self.process, out)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, run stops
            with sh.lock:
                sh.stats.errors.append(f"client {self.n}: {type(exc).__name__}: {exc}")
            sh.stop.set()
        finally:
            if self.session is not None:
                self.session.close()


def run_workload(
    target: DbTarget,
    level: str,
    spec: WorkloadSpec,
    history_path: str | Path,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_session: Callable[[int, Session], None] | None = None,
    keep_table: bool = False,
) -> RunResult:
    """Run `spec` against the database and record the history in `history_path`.

    KeyboardInterrupt stops the clients; the history written so far stays readable
    and `stats.interrupted` is set (in-flight transactions have an invoke and no
    completion, which readers treat as indeterminate).
    """
    level = normalize_level(level)
    try:
        recorder = HistoryRecorder(history_path)
    except OSError as exc:
        raise DbError(f"cannot write the history to {history_path}: {exc.strerror}") from None
    try:
        admin = open_session(target)
    except BaseException:
        recorder.close()
        raise
    try:
        admin.check_level(level)
        version = admin.server_version()
        table = f"{TABLE_PREFIX}{secrets.token_hex(4)}"
        admin.create_kv_table(table)
    except BaseException:
        admin.close()
        recorder.close()
        raise
    shared = _Shared(spec, recorder)
    clients = [
        Client(i, spec.clients, target, level, table, spec.workload, shared, on_session)
        for i in range(spec.clients)
    ]
    t0 = time.monotonic()
    try:
        for c in clients:
            c.start()
        while any(c.is_alive() for c in clients):
            for c in clients:
                c.join(0.1)
            if on_progress is not None:
                on_progress(shared.stats.finished, spec.txns)
    except KeyboardInterrupt:
        shared.stop.set()
        shared.stats.interrupted = True
        for c in clients:
            if c.ident is not None:  # the signal may come while the clients are starting
                c.join(5)
    finally:
        shared.stats.elapsed_s = time.monotonic() - t0
        shared.stop.set()
        with shared.lock:
            recorder.close()
        try:
            if not keep_table:
                admin.drop_table(table)
        except Exception:  # noqa: BLE001 - the server may be gone; the history matters more
            pass
        admin.close()
    return RunResult(
        history_path=str(history_path),
        stats=shared.stats,
        server_version=version,
        level=level,
        spec=spec,
        target_display=target.display,
        table=table,
    )
