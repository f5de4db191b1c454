"""Pair invocations with completions into transactions.

Each client process runs one op at a time: its invocation is followed by its
completion (ok, fail or info). An invocation that never completes is treated
as info (it may or may not have happened), as Elle does. A completion with no
invocation (some recorders log only completions) is its own invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from mvcc_check.errors import HistoryError
from mvcc_check.history.ops import MicroOp, Op
from mvcc_check.history.readers import History

INFINITY = float("inf")


@dataclass(slots=True)
class Txn:
    """One transaction: an invocation and its outcome.

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
    open_by_process: dict[object, tuple[int, Op]] = {}
    pairs: list[tuple[int, Op, Op | None, int | None]] = []  # (invoked_at, invoke, complete, completed_at)
    seen_index: dict[int, Op] = {}
    for pos, op in enumerate(history.ops):
        prev = seen_index.get(op.index)
        if prev is not None:
            raise HistoryError(src, _where(op), f"duplicate op index {op.index} (also at {_where(prev)})")
        seen_index[op.index] = op
        if op.type == "invoke":
            pending = open_by_process.get(op.process)
            if pending is not None:
                raise HistoryError(
                    src,
                    _where(op),
                    f"process {op.process} invoked a new op while its op at {_where(pending[1])} had not completed",
                )
            open_by_process[op.process] = (pos, op)
            continue
        pending = open_by_process.pop(op.process, None)
        if pending is None:
            pairs.append((pos, op, op, pos))
            continue
        ipos, inv = pending
        if inv.value != op.value and list(map(_shape, inv.value)) != list(map(_shape, op.value)):
            raise HistoryError(
                src,
                _where(op),
                f"completion's micro-ops do not match its invocation at {_where(inv)}",
            )
        pairs.append((ipos, inv, op, pos))
    for ipos, inv in open_by_process.values():
        pairs.append((ipos, inv, None, None))
    pairs.sort(key=lambda p: p[0])
    txns: list[Txn] = []
    for tid, (ipos, inv, comp, cpos) in enumerate(pairs):
        if comp is None or comp.type == "info":
            status, mops, completed_at = "info", inv.value, None
        elif comp.type == "ok":
            status, mops, completed_at = "ok", comp.value, cpos
        else:
            status, mops, completed_at = "fail", (inv.value if comp is inv else comp.value), cpos
        if comp is not None and comp is inv and comp.type == "info":
            mops = comp.value
        txns.append(Txn(tid, status, inv.process, inv, comp, mops, ipos, completed_at))
    return TxnHistory(source=src, txns=txns)


_shape = itemgetter(0, 1)  # a micro-op's kind and key: what a completion must repeat


def _where(op: Op) -> str:
    return f"line {op.line}" if op.line >= 0 else f"op index {op.index}"
