"""Elle's `transaction-order` for rw-register: a known commit order, as ranks of
transactions, and the evidence an explanation quotes.

The order gives a position per completion op (by its index). Elle's reading
(rw_register.clj, key-writes-version-sorted): every key's final writes, of
the transactions the order places (ok or info), sorted by position, follow
one another in the version order; that gives ww and rw edges as any other
version fact. mvcc-check differs in one point, on purpose: a transaction the
order leaves out gives no fact here (Elle sorts such writes first, in
history order, which nothing in the input says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mvcc_check.history.columns import INVOKE, OK
from mvcc_check.history.pairing import TxnColumns
from mvcc_check.history.txn_order import TransactionOrder

_I64 = (-(1 << 63), (1 << 63) - 1)


def commit_ranks(tc: TxnColumns, order: TransactionOrder) -> np.ndarray:
    """Per txn, its rank among the positions the order gives (0 first), -1 where
    the order does not place it; OptionError naming the order's file for an
    index that is no completion op of the history."""
    txn = _txns_of(tc, order)
    try:
        pos = np.array(order.position, np.int64)
        ranked = np.argsort(pos, kind="stable")
    except OverflowError:  # (positions beyond 64 bits: sorted by Python)
        ranked = np.array(sorted(range(len(txn)), key=order.position.__getitem__), np.int64)
    rank = np.full(tc.n, -1, np.int64)
    rank[txn[ranked]] = np.arange(len(ranked), dtype=np.int64)
    return rank


def _txns_of(tc: TxnColumns, order: TransactionOrder) -> np.ndarray:
    """The txn completed by each op index of the order, in the order's sequence."""
    cols = tc.cols
    has = np.flatnonzero(tc.complete_row >= 0)
    rows = tc.complete_row[has]
    small = ~np.isin(rows, np.fromiter(cols.big_index, np.int64, len(cols.big_index)))
    idx = cols.op_index[rows[small]]
    by = np.argsort(idx, kind="stable")
    sorted_idx, sorted_txn = idx[by], has[small][by]
    big_txn = {
        cols.big_index[int(r)]: int(t) for r, t in zip(rows[~small], has[~small], strict=True)
    }
    wanted = [i for i in order.index if _I64[0] <= i <= _I64[1]]
    q = np.array(wanted, np.int64)
    at = np.searchsorted(sorted_idx, q)
    at[at == len(sorted_idx)] = 0
    hit = sorted_idx[at] == q if len(sorted_idx) else np.zeros(len(q), bool)
    if len(wanted) == len(order.index) and hit.all():
        return sorted_txn[at]
    found = dict(zip(q[hit].tolist(), sorted_txn[at[hit]].tolist(), strict=True))
    found.update(big_txn)
    out = []
    for i in order.index:
        t = found.get(i)
        if t is None:
            raise order.error(_not_a_completion(tc, i))
        out.append(t)
    return np.array(out, np.int64)


def _not_a_completion(tc: TxnColumns, index: int) -> str:
    """Why op index `index` has no commit position in this history."""
    cols = tc.cols
    small = _I64[0] <= index <= _I64[1]
    hits = np.flatnonzero(cols.op_index == index).tolist() if small else []
    rows = [r for r in hits if r not in cols.big_index]
    rows += [r for r, i in cols.big_index.items() if i == index]
    name = cols.source
    if rows and int(cols.op_type[rows[0]]) == INVOKE:
        return f"op index {index} is an invocation in {name}, not a completion"
    return f"no completion op of {name} has index {index} (the keys are completion ops' indices)"


@dataclass
class CommitEvidence:
    """The facts the transaction order gave, for explanations: packed pairs
    earlier * n_vids + later (sorted) and the two writers of each."""

    order: TransactionOrder
    tc: TxnColumns
    n_vids: int
    packed: np.ndarray
    earlier_txn: np.ndarray
    later_txn: np.ndarray

    @classmethod
    def of(
        cls,
        order: TransactionOrder,
        tc: TxnColumns,
        n_vids: int,
        earlier: np.ndarray,
        later: np.ndarray,
        txns: tuple[np.ndarray, np.ndarray],
    ) -> CommitEvidence:
        packed = earlier.astype(np.int64) * np.int64(n_vids) + later
        o = np.argsort(packed, kind="stable")
        return cls(order, tc, n_vids, packed[o], txns[0][o], txns[1][o])

    def why(self, v1: int, v2: int) -> dict[str, Any] | None:
        """The two commits behind fact v1 < v2, if the order gave it."""
        p = v1 * self.n_vids + v2
        i = int(np.searchsorted(self.packed, p))
        if i >= len(self.packed) or int(self.packed[i]) != p:
            return None
        return {
            "earlier": self._commit(int(self.earlier_txn[i])),
            "later": self._commit(int(self.later_txn[i])),
        }

    def _commit(self, t: int) -> dict[str, Any]:
        index = self.tc.cols.index_of(int(self.tc.complete_row[t]))
        position = self.order.position[self.order.index.index(index)]
        out: dict[str, Any] = {"index": index, "position": position}
        if self.tc.status[t] != OK:
            out["type"] = "info"
        return out
