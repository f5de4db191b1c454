"""Pairing over columns agrees with the per-op pairing: the same transactions,
and the same first error, on random op sequences (broken ones included)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.txns import build_txns, unread

from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import OP_TYPE_NAMES, columns_from_ops
from mvcc_check.history.ops import Op
from mvcc_check.history.pairing import pair_columns
from mvcc_check.history.readers import History

_mop = st.tuples(
    st.sampled_from(["append", "r", "w"]), st.sampled_from(["x", "y", 0, 1]), st.integers(0, 3)
)
_op = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["invoke", "invoke", "ok", "fail", "info"]),
        "process": st.sampled_from([0, 1, 2, None]),
        "mops": st.lists(_mop, max_size=3),
        "index": st.one_of(st.none(), st.integers(0, 12), st.just(1 << 70)),
    }
)


def _ops(raw: list[dict]) -> list[Op]:
    return [
        Op(
            type=r["type"],
            value=[list(m) for m in r["mops"]],
            process=r["process"],
            index=r["index"] if r["index"] is not None else i,
            line=i + 1 if i % 3 else -1,
        )
        for i, r in enumerate(raw)
    ]


def _old(ops: list[Op]):
    try:
        th = build_txns(History(source="h", ops=ops, format="jsonl"))
    except HistoryError as e:
        return str(e)
    return [
        (
            t.status,
            t.process,
            t.invoked_at,
            -1 if t.completed_at is None else t.completed_at,
            ops.index(t.complete) if t.complete is not None else -1,
            [list(m) for m in t.mops],
        )
        for t in th.txns
    ]


def _new(ops: list[Op]):
    cols = columns_from_ops(ops, source="h")
    try:
        tc = pair_columns(cols)
    except HistoryError as e:
        return str(e)
    out = []
    completed = tc.completed_at
    for t in range(tc.n):
        lo, hi = tc.mop_range(t)
        status = OP_TYPE_NAMES[tc.status[t]]
        mops = [cols.mop(j) for j in range(lo, hi)]
        out.append(
            (
                status,
                cols.processes[tc.process[t]],
                int(tc.invoked_at[t]),
                int(completed[t]),
                int(tc.complete_row[t]),
                # the columns keep what a failed or indeterminate txn read; it is no
                # evidence, and the per-op pairing drops it (issue 15)
                mops if status == "ok" else unread(mops),
            )
        )
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(_op, max_size=14))
def test_pairing_matches_per_op_pairing(raw: list[dict]) -> None:
    ops = _ops(raw)
    for op in ops:  # the per-op pairing compares identity; copy values so both see equal data
        op.value = [list(m) for m in op.value]
    assert _new(ops) == _old(ops)


def test_mop_txn_lists_each_transactions_micro_ops() -> None:
    ops = _ops(
        [
            {
                "type": "invoke",
                "process": 0,
                "mops": [("append", "x", 1), ("r", "y", 0)],
                "index": None,
            },
            {"type": "invoke", "process": 1, "mops": [("r", "x", 0)], "index": None},
            {
                "type": "ok",
                "process": 0,
                "mops": [("append", "x", 1), ("r", "y", 2)],
                "index": None,
            },
        ]
    )
    tc = pair_columns(columns_from_ops(ops))
    rows, txn = tc.mop_txn()
    assert txn.tolist() == [0, 0, 1]
    assert rows.tolist() == [3, 4, 2]  # txn 0's completion's micro-ops, then txn 1's invocation's


@settings(max_examples=200, deadline=None)
@given(st.lists(_op, max_size=12), st.data())
def test_mop_rows_are_each_txns_rows_in_order(raw, data):
    """TxnColumns.mop_txn (in C) against a loop over the transactions' row ranges, for
    every transaction and for a subset."""
    try:
        tc = pair_columns(columns_from_ops(_ops(raw)))
    except HistoryError:
        return
    subset = sorted(data.draw(st.sets(st.integers(0, max(tc.n - 1, 0)))) if tc.n else [])
    for txns in (None, np.array(subset, np.int64)):
        ids = range(tc.n) if txns is None else subset
        want = [(r, t) for t in ids for r in range(*tc.mop_range(t))]
        rows, txn = tc.mop_txn(txns)
        assert list(zip(rows.tolist(), txn.tolist(), strict=True)) == want
