"""Database runs judged: the ops a `test` run recorded (db/runner.py), judged in memory
with the same validation and core as `mvcc-check check` on the saved file."""

from __future__ import annotations

from collections.abc import Sequence

from mvcc_check.analysis.checker import CheckOptions, Result, check
from mvcc_check.db.runner import RunResult
from mvcc_check.history.readers import History
from mvcc_check.lab.judge import in_memory


def judge_db_run(run: RunResult, models: Sequence[str], source: str) -> tuple[History, Result]:
    """The run's history as the checker read it (its ops feed the report's timelines)
    and the verdict against `models`."""
    history = in_memory(run.ops, source)
    return history, check(history, CheckOptions(models=tuple(models), workload=run.spec.workload))
