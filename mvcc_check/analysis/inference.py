"""What every workload's inference returns: graph edges, anomalies, an explainer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mvcc_check.analysis.graph import EdgeBuilder

Anomaly = dict[str, Any]
"""One anomaly record, JSON-ready, with elle-cli's keys (op, mop, writer, key, ...)."""


class PairExplainer(Protocol):
    def explain(self, a: int, b: int, rel: int) -> dict[str, Any] | None:
        """Why transaction a precedes b by relation rel (one bit), or None if it does not."""

    def committed_because(self, t: int) -> dict[str, Any] | None:
        """Why indeterminate (info) transaction t committed: a committed read that
        observed one of its writes ({key, value, reader: the reader's op, mop-index:
        the read's index in it}); None if no read did."""


@dataclass
class Inference:
    edges: EdgeBuilder
    anomalies: dict[str, list[Anomaly]]
    explainer: PairExplainer
