"""Re-read one op of a history file by its byte offset, for explanations.

The columns keep no op as an object; the few ops an explanation quotes are
read again from the file, from the offset the scanner recorded, with the
exact reader (so they are shown exactly as written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from mvcc_check.errors import HistoryError
from mvcc_check.history.ops import Op, normalize_op

if TYPE_CHECKING:
    from mvcc_check.history.columns import Columns


def reread_op(cols: Columns, row: int) -> Op:
    """The op at `row` of a JSON Lines file, read again from its line."""
    offset = int(cols.op_offset[row])
    if cols.path is None or offset < 0:
        raise ValueError(f"op at row {row} of {cols.source} cannot be re-read (no offset)")
    with open(cols.path, "rb") as f:
        f.seek(offset)
        line = f.readline()
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
