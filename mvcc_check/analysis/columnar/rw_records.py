"""Anomaly records of rw-register reads, quoting the ops as the history wrote them.

Records are built only for the anomalies found; each quoted op comes from
memory or is read again from the file by its offset, and its micro-ops are
taken from it, so keys and values appear exactly as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.rw_table import MopTable
from mvcc_check.analysis.columnar.rw_txnkeys import TxnKeys
from mvcc_check.analysis.inference import Anomaly
from mvcc_check.history.ops import Op
from mvcc_check.history.pairing import TxnColumns

_FUTURE, _INTERNAL, _READ, _GARBAGE = range(4)  # the order of one read's anomalies


class Quoter:
    """The ops, micro-ops and values that records quote (Columns.op reads each once)."""

    def __init__(self, tc: TxnColumns, table: MopTable) -> None:
        self.tc = tc
        self.table = table

    def _op(self, row: int) -> Op:
        return self.tc.cols.op(row)

    def op_json(self, t: int) -> dict[str, Any]:
        """Txn t's op as JSON: its completion, else its invocation."""
        return self._op(self.tc.op_row(t)).to_json()

    def mop(self, x: int) -> list[Any]:
        """Table row x's micro-op, from the op whose micro-ops are its txn's."""
        t = int(self.table.txn[x])
        op = self._op(int(self.tc.mop_row[t]))
        return list(op.value[x - int(self.table.start[t])])

    def kv(self, x: int) -> tuple[Any, Any]:
        _, k, v = self.mop(x)
        return k, v

    def key(self, kid: int) -> Any:
        return self.tc.cols.keys[kid]

    def value_at(self, x: int) -> Any:
        """The value of table row x, from the columns."""
        cols = self.tc.cols
        r = int(self.table.row[x])
        return cols.value(int(cols.mop_tag[r]), int(cols.mop_value[r]))


def read_events(
    quote: Quoter,
    keys: TxnKeys,
    g1a: np.ndarray,
    g1a_writer: np.ndarray,
    g1b: np.ndarray,
    g1b_writer: np.ndarray,
    garbage: np.ndarray,
) -> Iterator[tuple[str, Anomaly]]:
    """(anomaly type, record) of every anomalous read, by reader, micro-op, and
    then future-read, internal, G1a / G1b (at most one of these per read), garbage-read."""
    events: list[tuple[int, int, str, int]] = []
    events += [(x, _FUTURE, "future-read", -1) for x in keys.future.tolist()]
    expected = keys.expected.tolist()
    events += [(x, _INTERNAL, "internal", i) for i, x in enumerate(keys.internal.tolist())]
    events += [(x, _READ, "G1a", w) for x, w in zip(g1a.tolist(), g1a_writer.tolist(), strict=True)]
    events += [(x, _READ, "G1b", w) for x, w in zip(g1b.tolist(), g1b_writer.tolist(), strict=True)]
    events += [(x, _GARBAGE, "garbage-read", -1) for x in garbage.tolist()]
    events.sort(key=lambda e: e[:2])
    for x, _, kind, extra in events:
        t = int(quote.table.txn[x])
        record: Anomaly = {"op": quote.op_json(t), "mop": quote.mop(x)}
        if kind == "internal":
            record["expected"] = quote.mop(expected[extra])[2]
        elif kind in ("future-read", "garbage-read"):
            record["element"] = record["mop"][2]
        else:
            record["writer"] = quote.op_json(extra)
            record["element"] = record["mop"][2]
        yield kind, record
