"""Database runs judged: the ops a `test` run recorded (db/runner.py), judged in memory
with the same validation and core as `mvcc-check check` on the saved file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mvcc_check.analysis.checker import CheckOptions, Result, check
from mvcc_check.db.runner import RunResult
from mvcc_check.history.readers import History
from mvcc_check.lab.judge import in_memory


@dataclass(frozen=True)
class DbRun:
    """One judged database run (`mvcc-check test`): the run, its history as the checker
    read it (its ops feed the report's timelines) and the verdict."""

    run: RunResult
    history: History
    result: Result


def judge_db_run(run: RunResult, models: Sequence[str], source: str) -> DbRun:
    """The run's recorded ops judged in memory against `models`."""
    history = in_memory(run.ops, source)
    options = CheckOptions(models=tuple(models), workload=run.spec.workload)
    return DbRun(run, history, check(history, options))
