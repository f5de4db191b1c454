"""The concurrent runner against real databases: SQLite always, PostgreSQL and
MariaDB on throwaway servers (see conftest.py)."""

from __future__ import annotations

import orjson
import pytest

from mvcc_check.db import DbError, parse_db_url
from mvcc_check.db.runner import parse_read, run_workload
from mvcc_check.workload import WorkloadSpec


def _ops(path):
    return [orjson.loads(line) for line in open(path, "rb")]


def test_parse_urls_never_show_password():
    t = parse_db_url("postgresql://alice:s3cret@db.example:6543/shop")
    assert (t.kind, t.host, t.port, t.user, t.database) == (
        "postgresql",
        "db.example",
        6543,
        "alice",
        "shop",
    )
    assert "s3cret" not in t.display and "s3cret" not in repr(t)
    m = parse_db_url("mysql://bob:pw@127.0.0.1:3307/x")
    assert m.kind == "mysql" and m.port == 3307 and "pw" not in m.display
    assert parse_db_url("sqlite:////tmp/abs.db").path == "/tmp/abs.db"
    with pytest.raises(DbError):
        parse_db_url("oracle://x")


def test_parse_read():
    assert parse_read("list-append", None) == []
    assert parse_read("list-append", "1,2,10") == [1, 2, 10]
    assert parse_read("rw-register", None) is None
    assert parse_read("rw-register", "7") == 7


@pytest.mark.parametrize("workload", ["list-append", "rw-register"])
def test_sqlite_run_records_every_txn(tmp_path, workload):
    target = parse_db_url(f"sqlite:///{tmp_path}/x.db")
    spec = WorkloadSpec(workload=workload, txns=200, clients=4, keys=4, seed=3)
    res = run_workload(target, "serializable", spec, tmp_path / "h.jsonl")
    ops = _ops(tmp_path / "h.jsonl")
    st = res.stats
    assert st.errors == []
    assert st.committed + st.aborted + st.indeterminate == 200
    assert sum(op["type"] == "invoke" for op in ops) == 200
    assert [op["index"] for op in ops] == list(range(len(ops)))
    assert st.committed > 100
    # the run drops its own table and touches nothing else
    import sqlite3

    tables = sqlite3.connect(tmp_path / "x.db").execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == []


def test_sqlite_rejects_other_levels(tmp_path):
    with pytest.raises(DbError, match="does not offer"):
        run_workload(
            parse_db_url(f"sqlite:///{tmp_path}/x.db"),
            "read-committed",
            WorkloadSpec(txns=1),
            tmp_path / "h.jsonl",
        )


@pytest.mark.db
def test_bench_pg_throughput(pg_server):
    from mvcc_check.lab.pg_bench import pg_throughput

    r = pg_throughput(pg_server.url, txns=400, keys=50)
    assert r["valid"] is True
    assert r["committed"] > 0 and r["committed_per_s"] > 0
    assert 0 < r["checker_share"] < 1


@pytest.mark.db
def test_mariadb_runner_drops_its_table(maria_server, tmp_path):
    import pymysql

    target = parse_db_url(maria_server.url)
    res = run_workload(
        target, "read-committed", WorkloadSpec(txns=100, clients=3), tmp_path / "h.jsonl"
    )
    assert res.stats.errors == [] and res.stats.finished == 100
    conn = pymysql.connect(host=target.host, port=target.port, user="root", database="mvcc")
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        assert cur.fetchall() == ()
    conn.close()
