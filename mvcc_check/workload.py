"""Random transaction generators, shared by the built-in engine and the database runners.

A transaction is a list of micro-ops as the checker reads them, with `None`
for read values (the system under test fills them in)::

    list-append:  [["append", 3, 7], ["r", 1, None], ...]
    rw-register:  [["w", 3, 7], ["r", 1, None], ...]

Written values are unique per key (a per-key counter from 1), which is what
lets the checker infer version orders. Keys are integers. As in Elle, only
`keys` keys are *active* at a time; a key that has received
`max_writes_per_key` writes is retired and replaced by a fresh key, so that
lists stay short and every key's history stays cheap to analyse.

Generation is deterministic for a given `WorkloadSpec` (it uses its own
`random.Random(seed)`, never the global RNG).

Typical use::

    spec = WorkloadSpec(workload="list-append", txns=1000, keys=8, seed=1)
    for txn in transactions(spec):
        ...
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from mvcc_check.history.ops import CLOSED_PREDICATE, WORKLOADS

KEY_DISTS = ("uniform", "skewed")

MicroOpList = list  # ["append"|"w"|"r", key, value-or-None]
TxnOps = list  # list of MicroOpList


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """What to generate.

    - `workload`: "list-append" or "rw-register".
    - `txns`: how many transactions in all.
    - `clients`: how many concurrent sessions run them (used by runners and
      the scheduler; the generator itself does not need it).
    - `keys`: how many keys are active at any time.
    - `mops_per_txn`: the largest number of micro-ops in a transaction (each
      transaction has between `min_mops_per_txn` and this many).
    - `read_fraction`: the probability that a micro-op is a read.
    - `key_dist`: "uniform", or "skewed" (Zipf-like: the first active key is
      chosen about `keys` times as often as the last).
    - `max_writes_per_key`: writes after which a key is retired and replaced
      by a fresh one (0: never retire).
    - `seed`: the random seed.
    """

    workload: str = "list-append"
    txns: int = 1000
    clients: int = 8
    keys: int = 8
    mops_per_txn: int = 4
    min_mops_per_txn: int = 1
    read_fraction: float = 0.5
    key_dist: str = "uniform"
    max_writes_per_key: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if self.workload not in WORKLOADS:
            raise ValueError(
                f"unknown workload {self.workload!r} (expected one of {', '.join(WORKLOADS)})"
            )
        if self.key_dist not in KEY_DISTS:
            raise ValueError(
                f"unknown key distribution {self.key_dist!r} (expected uniform or skewed)"
            )
        if self.txns < 0 or self.clients < 1 or self.keys < 1:
            raise ValueError("txns must be >= 0, clients and keys >= 1")
        if not 1 <= self.min_mops_per_txn <= self.mops_per_txn:
            raise ValueError("need 1 <= min_mops_per_txn <= mops_per_txn")
        if not 0.0 <= self.read_fraction <= 1.0:
            raise ValueError("read_fraction must be between 0 and 1")
        if self.max_writes_per_key < 0:
            raise ValueError("max_writes_per_key must be >= 0")

    @property
    def write_f(self) -> str:
        """The micro-op name of a write in this workload: "append" or "w"."""
        return "append" if self.workload == "list-append" else "w"


class TxnGenerator:
    """An endless, deterministic source of transactions for one spec.

    `next_txn()` returns the next transaction; iterating yields exactly
    `spec.txns` of them. Each call returns fresh lists the caller may keep.
    """

    __slots__ = ("spec", "_rng", "_active", "_writes", "_next_value", "_next_key", "_cum")

    def __init__(self, spec: WorkloadSpec) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed)
        self._active: list[int] = list(range(spec.keys))
        self._next_key = spec.keys
        self._writes: dict[int, int] = {}  # writes so far per active key
        self._next_value: dict[int, int] = {}  # next unique value per key
        self._cum: list[float] | None = None
        if spec.key_dist == "skewed":
            self._cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(spec.keys)))

    def _pick_slot(self) -> int:
        rng = self._rng
        if self._cum is None:
            return rng.randrange(self.spec.keys)
        return bisect.bisect_right(self._cum, rng.random() * self._cum[-1])

    def next_txn(self) -> TxnOps:
        spec = self.spec
        rng = self._rng
        n = rng.randint(spec.min_mops_per_txn, spec.mops_per_txn)
        wf = spec.write_f
        out: TxnOps = []
        for _ in range(n):
            slot = self._pick_slot()
            k = self._active[slot]
            if rng.random() < spec.read_fraction:
                out.append(["r", k, None])
                continue
            v = self._next_value.get(k, 1)
            self._next_value[k] = v + 1
            out.append([wf, k, v])
            w = self._writes.get(k, 0) + 1
            self._writes[k] = w
            if spec.max_writes_per_key and w == spec.max_writes_per_key:
                # Retire the key at once: no key ever gets more writes than the limit.
                del self._writes[k]
                del self._next_value[k]
                self._active[slot] = self._next_key
                self._next_key += 1
        return out

    def __iter__(self) -> Iterator[TxnOps]:
        for _ in range(self.spec.txns):
            yield self.next_txn()


def workload_generator(spec: WorkloadSpec):
    """The spec's transaction source: TxnGenerator, or for closed-predicate its own
    (whose first transaction is the init op; see `predicate_workload`)."""
    if spec.workload == CLOSED_PREDICATE:
        from mvcc_check.predicate_workload import PredicateTxnGenerator

        return PredicateTxnGenerator(spec)
    return TxnGenerator(spec)


def transactions(spec: WorkloadSpec) -> Iterator[TxnOps]:
    """Yield `spec.txns` transactions (lists of `[f, k, v]` micro-ops), deterministically."""
    return iter(TxnGenerator(spec))
