"""Hermitage's scenarios on SQLite, PostgreSQL 15 and MariaDB 10.11: the anomalies
each level shows are the ones its documentation (and Hermitage's published
results) allow, and the checker's verdict on each scenario's recorded history
agrees with the scenario's own verdict."""

from __future__ import annotations

import pytest

from mvcc_check.commands.dbtest import judge_scenario
from mvcc_check.db import parse_db_url
from mvcc_check.db.dialects import SESSIONS
from mvcc_check.db.hermitage import (
    ANOMALY,
    SCENARIO_NAMES,
    SCENARIOS,
    checker_agrees,
    engine_claims,
    run_scenario,
)

ALL = set(SCENARIO_NAMES)
RC_ANOMALIES = {"PMP", "P4", "G-single", "G2-item", "G2"}

EXPECTED = {
    ("sqlite", "serializable"): set(),
    ("postgresql", "read-committed"): RC_ANOMALIES,
    ("postgresql", "repeatable-read"): {"G2-item", "G2"},  # snapshot isolation: write skew
    ("postgresql", "serializable"): set(),
    ("mysql", "read-uncommitted"): ALL - {"G0"},
    ("mysql", "read-committed"): RC_ANOMALIES,
    # InnoDB REPEATABLE READ: snapshot reads, but UPDATE acts on the latest version
    ("mysql", "repeatable-read"): {"P4", "G2-item", "G2"},
    ("mysql", "serializable"): set(),
    # the built-in engine's levels imitate those databases, and show the same
    ("engine", "read-uncommitted"): ALL - {"G0"},
    ("engine", "read-committed"): RC_ANOMALIES,
    ("engine", "repeatable-read"): {"P4", "G2-item", "G2"},
    ("engine", "snapshot-isolation"): {"G2-item", "G2"},
    ("engine", "serializable"): set(),
    ("engine", "serializable-2pl"): set(),
}


def _url(request, kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/hermitage.db"
    if kind == "engine":
        return "engine:"
    fixture = "pg_server" if kind == "postgresql" else "maria_server"
    return request.getfixturevalue(fixture).url


@pytest.mark.parametrize(("kind", "level"), sorted(EXPECTED), ids=lambda x: str(x))
def test_hermitage_levels(request, tmp_path, kind, level):
    if kind not in ("sqlite", "engine"):
        request.applymarker(pytest.mark.db)
    target = parse_db_url(_url(request, kind, tmp_path))
    claimed = engine_claims(level) if kind == "engine" else SESSIONS[kind].claimed_models[level]
    anomalies = set()
    for sc in SCENARIOS:
        res = run_scenario(target, level, sc, history_path=tmp_path / f"{sc.name}.jsonl")
        if res.verdict == ANOMALY:
            anomalies.add(sc.name)
        assert not res.observation.errors, (sc.name, res.observation.transcript)
        # the checker, reading only the recorded history, agrees with the scenario
        found, result = judge_scenario(res, claimed)
        assert checker_agrees(sc, res.verdict, found), (sc.name, res.verdict, found)
        # and every scenario's history keeps the model the level claims
        assert result.valid is True, (sc.name, claimed, result.anomaly_types)
    assert anomalies == EXPECTED[(kind, level)]


def test_hermitage_catches_a_buggy_engine():
    from click.testing import CliRunner

    from mvcc_check.cli import main

    res = CliRunner().invoke(
        main, ["hermitage", "--db", "engine:skip-first-updater", "-i", "snapshot-isolation"]
    )
    assert res.exit_code == 1, res.output  # lost update under a level claiming SI
    assert "histories invalid under snapshot-isolation: P4" in res.output
    assert CliRunner().invoke(main, ["hermitage", "--db", "engine:no-such-bug"]).exit_code == 2
