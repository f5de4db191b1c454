"""Why one closed-predicate transaction precedes another: Elle's step records.

Item reasons come first (as Elle's explainers try them): a wr step is a wrp step
only when no item read explains it, and an rw step an rwp step only when no item
read does (and only in the search that may use predicate anti-dependencies)."""

from __future__ import annotations

from typing import Any

from mvcc_check.analysis.graph import RW, WR, WW

_ORDER = {WW: ("ww",), WR: ("wr", "wrp")}


class PredicateExplainer:
    def __init__(self, reasons: dict[tuple[int, int, str], dict[str, Any]], predicate: bool):
        self.reasons = reasons
        self.predicate = predicate

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
        return PredicateExplainer(self.reasons, predicate=True)
