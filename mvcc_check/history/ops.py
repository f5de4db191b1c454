"""The op, as Elle reads it, and the validation of one raw op map.

An op is `{type, process, f, value, index, time}`; `value` is a list of
micro-ops `[f, k, v]` with f in append / r (list-append) or w / r
(rw-register). Invocations carry `None` for read values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mvcc_check.errors import HistoryError

OP_TYPES = frozenset({"invoke", "ok", "fail", "info"})
MOP_KINDS = frozenset({"append", "r", "w"})

MicroOp = tuple[str, Any, Any]
"""(kind, key, value): ("append", k, v), ("r", k, [v...] | v | None), ("w", k, v)."""


@dataclass(slots=True)
class Op:
    """One history entry. `line` is where it came from (for messages), -1 if unknown."""

    index: int
    type: str
    process: int | None
    f: Any
    value: list[MicroOp]
    time: int | None = None
    line: int = -1

    def to_json(self) -> dict[str, Any]:
        """The op as an elle-cli style JSON object."""
        out: dict[str, Any] = {
            "index": self.index,
            "time": -1 if self.time is None else self.time,
            "type": self.type,
            "process": self.process,
            "f": self.f,
            "value": [list(m) for m in self.value],
        }
        return out


def _name(x: Any) -> Any:
    """Keywords arrive from EDN as plain strings already; normalise bytes too."""
    if isinstance(x, bytes):
        return x.decode()
    return x


def _hashable(k: Any) -> Any:
    if isinstance(k, list):
        return tuple(_hashable(e) for e in k)
    if isinstance(k, dict):
        return tuple(sorted((str(a), _hashable(b)) for a, b in k.items()))
    return k


def normalize_op(raw: Any, position: int, source: str, where: str, line: int) -> Op | None:
    """Validate one raw op map; return None for non-client ops (non-integer process).

    `position` is the op's 0-based position in the file, used as its index
    when the op has none.
    """
    if not isinstance(raw, dict):
        raise HistoryError(source, where, f"expected an op map, got {type(raw).__name__}")
    typ = _name(raw.get("type"))
    if typ is None:
        raise HistoryError(source, where, "op has no type (expected invoke, ok, fail or info)")
    if typ not in OP_TYPES:
        raise HistoryError(source, where, f"unknown op type {typ!r} (expected invoke, ok, fail or info)")
    process = raw.get("process")
    if "process" in raw and (not isinstance(process, int) or isinstance(process, bool)):
        return None  # a nemesis or other non-client op, ignored as Elle does
    index = raw.get("index", position)
    if not isinstance(index, int) or isinstance(index, bool):
        raise HistoryError(source, where, f"op index must be an integer, got {index!r}")
    time = raw.get("time")
    if time is not None and not isinstance(time, int | float):
        raise HistoryError(source, where, f"op time must be a number, got {time!r}")
    value = raw.get("value")
    if not isinstance(value, list | tuple):
        raise HistoryError(
            source, where, f"op value must be a list of micro-ops, got {_short(value)}"
        )
    mops: list[MicroOp] = []
    for i, mop in enumerate(value):
        if not isinstance(mop, list | tuple):
            raise HistoryError(source, where, f"micro-op {i} is not a list: {_short(mop)}")
        if len(mop) != 3:
            raise HistoryError(
                source, where, f"micro-op {i} {_short(mop)} has {len(mop)} elements, expected 3 [f k v]"
            )
        kind = _name(mop[0])
        if kind not in MOP_KINDS:
            raise HistoryError(
                source, where, f"micro-op {i} has unknown kind {kind!r} (expected append, r or w)"
            )
        key = _hashable(mop[1])
        v = mop[2]
        if isinstance(v, tuple):
            v = list(v)
        mops.append((kind, key, v))
    t = None if time is None else int(time)
    return Op(index=index, type=typ, process=process, f=_name(raw.get("f")), value=mops, time=t, line=line)


def _short(x: Any, limit: int = 60) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."
