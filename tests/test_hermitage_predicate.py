"""Hermitage's predicate scenarios are judged as closed-predicate histories: their
anomaly is G2 (or G-single), Adya's predicate type, not the item type G2-item."""

from __future__ import annotations

import pytest

from mvcc_check.analysis.checker import Verdict
from mvcc_check.db import parse_db_url
from mvcc_check.db.hermitage import run_scenario, scenarios_for
from mvcc_check.db.hermitage_predicate import is_predicate_scenario, predicate_of
from mvcc_check.db.hermitage_scenarios import ANOMALY, CATALOGUE
from mvcc_check.lab.hermitage import judge_scenario

PREDICATE = {"PMP", "G2", "G2-general"}


def test_which_scenarios_are_predicate_ones():
    assert {sc.name for sc in CATALOGUE if is_predicate_scenario(sc)} == PREDICATE


def test_hermitage_where_clauses_as_elle_predicates():
    assert predicate_of("value%3=0") == ["mod", 3, 0]
    assert predicate_of("value=30") == ["=", 30]
    assert predicate_of("") == "true"


def _url(request, kind, tmp_path):
    if kind == "engine":
        return "engine:"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/h.db"
    request.applymarker(pytest.mark.db)
    return request.getfixturevalue("pg_server" if kind == "postgresql" else "maria_server").url


@pytest.mark.parametrize(
    ("kind", "level", "g2"),
    [
        ("engine", "snapshot-isolation", True),
        ("engine", "serializable", False),
        ("sqlite", "serializable", False),
        ("postgresql", "repeatable-read", True),
        ("postgresql", "serializable", False),
        ("mysql", "repeatable-read", True),
        ("mysql", "serializable", False),
    ],
)
def test_g2_scenarios_are_found_as_g2_proper(request, tmp_path, kind, level, g2):
    target = parse_db_url(_url(request, kind, tmp_path))
    for sc in scenarios_for(target.kind):
        if sc.column != "G2" or sc.name not in PREDICATE:
            continue
        res = run_scenario(target, level, sc)
        found, result = judge_scenario(res, "serializable")
        assert (res.verdict == ANOMALY) == g2, (sc.name, res.verdict)
        if g2:
            assert "G2" in found and "G2-item" not in found, (sc.name, found)
            assert result.verdict is Verdict.INVALID
        else:
            assert not found & {"G2", "G2-item"}, (sc.name, found)


def test_pmp_is_a_predicate_g_single_at_read_committed(tmp_path):
    target = parse_db_url("engine:")
    (sc,) = [s for s in scenarios_for("engine") if s.name == "PMP"]
    res = run_scenario(target, "read-committed", sc)
    found, _ = judge_scenario(res, "serializable")
    assert res.verdict == ANOMALY and "G-single" in found and "G-single-item" not in found
