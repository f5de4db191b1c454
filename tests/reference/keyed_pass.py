"""The per-op inference's shared pass (the reference checker's; see __init__)."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from mvcc_check.analysis.inference import Anomaly, Inference, PairExplainer  # noqa: F401
from reference.txns import Txn

Event = tuple[int, int, int, str, Anomaly]
"""(reader txn, micro-op index, rank within the read, anomaly kind, record)."""


def as_array(a: array | bytearray, dtype: Any) -> np.ndarray:
    """A numpy view of a pass's flat record array (an empty array if there is none)."""
    return np.frombuffer(a, dtype=dtype) if len(a) else np.zeros(0, dtype)


class Malformed(Exception):
    """The history breaks an input rule; the workload's first-error check names the first problem."""


class KeyedPass:
    """What every workload's single pass over the micro-ops keeps, by dense key ids:
    each key's writers, transaction statuses, and one record per read."""

    def __init__(self) -> None:
        self.key_ids: dict[Any, int] = {}
        self.keys: list[Any] = []  # key id -> key
        self.wdicts: list[dict[Any, int] | None] = []  # key id -> {written value: writer txn id}
        self.writers: dict[Any, dict[Any, int]] = {}  # key -> the same dict, in first-write order
        self.intermediate: dict[
            int, set[Any]
        ] = {}  # key id -> values a later write of the same txn followed
        self.status = bytearray()  # txn id -> OK / INFO / FAIL
        self.touched: list[
            int | None
        ] = []  # key id -> the last txn that touched it (non-committed: wrote)
        # One record per read, in history order; int32: ids and indexes below 2**31.
        self.r_tid = array("i")
        self.r_mop = array("i")
        self.r_kid = array("i")
        self.events: list[Event] = []

    def kid(self, k: Any) -> int:
        """The dense id of key k, made on first sight."""
        kid = self.key_ids.get(k)
        if kid is None:
            kid = self.key_ids[k] = len(self.keys)
            self.keys.append(k)
            self.wdicts.append(None)
            self.touched.append(None)
            self.new_key()
        return kid

    def new_key(self) -> None:
        """Extend the workload's own per-key lists for a key just seen."""

    def register(self, kid: int, v: Any, tid: int) -> None:
        """Record txn tid as the writer of v on key kid; a value written twice is malformed."""
        wk = self.wdicts[kid]
        if wk is None:
            wk = self.wdicts[kid] = {}
            self.writers[self.keys[kid]] = wk
        if v in wk:
            raise Malformed
        wk[v] = tid


def op_json(t: Txn) -> dict[str, Any]:
    return t.op.to_json()
