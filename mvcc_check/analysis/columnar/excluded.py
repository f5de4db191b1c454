"""Keys whose writes are not unique, and the history without them.

Both workloads need each value written (appended) at most once per key: a
read then names its one writer. A history that breaks the rule on some keys
can still be judged on the others. The inferences report the breach as
`NonUniqueWrites` (its message is the first repeat, as a strict reading
refuses it, and it names every such key); `without_keys` then turns every
micro-op on those keys into a read of nil on a key nobody writes, which no
rule of either inference draws an edge or an anomaly from (no writer, no
version, nothing to contradict), while the transactions themselves, their
positions, and their process and realtime order stay as they were.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import NIL, READ
from mvcc_check.history.pairing import TxnColumns

REASON = "values written more than once to the key (the inference needs each value written once)"


class NonUniqueWrites(HistoryError):
    """Some keys have a value written (appended) twice, and the history has no
    other input problem than that (`other`: the first other one, else None).

    keys: the key ids concerned, in the order of their first repeat;
    records: per key, JSON-ready: the key, the first value repeated, where it
    was written first and again, and how many of its values are repeated."""

    def __init__(
        self,
        first: HistoryError,
        keys: list[int],
        records: list[dict[str, Any]],
        other: HistoryError | None,
    ) -> None:
        super().__init__(first.source, first.where, first.why)
        self.keys = keys
        self.records = records
        self.other = other


def repeated(
    tc: TxnColumns, ident: np.ndarray, key: np.ndarray, txn: np.ndarray, values: list[Any]
) -> tuple[list[int], list[dict[str, Any]]]:
    """The keys with a repeated write and a record for each (see NonUniqueWrites).

    ident: per write (in history order) an id equal exactly for equal (key,
    value), -1 to skip; key, txn: its key id and transaction; values[i]: the
    value write i wrote (read only for the few quoted)."""
    w = np.flatnonzero(ident >= 0)
    o = w[np.argsort(ident[w], kind="stable")]
    s = ident[o]
    again = np.flatnonzero(s[1:] == s[:-1]) + 1
    second = o[again]
    first = o[np.searchsorted(s, s[again])]
    k = key[second]
    per_value = np.flatnonzero(np.r_[True, s[again][1:] != s[again][:-1]])  # each value once
    counts = np.bincount(k[per_value], minlength=int(key.max()) + 1 if len(key) else 0)
    by = np.lexsort((second, k))
    heads = by[np.flatnonzero(np.r_[True, k[by][1:] != k[by][:-1]])]  # each key's first repeat
    heads = heads[np.argsort(second[heads], kind="stable")]
    cols = tc.cols
    keys, records = [], []
    for h in heads.tolist():
        kid = int(k[h])
        keys.append(kid)
        records.append(
            {
                "key": cols.keys[kid],
                "value": values[int(second[h])],
                "first": cols.where(tc.op_row(int(txn[first[h]]))),
                "again": cols.where(tc.op_row(int(txn[second[h]]))),
                "repeated-values": int(counts[kid]),
            }
        )
    return keys, records


class _Values:
    """values[i] for write i: the Python value, computed on demand."""

    def __init__(self, tc: TxnColumns, tag: np.ndarray, val: np.ndarray) -> None:
        self.tc, self.tag, self.val = tc, tag, val

    def __getitem__(self, i: int) -> Any:
        return self.tc.cols.value(int(self.tag[i]), int(self.val[i]))


def values_of(tc: TxnColumns, tag: np.ndarray, val: np.ndarray) -> Any:
    """`values` for `repeated` from the (tag, value) columns of the writes."""
    return _Values(tc, tag, val)


def without_keys(tc: TxnColumns, keys: list[int]) -> TxnColumns:
    """The transactions with every micro-op on `keys` a read of nil (the caller's
    columns are not changed)."""
    cols = tc.cols
    mask = np.zeros(len(cols.keys), bool)
    mask[keys] = True
    rows = np.flatnonzero(mask[cols.mop_key])
    kind, tag, value = cols.mop_kind.copy(), cols.mop_tag.copy(), cols.mop_value.copy()
    kind[rows], tag[rows], value[rows] = READ, NIL, 0
    return replace(tc, cols=replace(cols, mop_kind=kind, mop_tag=tag, mop_value=value))


def keys_left(tc: TxnColumns, keys: list[int]) -> int:
    """How many keys the transactions touch besides `keys`."""
    rows, _ = tc.mop_txn()
    touched = np.zeros(len(tc.cols.keys), bool)
    touched[tc.cols.mop_key[rows]] = True
    touched[keys] = False
    return int(touched.sum())
