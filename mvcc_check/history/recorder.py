"""Record a history as it happens, in our native format: JSON Lines of Elle ops.

Each op is written as one line with exactly the keys
`{"type", "process", "f", "value", "index", "time"}` (in that order, `f` is
always "txn"), and the file is flushed after every op, so that a run that is
interrupted (Ctrl-C, a crash) still leaves a readable history up to its last
op. The recorder also keeps the ops in memory (`ops`), as plain dicts.

Use it as a context manager::

    with HistoryRecorder("run.jsonl") as rec:
        rec.invoke(0, [["append", 1, 1], ["r", 1, None]])
        rec.ok(0, [["append", 1, 1], ["r", 1, [1]]])

`index` is assigned by the recorder (0, 1, 2, ...). `time` is whatever the
caller passes (a logical clock keeps histories byte-identical across runs);
when omitted it is nanoseconds since the recorder was created.

A recorder is not thread-safe: concurrent clients must serialise their calls
to `record` (the database runner holds a lock around it).
"""

from __future__ import annotations

import os
import time as _time
from typing import IO, Any

import orjson

OpDict = dict[str, Any]


def ops_jsonl(ops: list[OpDict]) -> bytes:
    """Recorded ops as the JSON Lines a recorder writes, one op per line."""
    return b"".join(orjson.dumps(op) + b"\n" for op in ops)


def _copy_value(value: Any) -> list[list[Any]]:
    """A private copy of a micro-op list, so later mutation by the caller cannot change it."""
    return [[m[0], m[1], list(m[2]) if type(m[2]) is list else m[2]] for m in value]


class HistoryRecorder:
    """Assigns indices to ops, keeps them in memory and appends them to `path` (if given).

    `keep=False` skips the in-memory list (for very long runs that only need the file).
    """

    __slots__ = ("path", "ops", "_file", "_next_index", "_t0", "_keep", "closed")

    def __init__(self, path: str | os.PathLike[str] | None = None, *, keep: bool = True) -> None:
        self.path = None if path is None else os.fspath(path)
        self.ops: list[OpDict] = []
        self._keep = keep
        self._next_index = 0
        self._t0 = _time.monotonic_ns()
        self.closed = False
        # Unbuffered: every op goes to the OS in one write, so the file is
        # always a sequence of whole lines.
        self._file: IO[bytes] | None = None
        if self.path is not None:
            self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 - closed by close()

    def record(
        self, type: str, process: int | str, value: Any, time: int | None = None, f: str = "txn"
    ) -> OpDict:
        """Record one op and return it (as stored). A client op has `f` "txn" and micro-ops
        as its value; a fault injector's op (process "nemesis") its own `f` and any value."""
        if self.closed:
            raise ValueError("recorder is closed")
        if time is None:
            time = _time.monotonic_ns() - self._t0
        op = {
            "type": type,
            "process": process,
            "f": f,
            "value": _copy_value(value) if f == "txn" else value,
            "index": self._next_index,
            "time": time,
        }
        self._next_index += 1
        if self._file is not None:
            data = orjson.dumps(op) + b"\n"
            view = memoryview(data)
            while view:
                n = self._file.write(view)
                if n is None:  # pragma: no cover - only for non-blocking files
                    continue
                view = view[n:]
        if self._keep:
            self.ops.append(op)
        return op

    def invoke(self, process: int, value: Any, time: int | None = None) -> OpDict:
        return self.record("invoke", process, value, time)

    def ok(self, process: int, value: Any, time: int | None = None) -> OpDict:
        return self.record("ok", process, value, time)

    def fail(self, process: int, value: Any, time: int | None = None) -> OpDict:
        return self.record("fail", process, value, time)

    def info(self, process: int, value: Any, time: int | None = None) -> OpDict:
        return self.record("info", process, value, time)

    def __len__(self) -> int:
        return self._next_index

    def to_jsonl(self) -> bytes:
        """The in-memory ops as JSON Lines bytes (what the file holds)."""
        return ops_jsonl(self.ops)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> HistoryRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
