"""A verdict per requested model, from a result's JSON form.

The checker's verdict covers all requested models at once; the HTML report and
JUnit want one line (one testcase) per model: violated when the history shows an
anomaly that model forbids, undecided when the verdict is unknown and nothing
it forbids was found, an error when the history could not be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mvcc_check.analysis.anomalies import adya_sort_key
from mvcc_check.analysis.checker import Verdict
from mvcc_check.analysis.explain import DESCRIPTIONS
from mvcc_check.analysis.models import prohibited_anomalies


@dataclass(frozen=True)
class ModelVerdict:
    model: str
    status: str  # "valid", "invalid", "undecided" or "error"
    anomaly_types: tuple[str, ...] = ()
    reason: str = ""


EXAMPLES_PER_TYPE = (
    5  # examples shown (cycles drawn) per anomaly type and history; counts stay complete
)


def anomaly_items(doc: dict[str, Any], kind: str) -> list[Any]:
    """The found anomalies of one type (a list even where the JSON holds one record)."""
    items = (doc.get("anomalies") or {}).get(kind, [])
    return items if isinstance(items, list) else [items]


def cycle_records(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in anomaly_items(doc, kind) if isinstance(r, dict) and "cycle" in r]


def model_verdicts(doc: dict[str, Any], models: tuple[str, ...] = ()) -> list[ModelVerdict]:
    """One verdict per model of the result (or `models` when the doc names none)."""
    names = tuple(doc.get("models") or models) or ("(no model)",)
    if "error" in doc:
        return [ModelVerdict(m, "error", reason=str(doc["error"])) for m in names]
    verdict = Verdict.from_json(doc.get("valid?"))
    found = list(doc.get("anomaly-types") or [])
    partial = partial_note(doc)
    if verdict is Verdict.VALID:
        return [ModelVerdict(m, "valid", reason=partial) for m in names]
    if partial and (doc.get("excluded-keys") or {}).get("keys-left") == 0:
        return [ModelVerdict(m, "undecided", reason=partial) for m in names]
    out = []
    for m in names:
        forbidden = prohibited_anomalies([m])
        types = tuple(a for a in found if a in forbidden)
        if types:
            out.append(ModelVerdict(m, "invalid", types))
        elif verdict is Verdict.INVALID:
            out.append(ModelVerdict(m, "valid"))
        else:
            out.append(ModelVerdict(m, "undecided", reason=undecided_reason(found)))
    if verdict is Verdict.INVALID and not any(v.status == "invalid" for v in out):
        # forbidden by an extra option (--anomaly), not by one model: every model fails with it
        out = [ModelVerdict(v.model, "invalid", tuple(found)) for v in out]
    return out


def partial_note(doc: dict[str, Any]) -> str:
    """What a verdict over only some keys covers ("" when no key was left out)."""
    ex = doc.get("excluded-keys")
    if not ex:
        return ""
    if ex["keys-left"] == 0:
        return f"nothing judged: every key ({ex['count']}) was left out, its writes not unique"
    return (
        f"judged only on the {ex['keys-left']} keys left in: {ex['count']} left out, "
        "their writes not unique"
    )


def undecided_reason(found: list[str]) -> str:
    reasons = [f"{a}: {DESCRIPTIONS.get(a, a)}" for a in found] or ["the checker could not decide"]
    return "; ".join(reasons)


anomaly_sort_key = adya_sort_key
"""Adya's order (G0, G1a ... G2-item, lost-update), then the rest by name."""
