"""Find the invocations of a few completed ops in a history's op list.

A cycle record quotes only completions; a timeline bar runs from the
invocation. Processes are single-threaded, so a completion's invocation is
the latest earlier op of the same process. The ops may be dicts (Elle's JSON
shape) or objects with the same attribute names; only `index`, `process`,
`type` and `time` are read, and only near the wanted ops, so finding them in
a million-op history costs microseconds per op, not a pass over the history.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

MAX_WALK_BACK = 100_000  # ops scanned back from a completion before giving up


def field(op: Any, name: str) -> Any:
    return op.get(name) if isinstance(op, dict) else getattr(op, name, None)


def as_json(op: Any) -> dict[str, Any]:
    """The op's index, process, type and time as a dict (time -1 when unknown)."""
    t = field(op, "time")
    return {
        "index": field(op, "index"),
        "process": field(op, "process"),
        "type": field(op, "type"),
        "time": -1 if t is None else t,
    }


def _position(ops: Sequence[Any], index: int) -> int | None:
    """Where the op with this index is: by position, else by bisection on sorted indices."""
    if 0 <= index < len(ops) and field(ops[index], "index") == index:
        return index
    try:
        pos = bisect_left(ops, index, key=lambda op: field(op, "index"))
    except TypeError:  # an index missing (None): fall back to a scan
        pos = len(ops)
    if pos < len(ops) and field(ops[pos], "index") == index:
        return pos
    for pos, op in enumerate(ops):  # indices out of order: the slow way, once per op wanted
        if field(op, "index") == index:
            return pos
    return None


def find_invocations(ops: Sequence[Any] | None, indices: Iterable[int]) -> dict[int, dict]:
    """{completion index: its invocation as as_json(op)} for each index found with one."""
    out: dict[int, dict] = {}
    if not ops:
        return out
    for index in set(indices):
        if not isinstance(index, int):
            continue
        pos = _position(ops, index)
        if pos is None:
            continue
        process = field(ops[pos], "process")
        for back in range(pos - 1, max(-1, pos - 1 - MAX_WALK_BACK), -1):
            op = ops[back]
            if field(op, "process") == process:
                if field(op, "type") == "invoke":
                    out[index] = as_json(op)
                break
    return out
