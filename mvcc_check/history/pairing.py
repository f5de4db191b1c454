"""Pair invocations with completions into transactions, over columns.

The same rules as Elle's and as the per-op pairing that came before: each
client process runs one op at a time, so an invocation is followed by its
completion (ok, fail or info); an invocation that never completes is info (it
may or may not have happened); a completion with no invocation is its own.
The completion must repeat its invocation's micro-ops (kinds and keys).

Done with numpy: ops are grouped by process (a stable sort keeps file order
within each), and an op's predecessor in its process decides everything. The
first problem in file order is reported, as a one-op-at-a-time pass would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import INFO, INVOKE, Columns


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

    def mop_txn(self) -> tuple[np.ndarray, np.ndarray]:
        """(micro-op rows, their txn) of every transaction's micro-ops, txn by txn
        in id order and in order within each txn."""
        om = self.cols.op_mop
        lo, hi = om[self.mop_row], om[self.mop_row + 1]
        counts = hi - lo
        txn = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        ends = np.cumsum(counts)
        rows = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - np.repeat(
            ends - counts - lo, counts
        )
        return rows, txn


def pair_columns(cols: Columns) -> TxnColumns:
    """Transactions of a history; HistoryError for the first broken rule in file order."""
    n = cols.n_ops
    typ = cols.op_type
    rows = np.arange(n, dtype=np.int64)
    order = np.argsort(cols.op_process, kind="stable")
    proc_sorted = cols.op_process[order]
    same = np.zeros(n, bool)
    same[1:] = proc_sorted[1:] == proc_sorted[:-1]
    prev = np.full(n, -1, np.int64)  # the previous op of the same process, by row
    prev[order[1:][same[1:]]] = order[:-1][same[1:]]
    has_prev = prev >= 0
    prev_invoke = np.zeros(n, bool)
    prev_invoke[has_prev] = typ[prev[has_prev]] == INVOKE
    is_invoke = typ == INVOKE
    paired = ~is_invoke & prev_invoke  # completions with their invocation at prev

    _raise_first_problem(cols, is_invoke & prev_invoke, paired, prev)

    completes_alone = ~is_invoke & ~prev_invoke
    starts = np.flatnonzero(is_invoke | completes_alone)  # one txn each, in row order
    invoke_row = starts
    complete_row = np.full(len(starts), -1, np.int64)
    tid_of_start = np.full(n, -1, np.int64)
    tid_of_start[starts] = np.arange(len(starts))
    comp = rows[paired]
    complete_row[tid_of_start[prev[comp]]] = comp
    alone = rows[completes_alone]
    complete_row[tid_of_start[alone]] = alone
    done = complete_row >= 0
    status = np.full(len(starts), INFO, np.int8)
    status[done] = typ[complete_row[done]]
    mop_row = np.where(done & (status != INFO), complete_row, invoke_row)
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


def _raise_first_problem(
    cols: Columns, reinvoked: np.ndarray, paired: np.ndarray, prev: np.ndarray
) -> None:
    """Raise the error a pass in file order meets first: an invocation while the
    process's op is open, a completion unlike its invocation, or (reported once
    the ops before it are paired) a repeated op index."""
    stop = _first_index_repeat(cols)
    limit = cols.n_ops if stop is None else stop
    bad_shape = np.zeros(cols.n_ops, bool)
    comp = np.flatnonzero(paired[:limit])
    if len(comp):
        bad_shape[comp[_shapes_differ(cols, prev[comp], comp)]] = True
    problems = np.flatnonzero((reinvoked | bad_shape)[:limit])
    if len(problems):
        r = int(problems[0])
        p = int(prev[r])
        if reinvoked[r]:
            process = cols.processes[cols.op_process[r]]
            raise HistoryError(cols.source, cols.where(r), overlap_why(process, cols.where(p)))
        raise HistoryError(
            cols.source,
            cols.where(r),
            f"completion's micro-ops do not match its invocation at {cols.where(p)}",
        )
    if stop is not None:
        first = _first_with_index(cols, cols.index_of(stop))
        raise HistoryError(
            cols.source,
            cols.where(stop),
            f"duplicate op index {cols.index_of(stop)} (also at {cols.where(first)})",
        )


def _shapes_differ(cols: Columns, inv: np.ndarray, comp: np.ndarray) -> np.ndarray:
    """For each pair, whether the completion's micro-ops differ from the
    invocation's in number, or in the kind or key of one."""
    om = cols.op_mop
    n_inv, n_comp = om[inv + 1] - om[inv], om[comp + 1] - om[comp]
    differ = n_inv != n_comp
    same_count = np.flatnonzero(~differ & (n_inv > 0))
    if len(same_count):
        counts = n_inv[same_count]
        ends = np.cumsum(counts)
        step = np.arange(int(ends[-1])) - np.repeat(ends - counts, counts)
        a = np.repeat(om[inv[same_count]], counts) + step
        b = np.repeat(om[comp[same_count]], counts) + step
        mismatch = (cols.mop_kind[a] != cols.mop_kind[b]) | (cols.mop_key[a] != cols.mop_key[b])
        pair_of = np.repeat(np.arange(len(same_count)), counts)
        bad = np.zeros(len(same_count), bool)
        bad[pair_of[mismatch]] = True
        differ[same_count[bad]] = True
    return differ


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
