"""A history as columns of integers: the one representation the checker works on.

Every reader (the C scanner for JSON Lines, the exact readers for EDN, JSON and
unusual lines) and every in-memory producer ends here, so inference is written
once, over numpy arrays, with no Python object per op, micro-op or read element.

Rows are the history's client ops in file order (a row is the op's position,
as the pairing counts it). Keys and non-integer values are interned; the
originals are kept in small tables for explanations, and the ops an
explanation quotes are re-read from the file by byte offset (or taken from the
ops held in memory).

Identity follows Python equality, as the dict-based inference did: the key
`"0"` and the key `0` are different keys; `1`, `1.0` and `true` are one value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mvcc_check.history.ops import Op

# Op types (op_type).
INVOKE, OK, FAIL, INFO = 0, 1, 2, 3
OP_TYPE_CODES = {"invoke": INVOKE, "ok": OK, "fail": FAIL, "info": INFO}
OP_TYPE_NAMES = ("invoke", "ok", "fail", "info")

# Micro-op kinds (mop_kind). The last four are Elle's closed-predicate workload's:
# a predicate read keeps its predicate in mop_key and the map of rows it returned
# as an ATOM; the init op is one micro-op whose value is its map of first values.
APPEND, READ, WRITE, INSERT, DELETE, PREAD, INIT = 0, 1, 2, 3, 4, 5, 6
MOP_KIND_CODES = {
    "append": APPEND,
    "r": READ,
    "w": WRITE,
    "insert": INSERT,
    "delete": DELETE,
    "rp": PREAD,
    "init": INIT,
}
MOP_KIND_NAMES = ("append", "r", "w", "insert", "delete", "rp", "init")
PREDICATE_KINDS = (INSERT, DELETE, PREAD, INIT)  # only the closed-predicate workload has these

# Value tags (mop_tag, el_tag): what mop_value / el_value hold.
NIL = 0  # null (an invocation's read, a read of the initial state); value 0
INT = 1  # an integer in int64 range (also true/false and integral floats), the value itself
ATOM = 2  # anything else (strings, big integers, floats, maps...): an id into `atoms`
LIST = 3  # a list read (mop_tag only): value j, its elements el_*[el_start[j]:el_start[j+1]]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass
class Columns:
    """One history's client ops, micro-ops and read elements as arrays.

    Per op (n rows): op_type int8, op_process int32 (an id into `processes`,
    whose entries are the process values, None for an op without one),
    op_index int64 (the op's index, its position when it had none; rows whose
    index does not fit are in `big_index`, with 0 in the column), op_time
    int64 (-1 when missing or not an int64), op_line int64 (1-based, -1 when
    unknown: ops of one JSON array or EDN vector), op_offset int64 (byte
    offset of the op's line in `path`, -1 when the op is not re-readable
    there), op_mop int64[n + 1] (op i's micro-ops are rows op_mop[i]:op_mop[i+1]).

    Per micro-op (m rows): mop_kind int8, mop_key int32 (an id into `keys`),
    mop_tag int8 and mop_value int64 (see the tags above).

    Per list element (e rows): el_tag int8 (INT or ATOM) and el_value int64;
    list j's elements are rows el_start[j]:el_start[j+1] (el_start has one
    entry per list read plus one).
    """

    source: str
    format: str
    op_type: np.ndarray
    op_process: np.ndarray
    op_index: np.ndarray
    op_time: np.ndarray
    op_line: np.ndarray
    op_offset: np.ndarray
    op_mop: np.ndarray
    mop_kind: np.ndarray
    mop_key: np.ndarray
    mop_tag: np.ndarray
    mop_value: np.ndarray
    el_start: np.ndarray
    el_tag: np.ndarray
    el_value: np.ndarray
    processes: list[Any]
    keys: list[Any]
    atoms: list[Any]
    big_index: dict[int, int] = field(default_factory=dict)
    ignored: int = 0  # non-client ops (nemesis and the like), left out of the rows
    path: str | None = None  # the file the offsets point into
    ops: list[Op] | None = None  # the ops themselves, when held in memory
    # As History has them (the checker's input stats read them): ignored ops by
    # reason, the first ignored op that looks like a client's, a torn tail dropped.
    ignored_why: dict[str, int] = field(default_factory=dict)
    client_like: str | None = None
    torn_tail: str | None = None

    @property
    def n_ops(self) -> int:
        return len(self.op_type)

    def index_of(self, row: int) -> int:
        """The op's index, exactly (however large)."""
        big = self.big_index.get(row)
        return int(self.op_index[row]) if big is None else big

    def where(self, row: int) -> str:
        """Where op `row` is, for messages: its line if known, else its index."""
        line = int(self.op_line[row])
        return f"line {line}" if line >= 0 else f"op index {self.index_of(row)}"

    def value(self, tag: int, v: int) -> Any:
        """The Python value of a (tag, value) pair of a micro-op or element."""
        if tag == INT:
            return v
        if tag == ATOM:
            return self.atoms[v]
        if tag == NIL:
            return None
        lo, hi = int(self.el_start[v]), int(self.el_start[v + 1])
        tags = self.el_tag[lo:hi]
        if (tags == INT).all():  # the usual list read: integers only, decoded in one go
            return self.el_value[lo:hi].tolist()
        return [
            self.value(t, x)
            for t, x in zip(tags.tolist(), self.el_value[lo:hi].tolist(), strict=True)
        ]

    def mop(self, j: int) -> list[Any]:
        """Micro-op j as the history wrote it: [kind, key, value]."""
        return [
            MOP_KIND_NAMES[self.mop_kind[j]],
            self.keys[self.mop_key[j]],
            self.value(int(self.mop_tag[j]), int(self.mop_value[j])),
        ]

    def op(self, row: int) -> Op:
        """The op at `row`, exactly as read: from memory, or re-read from the file
        (once: a cycle's explanation quotes its ops several times)."""
        if self.ops is not None:
            return self.ops[row]
        cache = self.__dict__.setdefault("_reread", {})
        op = cache.get(row)
        if op is None:
            from mvcc_check.history.reread import reread_op  # only explanations need it

            op = cache[row] = reread_op(self, row)
        return op

    def forget_quoted(self) -> None:
        """Drop the ops re-read so far (quoted by explanations already made)."""
        self.__dict__.pop("_reread", None)
        self.__dict__.pop("_quoted", None)

    def op_json(self, row: int) -> dict[str, Any]:
        """The op at `row` as an elle-cli style JSON object. Re-read from the file, it is
        made once and shared by every explanation that quotes it (never change it)."""
        if self.ops is not None:
            return self.ops[row].to_json()
        cache = self.__dict__.setdefault("_quoted", {})
        quoted = cache.get(row)
        if quoted is None:
            self.quote_ahead([row])
            quoted = cache[row]
        return quoted

    def quote_ahead(self, rows: list[int]) -> None:
        """Make the quotes of the ops at `rows` at once (for file-backed columns:
        one call into C for many lines), for `op_json` to find."""
        if self.ops is not None:
            return
        cache = self.__dict__.setdefault("_quoted", {})
        rows = [r for r in dict.fromkeys(rows) if r not in cache]
        if rows:
            from mvcc_check.history.reread import requote  # only explanations need it

            cache.update(zip(rows, requote(self, rows), strict=True))

    def quoted_mop(self, row: int, i: int) -> list[Any]:
        """Micro-op i of the op at `row`, as its quote shows it (never change it)."""
        if self.ops is not None:
            return self.ops[row].value[i]
        return self.op_json(row)["value"][i]


