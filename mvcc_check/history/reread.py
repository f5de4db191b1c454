"""Re-read one op of a history file by its byte offset, for explanations.

The columns keep no op as an object; the few ops an explanation quotes are
read again from the file, from the offset the scanner recorded, with the
exact reader (so they are shown exactly as written)."""

from __future__ import annotations

import mmap
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history import _scan
from mvcc_check.history.ops import Op, normalize_op

if TYPE_CHECKING:
    from mvcc_check.history.columns import Columns


class LineReader:
    """Lines of one file by byte offset, through a memory map opened on first use
    (explanations of a big history quote tens of thousands of ops)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None

    def mapped(self) -> mmap.mmap:
        """The whole file, mapped."""
        if self._map is None:
            with open(self.path, "rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def line_at(self, offset: int) -> bytes:
        m = self.mapped()
        end = m.find(b"\n", offset)
        return m[offset : end if end >= 0 else len(m)]


def _lines(cols: Columns) -> LineReader:
    """The columns' file, by line offset (opened once, kept on the columns)."""
    reader = cols.__dict__.get("_lines")
    if reader is None:
        reader = cols.__dict__["_lines"] = LineReader(cols.path)
    return reader


def requote(cols: Columns, rows: list[int]) -> list[dict[str, Any]]:
    """The ops at `rows` of a JSON Lines file as `Op.to_json` makes them, from their
    lines: built in C straight from lines of the scanner's shape (all in one call),
    else `reread_op`'s."""
    if not rows:
        return []
    offsets = cols.op_offset[rows]
    if cols.path is None or offsets.min() < 0:
        raise ValueError(f"ops of {cols.source} cannot be re-read (no offset)")
    quoted = _scan.quote(_lines(cols).mapped(), np.ascontiguousarray(offsets, np.int64))
    return [
        reread_op(cols, r).to_json() if q is None else q for r, q in zip(rows, quoted, strict=True)
    ]


def reread_op(cols: Columns, row: int) -> Op:
    """The op at `row` of a JSON Lines file, read again from its line."""
    offset = int(cols.op_offset[row])
    if cols.path is None or offset < 0:
        raise ValueError(f"op at row {row} of {cols.source} cannot be re-read (no offset)")
    line = _lines(cols).line_at(offset)
    try:  # the usual line: straight into an Op (micro-ops as tuples, keys ints or strings)
        op = _TYPED.decode(line)
    except msgspec.DecodeError:  # anything else: the exact reader's validation
        return _reread_general(cols, row, line)
    if op.process is msgspec.UNSET:  # no process: a client op all the same
        op.process = None
    elif type(op.process) is not int:  # (an explicit null too): let the exact reader say why
        return _reread_general(cols, row, line)
    op.value = [list(m) for m in op.value]  # as the exact reader gives them
    op.line = int(cols.op_line[row])
    op.index = cols.index_of(row)
    return op


_TYPED = msgspec.json.Decoder(Op)


def _reread_general(cols: Columns, row: int, line: bytes) -> Op:
    where = cols.where(row)
    try:
        raw = msgspec.json.decode(line)
    except msgspec.DecodeError as e:
        raise HistoryError(cols.source, where, f"changed while being checked: {e}") from None
    op = normalize_op(raw, row, cols.source, where, int(cols.op_line[row]))
    if op is None:
        raise HistoryError(cols.source, where, "changed while being checked: no longer a client op")
    op.index = cols.index_of(row)
    return op
