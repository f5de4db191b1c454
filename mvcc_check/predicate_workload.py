"""Transactions of Elle's closed-predicate workload, for the engine and the database runners.

Facts from Elle's generator (elle.closed-predicate/gen): a universe of keys, a
third of them created by the init op (value 0 or 1) to be written later, a third
created by init to be deleted later, a third absent to be inserted later; each key
is changed exactly once, by the next transaction that takes it; the other
micro-ops are item reads of any key and predicate reads. Changed values count up
from 2, so every version of a key differs from the others.

The first transaction is the init op, as the pseudo-transaction
`[["init", None, {key: value}]]` (the engine and the runners load it before the
clients start and record it as Elle's `{"f": "init", "value": {...}}`). Once
every key has changed, transactions only read.

Predicates: `true`, `[= v]` and `[mod m r]` (m 2 or 3), read in SQL as
`SELECT ... WHERE value % m = r`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

MAX_UNIVERSE = 500  # every predicate read scans the whole universe


def universe_size(keys: int, txns: int) -> int:
    """Keys in the universe: enough for every transaction to change about one."""
    return max(keys, min(txns, MAX_UNIVERSE))


def key_role(k: int) -> str:
    return ("insert", "w", "delete")[k % 3]


def random_predicate(rng: random.Random) -> Any:
    x = rng.randrange(4)
    if x == 0:
        return ["=", rng.randrange(2)]
    if x == 1:
        return ["mod", 2, rng.randrange(2)]
    if x == 2:
        return ["mod", 3, rng.randrange(3)]
    return "true"  # Elle's :true


class PredicateTxnGenerator:
    """Deterministic transactions for a WorkloadSpec of workload closed-predicate."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed)
        self.universe = universe_size(spec.keys, spec.txns)
        order = list(range(self.universe))
        self._rng.shuffle(order)
        self._todo = order  # keys not changed yet, in the order they will be
        self._next = 2
        self.init = {
            k: self._rng.randrange(2) for k in range(self.universe) if key_role(k) != "insert"
        }

    def next_txn(self) -> list[list[Any]]:
        spec, rng = self.spec, self._rng
        out: list[list[Any]] = []
        for _ in range(rng.randint(spec.min_mops_per_txn, spec.mops_per_txn)):
            x = rng.random()
            if x < spec.read_fraction / 2:
                out.append(["r", rng.randrange(self.universe), None])
            elif x < spec.read_fraction or not self._todo:
                out.append(["rp", random_predicate(rng), None])
            else:
                k = self._todo.pop()
                role = key_role(k)
                if role == "delete":
                    out.append(["delete", k, None])
                else:
                    out.append([role, k, self._next])
                    self._next += 1
        return out

    def __iter__(self) -> Iterator[list[list[Any]]]:
        yield [["init", None, dict(self.init)]]
        for _ in range(self.spec.txns):
            yield self.next_txn()


def is_init(txn: list[list[Any]]) -> bool:
    return len(txn) == 1 and txn[0][0] == "init"


def init_value(txn: list[list[Any]]) -> dict[str, Any]:
    """The init op's value as recorded: JSON keys are strings."""
    return {str(k): v for k, v in txn[0][2].items()}
