"""Why one closed-predicate transaction precedes another: Elle's step records.

Item reasons come first (as Elle's explainers try them): a wr step is a wrp step
only when no item read explains it, and an rw step an rwp step only when no item
read does (and only in the search that may use predicate anti-dependencies).

An indeterminate (info) transaction is on a cycle only through a committed read of
one of its changes (its only edges out are wr and wrp: each key changes once, after
the init op, and what info transactions read is no evidence); that read is the
proof that it committed, an item read first, then a predicate read that returned
the row, then one that saw the change by not returning it (the closed universe)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mvcc_check.analysis.graph import RW, WR, WW

_ORDER = {WW: ("ww",), WR: ("wr", "wrp")}


class PredicateExplainer:
    def __init__(
        self,
        reasons: dict[tuple[int, int, str], dict[str, Any]],
        predicate: bool,
        op: Callable[[int], dict[str, Any]],
    ):
        self.reasons = reasons
        self.predicate = predicate
        self.op = op  # a transaction's completion op, as quoted
        self._proofs: dict[int, tuple[int, int, dict[str, Any]]] | None = None

    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        kinds = ("rw", "rwp") if self.predicate else ("rw",)
        for typ in kinds if rel == RW else _ORDER.get(rel, ()):
            r = self.reasons.get((a, b, typ))
            if r is not None:
                return dict(r)
        return None

    def forget(self) -> None:
        """Nothing to drop: the reasons were collected once, for every edge."""

    def with_predicates(self) -> PredicateExplainer:
        return PredicateExplainer(self.reasons, predicate=True, op=self.op)

    def committed_because(self, t: int) -> dict[str, Any] | None:
        """The committed read that saw one of info txn t's changes (see the module
        docstring); None if none did."""
        if self._proofs is None:
            self._proofs = {}
            for (a, b, typ), r in self.reasons.items():
                if typ not in ("wr", "wrp"):
                    continue
                rank = 0 if typ == "wr" else 1 if r.get("returned?") else 2
                best = self._proofs.get(a)
                if best is None or (rank, b) < best[:2]:
                    self._proofs[a] = (rank, b, r)
        found = self._proofs.get(t)
        if found is None:
            return None
        _, reader, r = found
        return {
            "key": r["key"],
            "value": r["value"],
            "reader": self.op(reader),
            "mop-index": r["b-mop-index"],
        }
