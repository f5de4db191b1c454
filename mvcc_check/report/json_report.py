"""elle-cli compatible JSON: valid?, anomaly-types, anomalies, not, also-not."""

from __future__ import annotations

from typing import Any

import orjson

from mvcc_check.analysis.checker import Result


def result_json(result: Result) -> dict[str, Any]:
    out = result.to_json()
    out["history"] = result.source
    out["workload"] = result.workload
    out["models"] = list(result.models)
    out["stats"] = result.stats
    return out


def dumps(doc: Any) -> str:
    return orjson.dumps(
        doc, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2, default=_default
    ).decode()


def _default(x: Any) -> Any:
    if isinstance(x, set | frozenset | tuple):
        return list(x)
    raise TypeError(f"cannot encode {type(x).__name__}")
