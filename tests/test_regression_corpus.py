"""Verdicts that must not change: a corpus of engine histories with the results
the per-op checker gave before the columnar core replaced it.

The histories are made again at test time (the engine is deterministic for a
seed); only their expected results are stored, in tests/data/regression-corpus.json.
For each history and model: valid?, the anomaly types, not, also-not and the
length of every explained cycle. `MVCC_CHECK_REGEN_CORPUS=1 pytest
tests/test_regression_corpus.py` rewrites the expected results (only ever from a
checker whose verdicts are known good).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.engine.bugs import BUG_NAMES, bug_applies
from mvcc_check.engine.levels import LEVEL_NAMES
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.workload import WorkloadSpec

EXPECTED = Path(__file__).parent / "data" / "regression-corpus.json"
HISTORIES = Path(__file__).parent.parent / "histories"
MODELS = ("strict-serializable", "serializable")


def corpus() -> Iterator[tuple[str, bytes, str]]:
    """(name, history text, format): every level and applicable bug, both workloads,
    two sizes, with rollbacks and crashes (so fail and info transactions occur)."""
    for workload in ("list-append", "rw-register"):
        for level in LEVEL_NAMES:
            for bug in (None, *(b for b in BUG_NAMES if bug_applies(b, level))):
                for txns, clients, keys in ((60, 4, 3), (400, 8, 6)):
                    seed = len(level) + txns
                    spec = WorkloadSpec(
                        workload=workload, txns=txns, clients=clients, keys=keys, seed=seed
                    )
                    run = run_engine(
                        level, spec, bugs=(bug,) if bug else (), rollback_rate=0.05, crash_rate=0.03
                    )
                    name = f"{workload}/{level}{'+' + bug if bug else ''}/{txns}"
                    yield name, b"".join(orjson.dumps(op) + b"\n" for op in run.ops), "jsonl"
    for path in sorted(HISTORIES.iterdir()):
        yield f"histories/{path.name}", path.read_bytes(), path.suffix.lstrip(".")


def summary(
    data: bytes, source: str, fmt: str, model: str, complete: bool = False
) -> dict[str, Any]:
    """What must stay the same for one history under one model (Elle's answers, the
    per-op checker's: the complete search is held to its own oracle in
    test_complete_oracle.py)."""
    result = check(
        parse_history_text(data, source=source, format=fmt),
        CheckOptions(models=(model,), complete=complete),
    )
    cycles = {
        name: sorted(len(r["steps"]) for r in items if isinstance(r, dict) and "steps" in r)
        for name, items in result.anomalies.items()
        if isinstance(items, list)
    }
    return {
        "valid?": result.valid,
        "anomaly-types": result.anomaly_types,
        "not": result.not_,
        "also-not": result.also_not,
        "cycle-lengths": {k: v for k, v in cycles.items() if v},
        "counts": {k: len(v) if isinstance(v, list) else 1 for k, v in result.anomalies.items()},
    }


def _actual() -> dict[str, dict[str, Any]]:
    return {
        f"{name} {model}": summary(data, name, fmt, model)
        for name, data, fmt in corpus()
        for model in MODELS
    }


@pytest.mark.skipif(
    not os.environ.get("MVCC_CHECK_REGEN_CORPUS"), reason="rewrites the expected results"
)
def test_regenerate_expected_results() -> None:
    EXPECTED.write_text(json.dumps(_actual(), indent=1, sort_keys=True) + "\n")


def test_verdicts_match_the_recorded_corpus() -> None:
    expected = json.loads(EXPECTED.read_text())
    actual = _actual()
    assert actual.keys() == expected.keys()
    differ = [name for name in expected if actual[name] != expected[name]]
    assert not differ, (
        f"{len(differ)} results changed, first: {differ[0]}: {actual[differ[0]]} != {expected[differ[0]]}"
    )
