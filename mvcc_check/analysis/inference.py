"""What every workload's inference returns: graph edges, anomalies, an explainer."""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def forget(self) -> None:
        """Drop what was decoded about the transactions explained so far (the search
        calls this between components, which share no transaction)."""


@dataclass
class Inference:
    edges: EdgeBuilder
    anomalies: dict[str, list[Anomaly]]
    explainer: PairExplainer
    # Keys left out because their writes are not unique (one record each), and
    # how many keys the judgement still covers (None: none was left out).
    excluded_keys: list[Anomaly] = field(default_factory=list)
    keys_left: int | None = None
