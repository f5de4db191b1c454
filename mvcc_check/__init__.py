"""mvcc-check: find isolation anomalies in transaction histories.

The small public API::

    from mvcc_check import load_history, check, CheckOptions
    result = check(load_history("history.edn"), CheckOptions(models=("serializable",)))
    result.valid, result.anomaly_types, result.to_json()
"""

from mvcc_check.analysis.checker import CheckOptions, Result, check
from mvcc_check.errors import HistoryError, MvccCheckError, OptionError
from mvcc_check.history import load_history, parse_history_text

__all__ = [
    "CheckOptions",
    "HistoryError",
    "MvccCheckError",
    "OptionError",
    "Result",
    "check",
    "load_history",
    "parse_history_text",
]
