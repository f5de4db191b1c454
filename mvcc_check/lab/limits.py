"""Check a history under a time limit and a memory cap, stopping cleanly at either.

The check runs in a forked child process, so that reaching a limit costs only
the child: the parent kills it at the time limit; the child's data memory is
capped with RLIMIT_DATA (heap and private mappings: an allocation past the
cap fails with MemoryError instead of waking the kernel's OOM killer), and the
parent also kills it should its resident memory pass the cap. The parent then
reports which stages the check had finished (decided) and which it had not:
never a partial verdict, since check() decides only at the end of its last stage.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mvcc_check.analysis.background import allow_threads
from mvcc_check.analysis.checker import (
    CheckOptions,
    Result,
    Stage,
    StageStarted,
    check,
    stage_of,
)
from mvcc_check.errors import MvccCheckError, OptionError
from mvcc_check.history.load import load_columns

# The stages of a check, as check() and the reader name them, with what each settles.
STAGES: tuple[tuple[Stage, str], ...] = (
    (Stage.READING, "reading the history: whether it is well-formed"),
    (Stage.PAIRING, "pairing ops into transactions"),
    (
        Stage.INFERRING,
        "inferring dependencies and the anomalies found without cycles "
        "(G1a, G1b, internal, lost-update...)",
    ),
    (Stage.BUILDING, "building the dependency graph"),
    (Stage.SEARCHING, "the cycle search (G0, G1c, G-single, G2...) and so the verdict"),
)
STAGE_NAMES = tuple(stage.value for stage, _ in STAGES)
POLL_SECONDS = 0.02

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """'512M', '2G', '1.5GiB', '300MB', '1000000' -> bytes (binary multiples)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not m or (m.group(2) == "" and text.strip().lower().endswith("ib")):
        raise OptionError(f"not a size: {text!r} (expected e.g. 512M, 2G, 1.5GiB or bytes)")
    size = int(float(m.group(1)) * _UNITS[m.group(2)])
    if size <= 0:
        raise OptionError(f"a memory cap must be positive, got {text!r}")
    return size


@dataclass(frozen=True)
class Limits:
    seconds: float | None = None
    memory_bytes: int | None = None

    @property
    def active(self) -> bool:
        return self.seconds is not None or self.memory_bytes is not None


@dataclass(frozen=True)
class Stopped:
    """A check stopped by a limit: where it was, and what it had and had not decided."""

    reason: str  # time-limit, max-memory, or worker-died
    limit: float | int | None
    stage: str | None  # the stage it was in (None: before reading began)
    decided: list[str] = field(default_factory=list)
    not_decided: list[str] = field(default_factory=list)
    ops_read: int | None = None
    detail: str = ""

    def to_json(self) -> dict:
        out = {
            "reason": self.reason,
            "limit": self.limit,
            "stage": self.stage,
            "decided": self.decided,
            "not-decided": self.not_decided,
        }
        if self.ops_read is not None:
            out["ops-read"] = self.ops_read
        if self.detail:
            out["detail"] = self.detail
        return out


def _stopped(reason: str, limit, stage: str | None, ops_read: int | None, detail="") -> Stopped:
    done = STAGE_NAMES.index(stage) if stage in STAGE_NAMES else 0
    return Stopped(
        reason=reason,
        limit=limit,
        stage=stage,
        decided=[text for _, text in STAGES[:done]],
        not_decided=[text for _, text in STAGES[done:]],
        ops_read=ops_read,
        detail=detail,
    )


def _child(
    conn,
    path: str,
    fmt: str | None,
    options: CheckOptions,
    memory: int | None,
    drop_torn_tail: bool = False,
) -> None:
    """The worker: cap its data memory, check, send stages and then the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and kills us
    try:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
            allow_threads(False)  # (see analysis/background.py)
        conn.send(("stage", StageStarted(Stage.READING)))
        # As without limits, but on one thread under a cap: a thread that cannot get its
        # memory never starts, and Thread.start then waits for it forever (seen at 60M).
        threads = None if memory is None else 1
        history = load_columns(path, fmt, drop_torn_tail=drop_torn_tail, threads=threads)
        conn.send(("read", history.n_ops))
        result = check(history, options, lambda name: conn.send(("stage", name)))
        conn.send(("result", result))
    except MemoryError:
        conn.send(("memory", None))
    except MvccCheckError as e:
        conn.send(("error", str(e)))  # HistoryError's arguments do not survive pickling
    except Exception as e:  # a bug: the parent says so, never a verdict
        conn.send(("crash", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()
        os._exit(0)


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def run_limited(
    path: str,
    fmt: str | None,
    options: CheckOptions,
    limits: Limits,
    stage: Callable[[str], None] | None = None,
    drop_torn_tail: bool = False,
) -> Result | Stopped:
    """check(load_columns(path, fmt), options) in a child under `limits`; the Result, or
    a Stopped saying where it stopped. MvccCheckError from the child is raised here."""
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(theirs, path, fmt, options, limits.memory_bytes, drop_torn_tail)
    )
    proc.start()
    theirs.close()
    state = _Watch(limits, time.monotonic(), stage)
    try:
        return state.follow(proc, mine)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        mine.close()


@dataclass
class _Watch:
    limits: Limits
    started: float
    on_stage: Callable[[str], None] | None
    stage: str | None = None
    ops_read: int | None = None

    def follow(self, proc, conn) -> Result | Stopped:
        while True:
            if conn.poll(POLL_SECONDS):
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    proc.join()
                    return self._died(proc.exitcode)
                outcome = self._message(kind, payload)
                if outcome is not None:
                    return outcome
                continue
            outcome = self._over_limit(proc)
            if outcome is not None:
                proc.kill()
                return outcome
            if not proc.is_alive() and not conn.poll(0):
                return self._died(proc.exitcode)

    def _message(self, kind: str, payload) -> Result | Stopped | None:
        if kind == "stage":
            self.stage = stage_of(payload).value
            if self.on_stage is not None:
                self.on_stage(payload)
            return None
        if kind == "read":
            self.ops_read = payload
            return None
        if kind == "result":
            return payload
        if kind == "memory":
            limit = self.limits.memory_bytes
            return _stopped("max-memory", limit, self.stage, self.ops_read)
        if kind == "error":
            raise MvccCheckError(payload)
        return _stopped(
            "worker-died", None, self.stage, self.ops_read, f"internal error: {payload}"
        )

    def _over_limit(self, proc) -> Stopped | None:
        seconds, memory = self.limits.seconds, self.limits.memory_bytes
        if seconds is not None and time.monotonic() - self.started >= seconds:
            return _stopped("time-limit", seconds, self.stage, self.ops_read)
        if memory is not None and _resident_bytes(proc.pid) > memory:
            return _stopped("max-memory", memory, self.stage, self.ops_read)
        return None

    def _died(self, exitcode: int | None) -> Stopped:
        how = f"killed by signal {-exitcode}" if exitcode and exitcode < 0 else f"exit {exitcode}"
        detail = f"the checking process ended without a result ({how})"
        return _stopped("worker-died", None, self.stage, self.ops_read, detail)
