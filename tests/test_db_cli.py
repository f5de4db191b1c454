"""`mvcc-check test` and `mvcc-check hermitage` end to end: SQLite with no server,
PostgreSQL 15 and MariaDB 10.11 on throwaway servers. What each level shows is
what its documentation promises (see README, "Real databases")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from mvcc_check import CheckOptions, check, load_history
from mvcc_check.cli import main
from mvcc_check.db import parse_db_url
from mvcc_check.db.runner import run_workload
from mvcc_check.workload import WorkloadSpec


@pytest.fixture(autouse=True)
def _temp_histories_in_tmp_path(tmp_path, monkeypatch):
    """Unsaved histories of invalid runs are kept (the report names them): here, not in /tmp."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _test(args):
    res = CliRunner().invoke(main, ["test", *args], catch_exceptions=False)
    return res


def _json(args):
    res = _test([*args, "--output", "json"])
    return res.exit_code, json.loads(res.output)


def test_sqlite_serializable_needs_no_server(tmp_path):
    res = _test(
        ["--db", f"sqlite:///{tmp_path}/x.db", "--isolation", "serializable", "--txns", "300"]
    )
    assert res.exit_code == 0, res.output
    assert "VALID under serializable" in res.output
    assert "committed txns/s" in res.output


def test_sqlite_json_and_save(tmp_path):
    hist = tmp_path / "h.jsonl"
    code, doc = _json(
        [
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            "-i",
            "serializable",
            "--txns",
            "200",
            "--workload",
            "rw-register",
            "--save",
            str(hist),
            "--seed",
            "5",
        ]
    )
    assert code == 0 and doc["valid?"] is True
    run = doc["run"]
    assert run["committed"] + run["aborted"] + run["indeterminate"] == 200
    assert run["history-file"] == str(hist)
    again = check(load_history(str(hist)), CheckOptions(models=("serializable",)))
    assert again.valid is True


def test_unusable_targets_are_exit_2_with_a_message(tmp_path):
    res = _test(["--db", "sqlite:////nonexistent/dir/x.db", "-i", "serializable"])
    assert res.exit_code == 2 and "cannot open" in res.output
    res = _test(
        [
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            "-i",
            "serializable",
            "--save",
            "/nonexistent/h.jsonl",
        ]
    )
    assert res.exit_code == 2 and "cannot write the history" in res.output
    res = _test(["--db", "postgresql://me:secret@127.0.0.1:1/db", "-i", "serializable"])
    assert res.exit_code == 2 and "cannot connect" in res.output and "secret" not in res.output


def test_usage_errors(tmp_path):
    assert _test(["--db", "oracle://x", "-i", "serializable"]).exit_code == 2
    assert _test(["--db", f"sqlite:///{tmp_path}/x.db", "-i", "snapshot"]).exit_code == 2
    assert _test(["--db", f"sqlite:///{tmp_path}/x.db", "-i", "read-committed"]).exit_code == 2


def test_password_is_never_printed(pg_server):
    url = pg_server.url.replace("mvcc@", "mvcc:hunter2@")  # trust auth ignores it
    res = _test(["--db", url, "-i", "serializable", "--txns", "50"])
    assert res.exit_code == 0, res.output
    assert "hunter2" not in res.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_leaves_a_readable_history(tmp_path, sig):
    hist = tmp_path / "interrupted.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mvcc_check.cli import main; main()",
            "test",
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            "-i",
            "serializable",
            "--txns",
            "100000000",
            "--save",
            str(hist),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (not hist.exists() or hist.stat().st_size < 20000) and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:  # never leave the run going (it would go on for hours, growing)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and str(hist) in err
    res = CliRunner().invoke(main, ["check", str(hist), "-m", "serializable"])
    assert res.exit_code == 0, res.output


# --- PostgreSQL -----------------------------------------------------------------------


@pytest.mark.db
def test_pg_serializable_shows_no_anomaly(pg_server):
    for seed in (1, 2):
        code, doc = _json(
            [
                "--db",
                pg_server.url,
                "-i",
                "serializable",
                "--txns",
                "800",
                "--keys",
                "8",
                "--seed",
                str(seed),
                "-m",
                "strict-serializable",
            ]
        )
        assert code == 0 and doc["valid?"] is True, doc.get("anomaly-types")
        assert doc["run"]["aborted"] > 0  # SSI did have to abort some to get there


