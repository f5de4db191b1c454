"""What the HTML and JUnit renderers are fed: the JSON documents the commands
already make (result_json and the command's own keys), plus where to find each
history's ops for the timelines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mvcc_check.report.cycle_graph import example_ops
from mvcc_check.report.faults import Fault, faults_of, scan_nemesis_ops
from mvcc_check.report.invocations import find_invocations
from mvcc_check.report.per_model import EXAMPLES_PER_TYPE, anomaly_items


@dataclass
class HistoryReport:
    """One judged history (or one that could not be used).

    `doc` is result_json(result), possibly with the command's keys ("engine",
    "run", "hermitage"), or {"history", "valid?": "unknown", "error"}.
    `invocations` maps the completion index of each op drawn in a timeline to its
    invocation (found in the history's ops when the report is made, so the ops
    need not be kept); a bar with none starts at its completion.
    `expect_violation` marks a matrix run with a deliberate bug: the claim
    must be broken (caught), so a violation passes its JUnit testcase.
    """

    doc: dict[str, Any]
    invocations: dict[int, dict] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # anomalies found of each type
    models: tuple[str, ...] = ()
    title: str | None = None
    expect_violation: bool = False
    in_html: bool = True

    @property
    def name(self) -> str:
        return self.title or str(self.doc.get("history") or "history")


@dataclass
class Report:
    """Everything one command judged. `summary` is the command's own table data:
    run: {"engine": ...}; test: nothing (each doc has "run"); matrix: {"rows": [...],
    "params": {...}}; hermitage: the command's JSON document."""

    command: str
    histories: list[HistoryReport] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        doc: dict[str, Any],
        ops: Sequence[Any] | None = None,
        history_file: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a judged history; `ops` (dicts or op objects) give the timelines' invocations,
        the history file its faults (nemesis ops, which the checker does not keep)."""
        wanted = [
            op.get("index")
            for kind in doc.get("anomaly-types") or []
            for rec in anomaly_items(doc, kind)[:EXAMPLES_PER_TYPE]
            for op in (
                rec["cycle"] if isinstance(rec, dict) and "cycle" in rec else example_ops(rec)
            )
        ]
        invocations = find_invocations(ops, wanted) if wanted else {}
        faults = faults_of(scan_nemesis_ops(history_file)) if wanted and history_file else []
        counts = {kind: len(anomaly_items(doc, kind)) for kind in doc.get("anomaly-types") or []}
        doc = _examples_only(doc)
        self.histories.append(HistoryReport(doc, invocations, faults, counts, **kw))


def _examples_only(doc: dict[str, Any]) -> dict[str, Any]:
    """The doc with each anomaly list cut to the examples shown, so that a report of many
    big histories does not keep every cycle of each (the counts are kept apart)."""
    anomalies = doc.get("anomalies")
    if not anomalies:
        return doc
    cut = {k: v[:EXAMPLES_PER_TYPE] if isinstance(v, list) else v for k, v in anomalies.items()}
    return {**doc, "anomalies": cut}
