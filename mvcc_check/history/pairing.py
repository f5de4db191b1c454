"""Pair invocations with completions into transactions, over columns.

The same rules as Elle's and as the per-op pairing that came before: each
client process runs one op at a time, so an invocation is followed by its
completion (ok, fail or info); an invocation that never completes is info (it
may or may not have happened); a completion with no invocation is its own.
The completion must repeat its invocation's micro-ops (kinds and keys).

Done in one pass over the op columns in C (`_pair.c`), which stops at the
first problem in file order, as the errors must name it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history import _pair
from mvcc_check.history.columns import INFO, Columns


@dataclass
class TxnColumns:
    """Transactions, in invocation order (a txn logged only by its completion
    is invoked there). All arrays have one entry per transaction.

    status: OK, FAIL or INFO (the op type codes). process: the process id
    (into `Columns.processes`). invoke_row / complete_row: the rows of its
    invocation and completion (-1 if it never completed; equal for a
    completion with no invocation). mop_row: the row whose micro-ops are the
    transaction's (the completion for ok and fail, the invocation for info).
    invoked_at / completed_at: positions in the history (the rows), with
    completed_at -1 when the outcome is unknown (info)."""

    cols: Columns
    status: np.ndarray
    process: np.ndarray
    invoke_row: np.ndarray
    complete_row: np.ndarray
    mop_row: np.ndarray

    @property
    def n(self) -> int:
        return len(self.status)

    @property
    def invoked_at(self) -> np.ndarray:
        return self.invoke_row

    @property
    def completed_at(self) -> np.ndarray:
        return np.where(self.status == INFO, -1, self.complete_row)

    def op_row(self, t: int) -> int:
        """The op that best shows txn t: its completion, else its invocation."""
        c = int(self.complete_row[t])
        return c if c >= 0 else int(self.invoke_row[t])

    def mop_range(self, t: int) -> tuple[int, int]:
        """The rows of txn t's micro-ops in the micro-op columns."""
        r = int(self.mop_row[t])
        return int(self.cols.op_mop[r]), int(self.cols.op_mop[r + 1])

    def mop_txn(self, txns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(micro-op rows, their txn) of every transaction's micro-ops (or of `txns`',
        ascending ids), txn by txn in id order and in order within each txn (in C:
        `_pair.mop_rows`, counted, then written)."""
        om = np.ascontiguousarray(self.cols.op_mop, np.int64)
        mr = np.ascontiguousarray(self.mop_row, np.int64)
        ids = None if txns is None else np.ascontiguousarray(txns, np.int64)
        total = _pair.mop_rows(om, mr, ids, None, None)
        rows, txn = np.empty(total, np.int64), np.empty(total, np.int64)
        _pair.mop_rows(om, mr, ids, rows, txn)
        return rows, txn


_REINVOKED, _SHAPE = 1, 2  # the problems `_pair.pair` reports


def pair_columns(cols: Columns) -> TxnColumns:
    """Transactions of a history; HistoryError for the first broken rule in file order."""
    n = cols.n_ops
    stop = _first_index_repeat(cols)
    invoke_row = np.empty(n, np.int64)
    complete_row = np.empty(n, np.int64)
    status = np.empty(n, np.int8)
    mop_row = np.empty(n, np.int64)
    count, row, problem, prev = _pair.pair(
        np.ascontiguousarray(cols.op_type, np.int8),
        np.ascontiguousarray(cols.op_process, np.int32),
        np.ascontiguousarray(cols.op_mop, np.int64),
        np.ascontiguousarray(cols.mop_kind, np.int8),
        np.ascontiguousarray(cols.mop_key, np.int32),
        len(cols.processes),
        n if stop is None else stop,
        invoke_row,
        complete_row,
        status,
        mop_row,
    )
    if problem == _REINVOKED:
        process = cols.processes[cols.op_process[row]]
        raise HistoryError(cols.source, cols.where(row), overlap_why(process, cols.where(prev)))
    if problem == _SHAPE:
        raise HistoryError(
            cols.source,
            cols.where(row),
            f"completion's micro-ops do not match its invocation at {cols.where(prev)}",
        )
    if stop is not None:  # reported once the ops before it are paired
        first = _first_with_index(cols, cols.index_of(stop))
        raise HistoryError(
            cols.source,
            cols.where(stop),
            f"duplicate op index {cols.index_of(stop)} (also at {cols.where(first)})",
        )
    for column in (invoke_row, complete_row, status, mop_row):
        column.resize(count, refcheck=False)  # in place: no copy of the ten-million case
    return TxnColumns(
        cols=cols,
        status=status,
        process=cols.op_process[invoke_row],
        invoke_row=invoke_row,
        complete_row=complete_row,
        mop_row=mop_row,
    )


def overlap_why(process: object, open_at: str) -> str:
    """Why an invocation cannot be paired: its process already has an op open (ops
    without a process are one unnamed process)."""
    if process is None:
        return (
            f"an op with no process was invoked while the op at {open_at}, also with "
            "no process, had not completed (ops without a process are read as one process)"
        )
    return f"process {process} invoked a new op while its op at {open_at} had not completed"


def _first_index_repeat(cols: Columns) -> int | None:
    """The first row whose op index an earlier row has, else None."""
    idx = cols.op_index
    if cols.big_index:
        return _first_index_repeat_exact(cols)
    if len(idx) < 2 or (idx[1:] > idx[:-1]).all():
        return None
    _, first = np.unique(idx, return_index=True)
    repeat = np.ones(len(idx), bool)
    repeat[first] = False
    hits = np.flatnonzero(repeat)
    return int(hits[0]) if len(hits) else None


def _first_index_repeat_exact(cols: Columns) -> int | None:
    seen: set[int] = set()
    for r in range(cols.n_ops):
        i = cols.index_of(r)
        if i in seen:
            return r
        seen.add(i)
    return None


def _first_with_index(cols: Columns, index: int) -> int:
    if not cols.big_index:
        return int(np.flatnonzero(cols.op_index == index)[0])
    return next(r for r in range(cols.n_ops) if cols.index_of(r) == index)
