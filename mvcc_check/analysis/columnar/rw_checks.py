"""Input rules of an rw-register history, checked over the micro-op table.

The same rules, in the same order, as the per-op inference: first, over the
whole history in transaction order, appends (a list-append micro-op),
writes of a non-scalar (nil, a list, a map) and a value written to a key a
second time; then reads that returned a list or a map. The first problem
raises HistoryError naming the op and the values as written (quoted from the
op itself, so exactly); a value written twice raises its subclass
NonUniqueWrites, which also names every key concerned (see excluded.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mvcc_check.analysis.columnar.excluded import NonUniqueWrites, repeated, values_of
from mvcc_check.analysis.columnar.rw_table import MopTable
from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import APPEND, ATOM, LIST, NIL, READ
from mvcc_check.history.pairing import TxnColumns


def container_atoms(atoms: list[Any], table: MopTable, values: np.ndarray) -> np.ndarray:
    """Per table row: an atom that is a list or a map (no register value)."""
    is_atom = table.tag == ATOM
    if not is_atom.any():
        return np.zeros(len(table), bool)
    bad = np.fromiter((isinstance(a, list | dict) for a in atoms), bool, len(atoms))
    if not bad.any():
        return np.zeros(len(table), bool)
    out = np.zeros(len(table), bool)
    out[is_atom] = bad[values[is_atom]]
    return out


def check_input(tc: TxnColumns, table: MopTable) -> None:
    """Raise HistoryError for the first broken input rule; return if there is none.
    When it is a value written twice, NonUniqueWrites (a HistoryError) names
    every key with repeated writes and the first other problem, if any."""
    cols = tc.cols
    container = container_atoms(cols.atoms, table, cols.mop_value[table.row])
    tag = table.tag
    is_w = np.zeros(len(table), bool)
    is_w[table.writes] = True
    bad_write = is_w & ((tag == NIL) | (tag == LIST) | container)
    first_of: dict[str, int] = {}
    for name, mask in (("append", table.kind == APPEND), ("write", bad_write)):
        hits = np.flatnonzero(mask)
        if len(hits):
            first_of[name] = int(hits[0])
    good_w = is_w & ~bad_write
    dup, prev = _first_repeat(table, good_w)
    if dup is not None:
        first_of["repeat"] = dup
    bad_read = (table.kind == READ) & ((tag == LIST) | container)
    hits = np.flatnonzero(bad_read)
    read_error = _read_error(tc, table, int(hits[0])) if len(hits) else None
    if not first_of:
        if read_error is not None:
            raise read_error
        return
    name, x = min(first_of.items(), key=lambda kv: kv[1])
    if name != "repeat":
        raise _pass1_error(tc, table, name, x, None)
    assert prev is not None
    others = [kv for kv in first_of.items() if kv[0] != "repeat"]
    other = _pass1_error(tc, table, *min(others, key=lambda kv: kv[1]), None) if others else None
    w = np.flatnonzero(good_w)
    keys, records = repeated(
        tc,
        table.vid[w].astype(np.int64),
        table.key[w],
        table.txn[w],
        values_of(tc, tag[w], cols.mop_value[table.row[w]]),
    )
    raise NonUniqueWrites(
        _pass1_error(tc, table, name, x, prev), keys, records, other or read_error
    )


def _pass1_error(
    tc: TxnColumns, table: MopTable, name: str, x: int, prev: int | None
) -> HistoryError:
    """The error for table row x: an append, a non-scalar write, or (prev: its first writer) a repeat."""
    cols = tc.cols
    t = int(table.txn[x])
    k, v = _kv(tc, table, x)
    if name == "append":
        why = "an append in an rw-register history: mixed workloads"
    elif name == "write":
        why = f"write of {v!r} to key {k!r}: register writes must be scalars"
    else:
        assert prev is not None
        p = int(table.txn[prev])
        why = (
            f"value {v!r} is written to key {k!r} twice (also by the op at "
            f"{cols.where(tc.op_row(p))}); rw-register needs unique writes per key"
        )
    return HistoryError(cols.source, cols.where(tc.op_row(t)), why)


def _read_error(tc: TxnColumns, table: MopTable, x: int) -> HistoryError:
    k, v = _kv(tc, table, x)
    return HistoryError(
        tc.cols.source,
        tc.cols.where(tc.op_row(int(table.txn[x]))),
        f"read of key {k!r} returned {v!r}: a register read returns one value",
    )


def _first_repeat(table: MopTable, writes: np.ndarray) -> tuple[int | None, int | None]:
    """(the first table row writing a version written before, the row that wrote it first)."""
    w = np.flatnonzero(writes)
    vids = table.vid[w]
    if not len(w) or np.bincount(vids, minlength=table.n_vids).max() < 2:
        return None, None
    order = np.argsort(vids, kind="stable")
    sv = vids[order]
    again = np.flatnonzero(sv[1:] == sv[:-1]) + 1  # sorted positions of repeats
    at = w[order[again]]
    i = int(np.argmin(at))
    j = int(again[i])
    first = int(np.searchsorted(sv, sv[j]))  # the run of sv[j] starts at its first writer
    return int(at[i]), int(w[order[first]])


def _kv(tc: TxnColumns, table: MopTable, x: int) -> tuple[Any, Any]:
    """Key and value of table row x, as the op wrote them."""
    t = int(table.txn[x])
    op = tc.cols.op(int(tc.mop_row[t]))
    _, k, v = op.value[x - int(table.start[t])]
    return k, v