@pytest.mark.db
def test_pg_repeatable_read_write_skew_but_no_lost_update(pg_server):
    seen = set()
    for seed in (1, 2, 3):
        code, doc = _json(
            [
                "--db",
                pg_server.url,
                "-i",
                "repeatable-read",
                "--txns",
                "1000",
                "--keys",
                "10",
                "--seed",
                str(seed),
                "-m",
                "serializable",
            ]
        )
        seen |= set(doc.get("anomaly-types", []))
        # and what it claims, snapshot isolation, holds
        code_si, doc_si = _json(
            [
                "--db",
                pg_server.url,
                "-i",
                "repeatable-read",
                "--txns",
                "500",
                "--keys",
                "10",
                "--seed",
                str(seed),
            ]
        )
        assert (
            code_si == 0 and doc_si["valid?"] is True and doc_si["models"] == ["snapshot-isolation"]
        )
    assert "G2-item" in seen
    assert "lost-update" not in seen and not any(a.startswith("G-single") for a in seen)


@pytest.mark.db
def test_pg_killed_backend_is_fail_or_info_and_history_still_judged(pg_server, tmp_path):
    import psycopg

    target = parse_db_url(pg_server.url)
    pids: dict[int, int] = {}
    stop = threading.Event()
    killed = []

    def on_session(process, session):
        pids[process] = session.backend_id()

    def killer():
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            while not stop.is_set() and not killed:
                ours = tuple(pids.values())
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) "
                    "AND state IN ('idle in transaction', 'active') AND xact_start IS NOT NULL",
                    (list(ours),),
                ).fetchall()
                if rows:
                    conn.execute("SELECT pg_terminate_backend(%s)", (rows[0][0],))
                    killed.append(rows[0][0])
                time.sleep(0.005)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    spec = WorkloadSpec(txns=600, clients=4, keys=6, seed=7)
    res = run_workload(target, "serializable", spec, tmp_path / "h.jsonl", on_session=on_session)
    stop.set()
    th.join(5)
    assert killed, "no backend was caught mid-transaction"
    st = res.stats
    assert st.errors == []
    assert st.committed + st.aborted + st.indeterminate == 600
    ops = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    # killed before its COMMIT was sent: fail (it surely did not commit), same process;
    # killed with COMMIT in flight: info, and the client goes on as a fresh process
    infos = [op for op in ops if op["type"] == "info"]
    assert all(op["process"] < 4 for op in infos)
    assert len({op["process"] for op in ops}) == 4 + len(infos)
    result = check(load_history(str(tmp_path / "h.jsonl")), CheckOptions(models=("serializable",)))
    assert result.valid is True


# --- MariaDB --------------------------------------------------------------------------


@pytest.mark.db
def test_mariadb_repeatable_read_loses_updates(maria_server):
    seen = set()
    for seed in (1, 2, 3, 4, 5):  # concurrency is not deterministic: a few seeds
        code, doc = _json(
            [
                "--db",
                maria_server.url,
                "-i",
                "repeatable-read",
                "--txns",
                "1000",
                "--keys",
                "10",
                "--seed",
                str(seed),
                "-m",
                "serializable",
            ]
        )
        assert code == 1
        seen |= set(doc["anomaly-types"])
        if "lost-update" in seen:
            break
    assert "lost-update" in seen
    # it does keep what we claim for it (read committed)
    code, doc = _json(["--db", maria_server.url, "-i", "repeatable-read", "--txns", "500"])
    assert code == 0 and doc["models"] == ["read-committed"]


@pytest.mark.db
def test_mariadb_serializable_shows_no_anomaly(maria_server):
    code, doc = _json(
        ["--db", maria_server.url, "-i", "serializable", "--txns", "800", "--keys", "8"]
    )
    assert code == 0 and doc["valid?"] is True


# --- hermitage ------------------------------------------------------------------------


