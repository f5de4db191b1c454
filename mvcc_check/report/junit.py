"""JUnit XML, as GitHub Actions, GitLab and Jenkins read it: one testsuite per
history (or run), one testcase per requested model, named by the model, with
the history as its classname. A violated model is a `failure` naming the
anomaly types, with the first explanation as its text; unusable input is an
`error`; an undecided verdict is `skipped` with the reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from mvcc_check.report.bundle import HistoryReport, Report
from mvcc_check.report.per_model import ModelVerdict, anomaly_items, model_verdicts
from mvcc_check.report.text import explain_anomaly

MAX_FAILURE_LINES = 40


def first_explanation(doc: dict[str, Any], types: tuple[str, ...]) -> str:
    for kind in types:
        items = anomaly_items(doc, kind)
        if items:
            lines = explain_anomaly(kind, items[0])[:MAX_FAILURE_LINES]
            return f"{kind}:\n" + "\n".join("  " + line for line in lines)
    return ""


def _case(suite: ET.Element, h: HistoryReport, v: ModelVerdict) -> str:
    """Add the model's testcase; return its outcome (passed, failure, error, skipped)."""
    case = ET.SubElement(suite, "testcase", name=v.model, classname=h.name, time="0")
    if v.status == "error":
        ET.SubElement(case, "error", message=v.reason, type="unusable-input").text = v.reason
        return "error"
    if v.status == "undecided":
        ET.SubElement(case, "skipped", message=f"undecided: {v.reason}")
        return "skipped"
    violated = v.status == "invalid"
    if h.expect_violation:
        case.set("name", f"{v.model} (broken by the deliberate bug)")
        if not violated:
            msg = f"missed: the deliberate bug broke nothing {v.model} forbids"
            ET.SubElement(case, "failure", message=msg, type="missed-bug").text = msg
            return "failure"
        return "passed"
    if violated:
        msg = f"{v.model} violated: {', '.join(v.anomaly_types)}"
        failure = ET.SubElement(case, "failure", message=msg, type=v.anomaly_types[0])
        failure.text = first_explanation(h.doc, v.anomaly_types)
        return "failure"
    if v.reason:  # a valid verdict over only some keys: said beside the pass
        ET.SubElement(case, "system-out").text = v.reason
    return "passed"


def _hermitage_case(suite: ET.Element, h: HistoryReport) -> str | None:
    info = h.doc.get("hermitage")
    if not info:
        return None
    case = ET.SubElement(
        suite, "testcase", name="checker agrees with the scenario", classname=h.name, time="0"
    )
    if info.get("agrees"):
        return "passed"
    msg = (
        f"{info.get('scenario')} at {info.get('isolation')}: the database showed "
        f"{info.get('result')}, the checker found {', '.join(h.doc.get('all-anomaly-types', [])) or 'nothing'}"
    )
    ET.SubElement(case, "failure", message=msg, type="disagreement").text = msg
    return "failure"


def junit_xml(report: Report) -> str:
    """The whole report as a <testsuites> document."""
    root = ET.Element("testsuites", name=f"mvcc-check {report.command}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for h in report.histories:
        suite = ET.SubElement(root, "testsuite", name=h.name)
        outcomes = [_case(suite, h, v) for v in model_verdicts(h.doc, h.models)]
        extra = _hermitage_case(suite, h)
        if extra:
            outcomes.append(extra)
        counts = {
            "tests": len(outcomes),
            "failures": outcomes.count("failure"),
            "errors": outcomes.count("error"),
            "skipped": outcomes.count("skipped"),
        }
        for k, n in counts.items():
            suite.set(k, str(n))
            totals[k] += n
        seconds = (h.doc.get("run") or h.doc.get("engine") or {}).get("seconds") or 0
        suite.set("time", f"{seconds:.3f}")
    for k, n in totals.items():
        root.set(k, str(n))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
