"""Plain words for the complete search's case splits (analysis/complete/cases.py):
each case, and the cycle it ends in."""

from __future__ import annotations

from typing import Any


def explain_split(item: dict[str, Any]) -> list[str]:
    """The lines of a finding that holds in every case of the open version orders."""
    from mvcc_check.report.text import _val, explain_cycle, op_text

    def node(n: dict[str, Any], depth: int) -> list[str]:
        pad = "  " * depth
        if "cycle" in n:
            return [pad + line for line in explain_cycle(n)] + [pad + f"(a {n['type']} cycle)"]
        a, b = n["writes"]
        lines = [
            pad + f"key {_val(n['key'])}: no read fixes the order of its writes "
            f"{_val(a['value'])} and {_val(b['value'])}:",
            pad + f"  {_val(a['value'])} written by {op_text(a['op'])}",
            pad + f"  {_val(b['value'])} written by {op_text(b['op'])}",
        ]
        for case in n["cases"]:
            other = b["value"] if case["first"] == a["value"] else a["value"]
            lines.append(pad + f"  if {_val(case['first'])} came before {_val(other)}:")
            lines.extend(node(case["then"], depth + 2))
        return lines

    lines = node(item["split"], 0)
    lines.append(
        f"so whichever order the writes took, the history shows a cycle {item['model']} forbids"
        + (
            f" ({' or '.join(item['case-types'])}, depending on the order)"
            if len(item.get("case-types", [])) > 1
            else ""
        )
    )
    return lines


def case_step_text(step: dict[str, Any], a: str, b: str, k: str, v1: str, v2: str) -> str:
    """A dependency that holds in the case at hand (an order no read fixed)."""
    from mvcc_check.report.text import op_text

    if step["type"] == "ww":
        return f"in this case {a}'s write of {v1} to key {k} came before {b}'s write of {v2}"
    writer = step.get("read-from")
    by = f" (written by {op_text(writer)})" if writer else ""
    return (
        f"{a} read key {k} = {v1}{by}, and in this case {b}'s write of {v2} came after that "
        f"version, so {a} did not see it"
    )


def over_budget_text(item: dict[str, Any]) -> list[str]:
    """A model the complete search left undecided, and the regions it could not finish."""
    regions = item.get("regions") or []
    sizes = ", ".join(
        f"{r['txns']} transactions with {r['open-pairs']} open pairs" for r in regions
    )
    why = item.get("why")
    return [
        f"{item['model']}: undecided"
        + (f" ({why})" if why else f": {len(regions)} region(s) over budget ({sizes})")
    ]
