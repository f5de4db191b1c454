"""The op, as Elle reads it, and the validation of one raw op map.

An op is `{type, process, f, value, index, time}`; `value` is a list of
micro-ops `[f, k, v]` with f in append / r (list-append), w / r
(rw-register), or insert / delete / w / r / rp (Elle's closed-predicate
workload, whose `init` op's value is a map of keys to first values, held as
one micro-op `["init", None, {k: v}]`). Invocations carry `None` for read values.
"""

from __future__ import annotations

from math import isfinite
from typing import Any, Literal

import msgspec

from mvcc_check.errors import HistoryError, cut

OP_TYPES = frozenset({"invoke", "ok", "fail", "info"})
MOP_KINDS = frozenset({"append", "r", "w"})
WORKLOADS = ("list-append", "rw-register", "closed-predicate")
"""The workloads, defined once: appends and list reads, writes and value reads, or
Elle's closed-predicate inserts, deletes and predicate reads."""
CLOSED_PREDICATE = WORKLOADS[2]
# Elle's closed-predicate workload: inserts, deletes and predicate reads; the init op.
PREDICATE_MOP_KINDS = frozenset({"insert", "delete", "rp"})
ALL_MOP_KINDS = MOP_KINDS | PREDICATE_MOP_KINDS
INIT = "init"
IGNORED_WHY = "process is not an integer (a nemesis or other non-client op)"

MicroOp = list[Any]
"""[kind, key, value]: ["append", k, v], ["r", k, [v...] | v | None], ["w", k, v]."""


class Op(msgspec.Struct, gc=False):
    """One history entry, decodable straight from JSON by msgspec.

    `line` is where it came from (for messages), -1 if unknown. Field names
    are Elle's; `process` is None when the op has none (a client op all the
    same) and `index` is filled in from the op's position when missing.
    """

    type: Literal["invoke", "ok", "fail", "info"]
    value: list[tuple[Literal["append", "r", "w"], int | str, Any]]
    process: Any = msgspec.UNSET
    index: int | None = None
    time: int | float | None = None
    f: Any = None
    line: int = -1

    def where(self) -> str:
        """Where the op is, for messages: its line if known, else its index."""
        return f"line {self.line}" if self.line >= 0 else f"op index {self.index}"

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
        if self.f == INIT and len(self.value) == 1 and self.value[0][0] == INIT:
            out["value"] = self.value[0][2]  # the map it was written as
        return out


def _hashable(k: Any) -> Any:
    """Keys must be hashable: vectors become tuples, maps sorted tuples, sets frozensets."""
    if isinstance(k, list):
        return tuple(_hashable(e) for e in k)
    if isinstance(k, dict):
        return tuple(sorted((str(a), _hashable(b)) for a, b in k.items()))
    if isinstance(k, set):
        return frozenset(k)  # (the EDN reader has made its elements hashable)
    return k


def looks_like_client(raw: Any) -> bool:
    """Whether an ignored op looks like a client transaction: f txn, or micro-ops as its value."""
    if type(raw) is not dict:
        return False
    if raw.get("f") == "txn":
        return True
    value = raw.get("value")
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, list | tuple) and len(m) == 3 and m[0] in MOP_KINDS for m in value)
    )


def normalize_op(raw: Any, position: int, source: str, where: str, line: int) -> Op | None:
    """Validate one raw op map; return None for non-client ops (non-integer process).

    `position` is the op's 0-based position in the file, used as its index
    when the op has none. Micro-ops are kept as the lists the parser made
    (no copy): this runs once per op of million-op histories.
    """
    if type(raw) is not dict:
        raise HistoryError(source, where, f"expected an op map, got {type(raw).__name__}")
    typ = raw.get("type")
    if type(typ) is not str or typ not in OP_TYPES:  # str first: a list or map is unhashable
        if typ is None:
            raise HistoryError(source, where, "op has no type (expected invoke, ok, fail or info)")
        raise HistoryError(
            source, where, f"unknown op type {shorten(typ)} (expected invoke, ok, fail or info)"
        )
    process = raw.get("process")
    if type(process) is not int and (process is not None or "process" in raw):
        return None  # a nemesis or other non-client op, ignored as Elle does
    index = raw.get("index")
    if index is None:  # missing or null: the op's position, as the typed decoder does
        index = position
    elif type(index) is not int:
        raise HistoryError(source, where, f"op index must be an integer, got {shorten(index)}")
    time = raw.get("time")
    # (a finite float is kept as it is, as the typed decoder does)
    if (
        time is not None
        and type(time) is not int
        and (type(time) is not float or not isfinite(time))
    ):
        raise HistoryError(source, where, f"op time must be a finite number, got {shorten(time)}")
    value = raw.get("value")
    if raw.get("f") == INIT and (type(value) is dict or value is None):
        return Op(  # Elle's universe-constructing op, held as one micro-op
            type=typ,
            value=[[INIT, None, value]],
            process=process,
            index=index,
            time=time,
            f=INIT,
            line=line,
        )
    if type(value) is not list:
        if type(value) is not tuple:
            raise HistoryError(
                source, where, f"op value must be a list of micro-ops, got {shorten(value)}"
            )
        value = list(value)
    for i, mop in enumerate(value):
        if (
            type(mop) is not list
            or len(mop) != 3
            or type(mop[0]) is not str
            or mop[0] not in MOP_KINDS
        ):
            value[i] = _checked_mop(mop, i, source, where)
            continue
        k = mop[1]
        if type(k) is list or type(k) is dict or type(k) is set:
            mop[1] = _hashable(k)
    return Op(
        type=typ, value=value, process=process, index=index, time=time, f=raw.get("f"), line=line
    )


def _checked_mop(mop: Any, i: int, source: str, where: str) -> list[Any]:
    """The slow path: explain what is wrong with a micro-op, or normalise an unusual shape."""
    if not isinstance(mop, list | tuple):
        raise HistoryError(source, where, f"micro-op {i} is not a list: {shorten(mop)}")
    if len(mop) == 2 and mop[0] in ("r", "delete", "rp"):
        # [r k] reads as [r k nil], as Elle does (elle#21); [delete k] as [delete k nil]
        return [mop[0], _hashable(mop[1]), None]
    if len(mop) != 3:
        raise HistoryError(
            source,
            where,
            f"micro-op {i} {shorten(mop)} has {len(mop)} elements, expected 3 [f k v]",
        )
    kind = mop[0]
    if type(kind) is not str or kind not in ALL_MOP_KINDS:
        raise HistoryError(
            source,
            where,
            f"micro-op {i} has unknown kind {shorten(kind)} "
            "(expected append, r or w; insert, delete or rp for closed-predicate)",
        )
    v = list(mop[2]) if isinstance(mop[2], tuple) else mop[2]
    return [kind, _hashable(mop[1]), v]


def shorten(x: Any, limit: int = 60) -> str:
    """A value as quoted in a message: its repr, cut to `limit` characters."""
    try:
        return cut(repr(x), limit)
    except RecursionError:
        return "a deeply nested value"
