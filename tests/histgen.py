"""Small histories for the checker's tests, built from compact transaction descriptions.

A transaction is written as space-separated micro-ops, one letter for the
function, one for the key, then single-digit values (as in Elle's tests):

    "ax1"      append 1 to x                (list-append)
    "rx12"     read x = [1, 2]; "rx" reads x = []
    "wx1"      write 1 to register x        (rw-register, `register=True`)
    "rx1"      read x = 1; "rx" reads x = nil

`History` lays transactions out in time: `serial(...)` runs them one after
another; `invoke` / `complete` interleave them by hand. Each transaction gets
its own process unless one is given.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson

from mvcc_check import CheckOptions, Result, check, parse_history_text


def parse_mops(desc: str, register: bool = False) -> list[list[Any]]:
    """'ax1 rx12' -> [['append', 'x', 1], ['r', 'x', [1, 2]]]."""
    out: list[list[Any]] = []
    for token in desc.split():
        f, key, digits = token[0], token[1], token[2:]
        values = [int(c) for c in digits]
        if f == "a":
            assert len(values) == 1, token
            out.append(["append", key, values[0]])
        elif f == "w":
            assert len(values) == 1, token
            out.append(["w", key, values[0]])
        elif f == "r":
            if register:
                assert len(values) <= 1, token
                out.append(["r", key, values[0] if values else None])
            else:
                out.append(["r", key, values])
        else:
            raise ValueError(f"bad micro-op {token!r}")
    return out


@dataclass
class T:
    """One transaction to lay out: its micro-ops (as completed) and its outcome."""

    mops: list[list[Any]]
    status: str = "ok"  # ok, fail, info (info: completed as info), or "open" (never completes)
    process: int | None = None
    index_invoke: int | None = field(default=None, compare=False)
    index_complete: int | None = field(default=None, compare=False)

    def invocation_value(self) -> list[list[Any]]:
        return [[f, k, None if f == "r" else v] for f, k, v in self.mops]

    def completion_value(self) -> list[list[Any]]:
        if self.status == "ok":
            return [list(m) for m in self.mops]
        return self.invocation_value()


def txn(desc: str, status: str = "ok", process: int | None = None, register: bool = False) -> T:
    return T(parse_mops(desc, register), status, process)


class History:
    """Ops in time order; `check()` judges them through the public API."""

    def __init__(self) -> None:
        self.ops: list[dict[str, Any]] = []
        self._procs = itertools.count(100)

    def _proc(self, t: T) -> int:
        if t.process is None:
            t.process = next(self._procs)
        return t.process

    def invoke(self, t: T) -> T:
        p = self._proc(t)
        t.index_invoke = len(self.ops)
        self.ops.append({"type": "invoke", "process": p, "f": "txn", "value": t.invocation_value()})
        return t

    def complete(self, t: T) -> T:
        if t.status == "open":
            return t
        t.index_complete = len(self.ops)
        self.ops.append(
            {"type": t.status, "process": t.process, "f": "txn", "value": t.completion_value()}
        )
        return t

    def serial(self, *ts: T) -> History:
        for t in ts:
            self.invoke(t)
            self.complete(t)
        return self

    def text(self) -> str:
        lines = []
        for i, op in enumerate(self.ops):
            lines.append(orjson.dumps({"index": i, "time": i * 10, **op}).decode())
        return "\n".join(lines) + "\n"

    def check(self, *models: str, **options: Any) -> Result:
        return check_text(self.text(), *models, **options)


def check_text(text: str, *models: str, **options: Any) -> Result:
    opts = CheckOptions(models=tuple(models) or ("serializable",), **options)
    return check(parse_history_text(text, source="h.jsonl", format="jsonl"), opts)


def serial(*descs: str | T, register: bool = False) -> History:
    """Each transaction invoked and completed before the next begins."""
    ts = [d if isinstance(d, T) else txn(d, register=register) for d in descs]
    return History().serial(*ts)


def concurrent(*descs: str | T, register: bool = False) -> History:
    """All transactions invoked first, then all completed: no realtime order between them."""
    ts = [d if isinstance(d, T) else txn(d, register=register) for d in descs]
    h = History()
    for t in ts:
        h.invoke(t)
    for t in ts:
        h.complete(t)
    return h


def cycle_types(result: Result) -> dict[str, list[list[str]]]:
    """Anomaly type -> the step types of each reported cycle."""
    out: dict[str, list[list[str]]] = {}
    for name, items in result.anomalies.items():
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and "steps" in item:
                    out.setdefault(name, []).append([s["type"] for s in item["steps"]])
    return out
