"""mvcc-check: find isolation anomalies in transaction histories.

The small public API::

    from mvcc_check import load_history, check, CheckOptions
    result = check(load_history("history.edn"), CheckOptions(models=("serializable",)))
    result.verdict, result.valid, result.anomaly_types, result.to_json()
    judge(ops, CheckOptions(...))  # ops held in memory, as a recorder keeps them

Names are imported on first use, so that `mvcc-check` can start (and be
interrupted) before numpy loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "CheckOptions",
    "HistoryError",
    "MvccCheckError",
    "OptionError",
    "Result",
    "Verdict",
    "TransactionOrder",
    "check",
    "judge",
    "load_history",
    "parse_history_text",
]

_HOMES = {
    "CheckOptions": "mvcc_check.analysis.checker",
    "Result": "mvcc_check.analysis.checker",
    "Verdict": "mvcc_check.analysis.checker",
    "check": "mvcc_check.analysis.checker",
    "judge": "mvcc_check.lab.judge",
    "TransactionOrder": "mvcc_check.history.txn_order",
    "HistoryError": "mvcc_check.errors",
    "MvccCheckError": "mvcc_check.errors",
    "OptionError": "mvcc_check.errors",
    "load_history": "mvcc_check.history",
    "parse_history_text": "mvcc_check.history",
}

if TYPE_CHECKING:
    from mvcc_check.analysis.checker import CheckOptions, Result, Verdict, check
    from mvcc_check.errors import HistoryError, MvccCheckError, OptionError
    from mvcc_check.history import load_history, parse_history_text
    from mvcc_check.history.txn_order import TransactionOrder
    from mvcc_check.lab.judge import judge


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mvcc_check' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