def scalar_tag(v: Any, atom_id: Callable[[Any], int]) -> tuple[int, int]:
    """(tag, value) of a scalar: INT for integers in int64 range (bools and integral
    floats too: they compare equal to them), NIL for None, else ATOM with the id
    `atom_id` gives (an integral float beyond int64 as the integer it equals)."""
    t = type(v)
    if t is int or t is bool or (t is float and v.is_integer()):
        i = int(v)
        if INT64_MIN <= i <= INT64_MAX:
            return INT, i
        v = i
    if v is None:
        return NIL, 0
    return ATOM, atom_id(v)


class ColumnBuilder:
    """Fills columns from ops one at a time: the exact readers' and in-memory path.

    The C scanner fills the same arrays in bulk and hands the lines it cannot
    read to `add_op`, with the same intern tables, so ids agree."""

    def __init__(self) -> None:
        self.op_type: list[int] = []
        self.op_process: list[int] = []
        self.op_index: list[int] = []
        self.op_time: list[int] = []
        self.op_line: list[int] = []
        self.op_offset: list[int] = []
        self.op_mop: list[int] = [0]
        self.mop_kind: list[int] = []
        self.mop_key: list[int] = []
        self.mop_tag: list[int] = []
        self.mop_value: list[int] = []
        self.el_start: list[int] = [0]
        self.el_tag: list[int] = []
        self.el_value: list[int] = []
        self.process_ids: dict[Any, int] = {}
        self.processes: list[Any] = []
        self.key_ids: dict[Any, int] = {}
        self.keys: list[Any] = []
        self.atom_ids: dict[tuple[type, Any], int] = {}
        self.atoms: list[Any] = []
        self.big_index: dict[int, int] = {}

    def process_id(self, p: Any) -> int:
        pid = self.process_ids.get(p)
        if pid is None:
            pid = self.process_ids[p] = len(self.processes)
            self.processes.append(p)
        return pid

    def key_id(self, k: Any) -> int:
        kid = self.key_ids.get(k)
        if kid is None:
            kid = self.key_ids[k] = len(self.keys)
            self.keys.append(k)
        return kid

    def tagged(self, v: Any) -> tuple[int, int]:
        """(tag, value) of a scalar (see `scalar_tag`)."""
        return scalar_tag(v, self.atom_id)

    def atom_id(self, v: Any) -> int:
        """The id of a value that is not an int64: Python equality decides identity (as
        a dict did), but "1" and 1 differ anyway."""
        try:
            aid = self.atom_ids.get(v)  # type: ignore[call-overload]
            if aid is None:
                aid = self.atom_ids[v] = len(self.atoms)  # type: ignore[index]
                self.atoms.append(v)
        except TypeError:  # unhashable (a map or list value): never equal to another
            aid = len(self.atoms)
            self.atoms.append(v)
        return aid

    def add_op(self, op: Op, offset: int = -1) -> None:
        """Append one client op (as normalize_op made it)."""
        row = len(self.op_type)
        self.op_type.append(OP_TYPE_CODES[op.type])
        self.op_process.append(self.process_id(op.process))
        idx = op.index if op.index is not None else row
        if INT64_MIN <= idx <= INT64_MAX:
            self.op_index.append(idx)
        else:
            self.op_index.append(0)
            self.big_index[row] = idx
        t = op.time
        self.op_time.append(t if type(t) is int and INT64_MIN <= t <= INT64_MAX else -1)
        self.op_line.append(op.line)
        self.op_offset.append(offset)
        for kind, k, v in op.value:
            self.mop_kind.append(MOP_KIND_CODES[kind])
            self.mop_key.append(self.key_id(k))
            if type(v) is list:
                self.mop_tag.append(LIST)
                self.mop_value.append(len(self.el_start) - 1)
                for e in v:
                    tag, x = self.tagged(e)
                    if tag == NIL:  # a nil element: an atom of its own kind
                        tag, x = ATOM, self._atom_none()
                    self.el_tag.append(tag)
                    self.el_value.append(x)
                self.el_start.append(len(self.el_tag))
            else:
                tag, x = self.tagged(v)
                self.mop_tag.append(tag)
                self.mop_value.append(x)
        self.op_mop.append(len(self.mop_kind))

    def _atom_none(self) -> int:
        key = ("<nil element>",)
        aid = self.atom_ids.get(key)  # type: ignore[call-overload]
        if aid is None:
            aid = self.atom_ids[key] = len(self.atoms)  # type: ignore[index]
            self.atoms.append(None)
        return aid

    def finish(
        self,
        source: str,
        format: str,
        ignored: int = 0,
        path: str | None = None,
        ops: list[Op] | None = None,
    ) -> Columns:
        a = np.array
        return Columns(
            source=source,
            format=format,
            op_type=a(self.op_type, np.int8),
            op_process=a(self.op_process, np.int32),
            op_index=a(self.op_index, np.int64),
            op_time=a(self.op_time, np.int64),
            op_line=a(self.op_line, np.int64),
            op_offset=a(self.op_offset, np.int64),
            op_mop=a(self.op_mop, np.int64),
            mop_kind=a(self.mop_kind, np.int8),
            mop_key=a(self.mop_key, np.int32),
            mop_tag=a(self.mop_tag, np.int8),
            mop_value=a(self.mop_value, np.int64),
            el_start=a(self.el_start, np.int64),
            el_tag=a(self.el_tag, np.int8),
            el_value=a(self.el_value, np.int64),
            processes=self.processes,
            keys=self.keys,
            atoms=self.atoms,
            big_index=self.big_index,
            ignored=ignored,
            path=path,
            ops=ops,
        )


def columns_from_ops(
    ops: Iterable[Op], source: str = "<history>", format: str = "ops", ignored: int = 0
) -> Columns:
    """Columns of ops held in memory (exact readers, engine and database runs);
    explanations quote the ops themselves."""
    kept = list(ops)
    b = ColumnBuilder()
    for op in kept:
        b.add_op(op)
    return b.finish(source, format, ignored=ignored, ops=kept)


class OpSummaries(Sequence):
    """A history's ops as small dicts (index, process, type, time), read from the
    columns by position: what a report's timeline needs of the ops around the few it
    draws, without holding or re-reading a million ops."""

    def __init__(self, cols: Columns) -> None:
        self.cols = cols

    def __len__(self) -> int:
        return self.cols.n_ops

    def __getitem__(self, row):  # type: ignore[override]
        if not isinstance(row, int):
            raise TypeError("OpSummaries takes one position at a time")
        c = self.cols
        if row < 0:
            row += c.n_ops
        t = int(c.op_time[row])
        return {
            "index": c.index_of(row),
            "process": c.processes[c.op_process[row]],
            "type": OP_TYPE_NAMES[c.op_type[row]],
            "time": None if t < 0 else t,
        }
