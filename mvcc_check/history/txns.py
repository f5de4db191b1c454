"""Pair invocations with completions into transactions.

Each client process runs one op at a time: its invocation is followed by its
completion (ok, fail or info). An invocation that never completes is treated
as info (it may or may not have happened), as Elle does. A completion with no
invocation (some recorders log only completions) is its own invocation.

Transactions are made in one pass over the ops (histories have millions):
each gets its id when invoked and its Txn when it completes. The only check
that needs memory of all earlier ops, duplicate indices, is done up front with
numpy; the pass stops before the first duplicate so that problems are still
reported in file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any, cast

import msgspec
import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history.ops import MicroOp, Op
from mvcc_check.history.pairing import overlap_why
from mvcc_check.history.readers import History

INFINITY = float("inf")


class Txn(msgspec.Struct, gc=False):
    """One transaction: an invocation and its outcome.

    A msgspec struct rather than a dataclass: a million of them are made per
    million-transaction history, about five times faster and 16 bytes smaller
    each (gc=False: a Txn refers only to ops and micro-op lists, never back).

    `status` is ok (committed), fail (did not happen) or info (unknown).
    `mops` is what the transaction did: for ok the completion's micro-ops,
    otherwise the invocation's (whose reads carry no values).
    `completed_at` is the completion's position in the history, or None when
    the outcome is unknown (it may take effect any time after `invoked_at`).
    """

    id: int
    status: str
    process: int | None
    invoke: Op
    complete: Op | None
    mops: list[MicroOp]
    invoked_at: int
    completed_at: int | None

    @property
    def op(self) -> Op:
        """The op that best shows the transaction: its completion, else its invocation."""
        return self.complete if self.complete is not None else self.invoke


@dataclass
class TxnHistory:
    """All transactions of a history, in invocation order."""

    source: str
    txns: list[Txn]


def build_txns(history: History) -> TxnHistory:
    """Pair ops by process into transactions; raise HistoryError on a broken pairing."""
    src = history.source
    ops = history.ops
    stop = _first_index_repeat(ops)
    by_id: list[Txn | None] = [None] * len(ops)  # more than enough; cut at the end
    next_id = 0
    open_by_process: dict[object, tuple[int, int, Op]] = {}  # process -> (id, position, invocation)
    pop = open_by_process.pop
    for pos, op in enumerate(ops if stop is None else ops[:stop]):
        kind = op.type
        if kind == "invoke":
            pending = open_by_process.get(op.process)
            if pending is not None:
                raise HistoryError(src, op.where(), _overlap(op, pending[2]))
            open_by_process[op.process] = (next_id, pos, op)
            next_id += 1
            continue
        mops = op.value
        pending = pop(op.process, None)
        if pending is None:  # no invocation: the completion is its own
            tid, ipos, inv = next_id, pos, op
            next_id += 1
        else:
            tid, ipos, inv = pending
            if inv.value != mops and _shapes_differ(inv.value, mops):
                raise HistoryError(
                    src,
                    op.where(),
                    f"completion's micro-ops do not match its invocation at {inv.where()}",
                )
        if kind == "ok":
            by_id[tid] = Txn(tid, "ok", inv.process, inv, op, mops, ipos, pos)
        elif kind == "info":
            by_id[tid] = Txn(tid, "info", inv.process, inv, op, unread(inv.value), ipos, None)
        else:
            by_id[tid] = Txn(tid, "fail", inv.process, inv, op, unread(mops), ipos, pos)
    if stop is not None:
        _raise_index_repeat(history, stop)
    for tid, ipos, inv in open_by_process.values():  # never completed: info
        by_id[tid] = Txn(tid, "info", inv.process, inv, None, unread(inv.value), ipos, None)
    del by_id[next_id:]
    return TxnHistory(source=src, txns=cast(list[Txn], by_id))


def unread(mops: list[MicroOp]) -> list[MicroOp]:
    """The micro-ops with every read's value dropped: what a failed or indeterminate
    transaction read is no evidence (it did not commit, or may not have), so it can
    neither make nor break a verdict. Well-formedness was checked when the op was read."""
    for m in mops:
        if m[0] == "r" and m[2] is not None:
            return [[mop[0], mop[1], None] if mop[0] == "r" else mop for mop in mops]
    return mops


def _overlap(op: Op, pending: Op) -> str:
    """Why an invocation cannot be paired: its process already has an op open."""
    return overlap_why(op.process, pending.where())


def _shapes_differ(a: list[MicroOp], b: list[MicroOp]) -> bool:
    """Whether the micro-ops differ in number, or in the kind or key of one."""
    if len(a) == len(b):
        try:
            for (f1, k1, _), (f2, k2, _) in zip(a, b, strict=False):  # lengths are equal
                if not (f1 == f2 and k1 == k2):
                    break
            else:
                return False
        except (TypeError, ValueError):  # not [f k v] micro-ops: compare as below
            pass
    return list(map(_shape, a)) != list(map(_shape, b))


def _first_index_repeat(ops: list[Op]) -> int | None:
    """The position of the first op whose index an earlier op has (or is unhashable), else None.

    Integers are checked with numpy. It reads a float or a numeric string as
    an integer, so a repeat it finds is confirmed the way a dict compares.
    """
    try:
        idx = np.fromiter(map(_index, ops), np.int64, len(ops))
    except (TypeError, ValueError, OverflowError):
        pass
    else:
        if (idx[1:] > idx[:-1]).all():
            return None
        idx.sort()
        if not (idx[1:] == idx[:-1]).any():
            return None
    seen: set[Any] = set()
    for pos, op in enumerate(ops):
        try:
            if op.index in seen:
                return pos
            seen.add(op.index)
        except TypeError:
            return pos
    return None


def _raise_index_repeat(history: History, stop: int) -> None:
    """Raise the error for the op at `stop` (see _first_index_repeat) as the dict sees it."""
    seen: dict[Any, Op] = {}
    for op in history.ops[: stop + 1]:
        prev = seen.get(op.index)  # an unhashable index raises TypeError here
        if prev is not None:
            raise HistoryError(
                history.source,
                op.where(),
                f"duplicate op index {op.index} (also at {prev.where()})",
            )
        seen[op.index] = op


_index = attrgetter("index")
_shape = itemgetter(0, 1)  # a micro-op's kind and key: what a completion must repeat