def test_hermitage_command_sqlite(tmp_path):
    res = CliRunner().invoke(
        main,
        ["hermitage", "--db", f"sqlite:///{tmp_path}/h.db", "--save-dir", str(tmp_path / "h")],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    for name in ("G0", "G1a", "G1b", "G1c", "OTV", "PMP", "P4", "G-single", "G2-item", "G2"):
        assert name in res.output
    assert "every history is valid under serializable" in res.output
    assert len(os.listdir(tmp_path / "h")) == 15  # every variant of every column
    # Hermitage's layout: one row per level, a cell per column
    header = next(line for line in res.output.splitlines() if line.startswith("DBMS"))
    assert header.split("┃")[3:] and [c.strip() for c in header.split("┃")[3:]] == [
        "G0", "G1a", "G1b", "G1c", "OTV", "PMP", "P4", "G-single", "G2-item", "G2"
    ]  # fmt: skip
    row = next(line for line in res.output.splitlines() if '"serializable"' in line)
    assert [c.strip() for c in row.split("│")[3:]] == ["✓"] * 10
    res = CliRunner().invoke(
        main, ["hermitage", "--db", f"sqlite:///{tmp_path}/h.db", "-o", "json"]
    )
    (level,) = json.loads(res.output)["levels"]
    assert {s["result"] for s in level["scenarios"]} <= {"prevented", "prevented by abort"}
    assert all(s["agrees"] for s in level["scenarios"])
    assert level["hermitage-row"] == dict.fromkeys(
        ("G0", "G1a", "G1b", "G1c", "OTV", "PMP", "P4", "G-single", "G2-item", "G2"), "prevented"
    )


@pytest.mark.db
def test_hermitage_command_json_pg(pg_server):
    res = CliRunner().invoke(
        main,
        ["hermitage", "--db", pg_server.url, "-i", "repeatable-read", "-o", "json"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    (level,) = doc["levels"]
    results = {s["scenario"]: s["result"] for s in level["scenarios"]}
    assert results["G2-item"] == "anomaly" and results["P4"] == "prevented by abort"
    assert all(s["agrees"] for s in level["scenarios"])
    row = level["hermitage-row"]
    assert row["G2-item"] == row["G2"] == "anomaly" and row["G-single"] == "prevented"


def test_several_levels_and_seeds_give_a_findings_table(tmp_path):
    res = _test(
        [
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            "-i",
            "serializable",
            "--seed",
            "1",
            "--seed",
            "2",
            "--txns",
            "100",
            "--save",
            str(tmp_path / "h.jsonl"),
        ]
    )
    assert res.exit_code == 0, res.output
    assert "findings" in res.output
    saved = {"h-serializable-1.jsonl", "h-serializable-2.jsonl"}
    assert saved <= set(os.listdir(tmp_path))


@pytest.mark.db
def test_mariadb_killed_connection_before_commit_is_fail(maria_server, tmp_path):
    import pymysql

    target = parse_db_url(maria_server.url)
    ids: dict[int, int] = {}
    stop = threading.Event()
    killed = []

    def on_session(process, session):
        ids[process] = session.backend_id()

    def killer():
        conn = pymysql.connect(host=target.host, port=target.port, user="root", autocommit=True)
        with conn.cursor() as cur:
            while not stop.is_set() and not killed:
                ours = set(ids.values())
                # a connection running one of the transaction's statements (not BEGIN)
                cur.execute(
                    "SELECT ID FROM information_schema.PROCESSLIST "
                    "WHERE INFO LIKE 'INSERT INTO mvcc_check_%' OR INFO LIKE 'SELECT v FROM mvcc_check_%'"
                )
                in_txn = [r[0] for r in cur.fetchall() if r[0] in ours]
                if in_txn:
                    cur.execute(f"KILL CONNECTION {int(in_txn[0])}")
                    killed.append(in_txn[0])
                time.sleep(0.005)
        conn.close()

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    spec = WorkloadSpec(txns=3000, clients=4, keys=6, seed=7)
    res = run_workload(target, "serializable", spec, tmp_path / "h.jsonl", on_session=on_session)
    stop.set()
    th.join(5)
    assert killed, "no connection was caught in a transaction"
    # killed while a statement before COMMIT ran: the transaction surely did not commit
    assert res.stats.errors == [] and res.stats.aborted >= len(killed)
    result = check(load_history(str(tmp_path / "h.jsonl")), CheckOptions(models=("serializable",)))
    assert result.valid is True
