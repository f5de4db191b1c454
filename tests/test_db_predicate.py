"""The closed-predicate workload against real databases: SQLite always, PostgreSQL and
MariaDB on throwaway servers (conftest.py). Phantoms where the level allows them."""

from __future__ import annotations

import orjson
import pytest

from mvcc_check import CheckOptions, check
from mvcc_check.analysis.checker import Verdict
from mvcc_check.db import parse_db_url
from mvcc_check.db.predicate_sql import where_sql
from mvcc_check.db.runner import run_workload
from mvcc_check.history.load import load_columns
from mvcc_check.workload import WorkloadSpec

PREDICATE_TYPES = {"G2", "G-single", "G-nonadjacent"}


def _run(url: str, level: str, path, txns: int = 300, seed: int = 0):
    spec = WorkloadSpec(workload="closed-predicate", txns=txns, clients=8, seed=seed)
    res = run_workload(parse_db_url(url), level, spec, path)
    assert res.stats.errors == [] and res.stats.finished == txns
    return res


def _found(path, model: str):
    return check(load_columns(str(path)), CheckOptions(models=(model,)))


def test_where_clauses_follow_each_drivers_parameter_syntax():
    class S:
        kind = "sqlite"

    class P:
        kind = "postgresql"

    assert where_sql(S, ["mod", 3, 0]) == " WHERE value % 3 = 0"
    assert where_sql(P, ["mod", 3, 0]) == " WHERE value %% 3 = 0"
    assert where_sql(P, ["=", 7]) == " WHERE value = 7"
    assert where_sql(P, "true") == ""


def test_sqlite_records_init_and_predicate_reads_and_is_serializable(tmp_path):
    path = tmp_path / "h.jsonl"
    _run(f"sqlite:///{tmp_path}/x.db", "serializable", path)
    ops = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert ops[0]["f"] == "init" and ops[1]["f"] == "init" and ops[1]["type"] == "ok"
    rps = [m for op in ops if op["type"] == "ok" and op["f"] == "txn" for m in op["value"]]
    assert any(m[0] == "rp" and m[2] for m in rps)
    assert {m[0] for m in rps} >= {"r", "rp", "insert", "w", "delete"}
    r = _found(path, "strict-serializable")
    assert r.workload == "closed-predicate" and r.verdict is Verdict.VALID, r.anomaly_types


@pytest.mark.db
@pytest.mark.parametrize(
    ("level", "claim", "phantoms"),
    [("repeatable-read", "snapshot-isolation", True), ("serializable", "serializable", False)],
)
def test_postgresql_phantoms_at_repeatable_read_only(pg_server, tmp_path, level, claim, phantoms):
    path = tmp_path / "pg.jsonl"
    _run(pg_server.url, level, path)
    assert _found(path, claim).verdict is Verdict.VALID
    found = set(_found(path, "serializable").anomaly_types)
    assert bool(found & PREDICATE_TYPES) == phantoms, found
    assert "G2-item" not in found


@pytest.mark.db
@pytest.mark.parametrize(
    ("level", "phantoms"), [("repeatable-read", True), ("serializable", False)]
)
def test_mariadb_phantoms_at_repeatable_read_only(maria_server, tmp_path, level, phantoms):
    path = tmp_path / "maria.jsonl"
    _run(maria_server.url, level, path)
    found = set(_found(path, "serializable").anomaly_types)
    assert bool(found & PREDICATE_TYPES) == phantoms, found
