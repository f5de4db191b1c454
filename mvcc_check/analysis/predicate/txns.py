"""The closed-predicate workload's transactions, read from the columns.

These histories are small (each key changes at most once), so the workload works
on plain Python values: per transaction its micro-ops (kind, key, value), keys as
the history wrote them, with one rule for JSON: the keys of a map (an init op's,
a predicate read's result) are strings there, so a key written as a decimal
integer string stands for that integer key everywhere (mops and maps alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mvcc_check.analysis.predicate.universe import DEAD, Change, parse_predicate
from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import (
    APPEND,
    DELETE,
    FAIL,
    INIT,
    INSERT,
    OK,
    PREAD,
    WRITE,
)
from mvcc_check.history.pairing import TxnColumns

_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\Z")


@dataclass
class Mop:
    kind: int
    key: Any  # the predicate (normalised) for PREAD, None for INIT
    value: Any
    row: int  # the micro-op's row in the columns


@dataclass
class PTxn:
    t: int
    status: int
    mops: list[Mop]
    where: str


def _key_reader(json_keys: bool):
    def key(k: Any) -> Any:
        if json_keys and type(k) is str and _DECIMAL.match(k):
            return int(k)
        return k

    return key


def read_txns(tc: TxnColumns) -> list[PTxn]:
    """Every transaction with its micro-ops; HistoryError for a micro-op this workload
    cannot take (an append, a malformed predicate or map)."""
    cols = tc.cols
    key = _key_reader(cols.format in ("json", "jsonl"))
    out: list[PTxn] = []
    for t in range(tc.n):
        lo, hi = tc.mop_range(t)
        where = cols.where(tc.op_row(t))
        mops: list[Mop] = []
        for j in range(lo, hi):
            kind = int(cols.mop_kind[j])
            raw_key = cols.keys[cols.mop_key[j]]
            v = cols.value(int(cols.mop_tag[j]), int(cols.mop_value[j]))
            if kind == APPEND or type(v) is list and kind != PREAD:
                raise HistoryError(
                    cols.source,
                    where,
                    f"micro-op {j - lo} {cols.mop(j)!r} is not of the closed-predicate workload "
                    "(insert, delete, w, r, rp and an init op)",
                )
            if kind == PREAD:
                try:
                    pred = parse_predicate(raw_key)
                except ValueError as e:
                    raise HistoryError(cols.source, where, f"micro-op {j - lo}: {e}") from None
                mops.append(Mop(kind, pred, _map(v, key, cols.source, where, j - lo), j))
            elif kind == INIT:
                if hi - lo != 1:
                    raise HistoryError(cols.source, where, "an init op holds only its map")
                mops.append(Mop(kind, None, _map(v, key, cols.source, where, 0), j))
            else:
                if kind in (INSERT, WRITE) and v is None and tc.status[t] != FAIL:
                    raise HistoryError(
                        cols.source, where, f"micro-op {j - lo} writes nil: a value is needed"
                    )
                mops.append(Mop(kind, key(raw_key), v, j))
        out.append(PTxn(t, int(tc.status[t]), mops, where))
    return out


def _map(v: Any, key, source: str, where: str, i: int) -> dict | None:
    if v is None:
        return None
    if type(v) is not dict:
        raise HistoryError(source, where, f"micro-op {i}: expected a map of keys to values")
    return {key(k): x for k, x in v.items()}


def changes_of(
    txns: list[PTxn], source: str
) -> tuple[list[tuple[int, dict]], list[Change], list[Change]]:
    """(init maps of ok/info inits, changes by ok/info txns, changes by failed txns)."""
    init: list[tuple[int, dict]] = []
    changes: list[Change] = []
    failed: list[Change] = []
    for tx in txns:
        for i, m in enumerate(tx.mops):
            if m.kind == INIT:
                if tx.status != FAIL:
                    if m.value is None:
                        raise HistoryError(source, tx.where, "an init op without its map")
                    init.append((tx.t, m.value))
            elif m.kind in (INSERT, WRITE, DELETE):
                c = Change(m.key, DEAD if m.kind == DELETE else m.value, tx.t, i, tx.where)
                (failed if tx.status == FAIL else changes).append(c)
    return init, changes, failed


def is_ok(tx: PTxn) -> bool:
    return tx.status == OK
