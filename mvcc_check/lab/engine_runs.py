"""Engine runs judged: run the built-in engine for a trial (a level, perhaps a bug,
a workload, a seed), judge its recorded ops in memory, tabulate the matrix.

The engine only produces histories and the checker only judges them (`judge`: the
same validation and core as `mvcc-check check` on the saved file), so the verdicts
here are the ones `check` gives for a saved run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mvcc_check.analysis.checker import CheckOptions, Result, Verdict
from mvcc_check.engine.bugs import bugs_for
from mvcc_check.engine.levels import LEVEL_NAMES, LEVELS
from mvcc_check.engine.scheduler import RunResult, run_engine
from mvcc_check.errors import InternalError, MvccCheckError
from mvcc_check.lab.judge import judge
from mvcc_check.workload import WorkloadSpec

if TYPE_CHECKING:
    from mvcc_check.lab.shrink_run import Shrunk

# Matrix defaults: big and contended enough that every level shows what it
# allows and every bug is caught, small enough that `make run` takes seconds.
MATRIX_TXNS = 300
MATRIX_SEEDS = 5
MATRIX_CLIENTS = 8
MATRIX_KEYS = 6


def check_ops(
    ops: Sequence[dict[str, Any]], model: str, workload: str, source: str = "<engine run>"
) -> Result:
    """The verdict on an engine run's ops against one model (see `judge`)."""
    return judge(ops, CheckOptions(models=(model,), workload=workload), source)


@dataclass(frozen=True)
class Trial:
    """What to run: a level (and bug), a workload, a seed."""

    level: str
    spec: WorkloadSpec
    bug: str | None = None
    rollback_rate: float = 0.02
    crash_rate: float = 0.0

    @property
    def model(self) -> str:
        return LEVELS[self.level].claims


def run_trial(trial: Trial, model: str | None = None, **kw: Any) -> tuple[RunResult, Result]:
    """Run the engine for `trial` and check its history against `model` (default: the claim)."""
    run = run_engine(
        trial.level,
        trial.spec,
        bugs=(trial.bug,) if trial.bug else (),
        rollback_rate=trial.rollback_rate,
        crash_rate=trial.crash_rate,
        **kw,
    )
    result = check_ops(run.ops, model or trial.model, trial.spec.workload)
    return run, result


def engine_source(trial: Trial, save: str | None) -> str:
    """What a run's history is called: the file it was saved to, else the run itself."""
    bug = f" +{trial.bug}" if trial.bug else ""
    return save or f"<engine: {trial.level}{bug}, seed {trial.spec.seed}>"


def judge_engine_run(run: RunResult, model: str, workload: str, source: str) -> Result:
    """The verdict on a recorded engine run; a history the checker cannot use is the
    engine's bug (InternalError), never the user's input."""
    try:
        return check_ops(run.ops, model, workload, source=source)
    except MvccCheckError as e:
        raise InternalError(e, "checking the engine's history") from e


@dataclass(frozen=True)
class EngineRun:
    """One judged engine run (`mvcc-check run`): what ran, its verdict, and the small
    run that still shows the anomaly when one was asked for."""

    trial: Trial
    model: str
    run: RunResult
    result: Result
    seconds: float
    save: str | None = None  # the history file (--save)
    shrunk: Shrunk | None = None
    shrink_note: str | None = None  # why nothing was shrunk

    @property
    def shrunk_path(self) -> str | None:
        """Where the small run's history goes: FILE.min.EXT beside --save's FILE.EXT."""
        if self.save is None:
            return None
        stem, ext = os.path.splitext(self.save)
        return f"{stem}.min{ext or '.jsonl'}"


@dataclass(frozen=True)
class MatrixRow:
    """One row of the matrix: a level (or a level with a bug) over several seeds."""

    label: str
    level: str
    bug: str | None
    claims: str  # the model checked: the level's claim unless the matrix was given one
    runs: int = 0
    violations: int = 0  # runs whose history the claimed model rejects
    undecided: int = 0
    counts: Counter[str] = field(
        default_factory=Counter
    )  # runs in which each anomaly type appeared
    committed: int = 0
    aborted: int = 0

    @property
    def claim_held(self) -> bool:
        return self.violations == 0 and self.undecided == 0

    def as_expected(self, model: str | None = None) -> bool:
        """The claim held, or (a row with a deliberate bug, checked against its claim)
        the bug was caught."""
        if model or self.bug is None:
            return self.claim_held
        return not self.claim_held


def matrix_trials(
    txns: int = MATRIX_TXNS,
    seeds: int = MATRIX_SEEDS,
    bugs: bool = False,
    clients: int = MATRIX_CLIENTS,
    keys: int = MATRIX_KEYS,
    workload: str = "list-append",
    levels: Sequence[str] = LEVEL_NAMES,
) -> list[tuple[str, Trial]]:
    """(row label, trial) for every level (and bug) and seed, in table order."""
    rows: list[tuple[str, str, str | None]] = [(lv, lv, None) for lv in levels]
    if bugs:
        rows += [(f"{b.level} +{b.name}", b.level, b.name) for b in bugs_for(workload)]
    out = []
    for label, level, bug in rows:
        for seed in range(seeds):
            spec = WorkloadSpec(workload=workload, txns=txns, clients=clients, keys=keys, seed=seed)
            out.append((label, Trial(level, spec, bug)))
    return out


def run_matrix(
    trials: Sequence[tuple[str, Trial]],
    progress: Callable[[str], None] | None = None,
    model: str | None = None,
    on_result: Callable[[str, Trial, RunResult, Result], None] | None = None,
) -> list[MatrixRow]:
    """Run every trial, check it against its level's claim (or `model`), count anomaly types
    per row; `on_result` sees each trial's run and verdict (for reports)."""
    rows: dict[str, MatrixRow] = {}
    for label, trial in trials:
        row = rows.get(label)
        if row is None:
            row = rows[label] = MatrixRow(label, trial.level, trial.bug, model or trial.model)
        run, result = run_trial(trial, model=model)
        if on_result is not None:
            on_result(label, trial, run, result)
        rows[label] = _counted(row, run, result)
        if progress is not None:
            progress(label)
    return list(rows.values())


def _counted(row: MatrixRow, run: RunResult, result: Result) -> MatrixRow:
    """The row with one more run counted."""
    return dataclasses.replace(
        row,
        runs=row.runs + 1,
        committed=row.committed + run.stats["committed"],
        aborted=row.aborted + run.stats["aborted"],
        counts=row.counts + Counter(set(result.all_anomaly_types or result.anomaly_types)),
        violations=row.violations + (result.verdict is Verdict.INVALID),
        undecided=row.undecided + (result.verdict is Verdict.UNKNOWN),
    )


def matrix_wall_time(bugs: bool = True) -> tuple[float, int]:
    """Seconds that the default matrix (what `make run` shows) takes, and its number of runs."""
    trials = matrix_trials(bugs=bugs)
    t0 = time.perf_counter()
    run_matrix(trials)
    return time.perf_counter() - t0, len(trials)
