"""Launched targets and fault injection (`test --launch KIND --nemesis ...`), on real
servers: the launcher's cleanup when the tool dies, the nemesis ops in the history,
and how a lost connection is classified (fail before COMMIT, info during it)."""

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
from conftest import launched_target

from mvcc_check import load_history
from mvcc_check.cli import main
from mvcc_check.db import launch as launch_mod
from mvcc_check.db import parse_db_url
from mvcc_check.db.procs import alive
from mvcc_check.db.proxy import Proxy, via_proxy
from mvcc_check.db.runner import Client, Routing, _Shared
from mvcc_check.history.recorder import HistoryRecorder
from mvcc_check.workload import WorkloadSpec

TOOL = [sys.executable, "-c", "from mvcc_check.cli import main; main()"]


@pytest.fixture(autouse=True)
def _temp_in_tmp_path(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _json(args):
    res = CliRunner().invoke(main, ["test", *args, "-o", "json"], catch_exceptions=False)
    print(res.stderr)  # shown when a test fails
    return res.exit_code, json.loads(res.stdout)


def _launched_line(stream) -> tuple[str, list[int]]:
    """Read `launched ... in DIR: NAME pid P port Q; ...` from the tool's output."""
    for line in stream:
        if line.startswith("launched "):
            base = line.split(" in ", 1)[1].split(":", 1)[0]
            pids = [
                int(w) for a, w in zip(line.split(), line.split()[1:], strict=False) if a == "pid"
            ]
            return base, pids
    raise AssertionError("no launched line")


def _gone(pids, base, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(not alive(p) for p in pids) and not os.path.exists(base):
            return True
        time.sleep(0.1)
    return False


def test_launch_sqlite_needs_nothing(tmp_path):
    code, doc = _json(["--launch", "sqlite", "-i", "serializable", "--txns", "200"])
    assert code == 0 and doc["valid?"] is True and doc["run"]["launched"] == "sqlite"


def test_missing_binary_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(launch_mod.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(launch_mod.shutil, "which", lambda name: None)
    res = CliRunner().invoke(main, ["test", "--launch", "postgresql", "-i", "serializable"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "mvcc-check: PostgreSQL server binaries (initdb, postgres) not found; "
        "install the Debian package: apt-get install postgresql"
    ]


def test_faults_a_url_target_cannot_take_are_refused(tmp_path):
    res = CliRunner().invoke(
        main,
        ["test", "--db", "postgresql://x@127.0.0.1:1/db", "-i", "serializable"]
        + ["--nemesis", "pause,kill-connection"],
    )
    assert res.exit_code == 2
    assert "only kill-connection and partition" in res.output and "pause" in res.output
    res = CliRunner().invoke(
        main, ["test", "--launch", "sqlite", "-i", "serializable", "--nemesis", "crash"]
    )
    assert res.exit_code == 2 and "no fault can be injected" in res.output
    res = CliRunner().invoke(main, ["test", "-i", "serializable"])
    assert res.exit_code == 2 and "exactly one of --db URL and --launch KIND" in res.output


@pytest.mark.db
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_launched_server_is_removed_when_the_tool_dies(pg_server, tmp_path, how):
    """SIGTERM: the tool cleans up itself (exit 130); SIGKILL: the watchdog does."""
    proc = subprocess.Popen(
        [*TOOL, "test", "--launch", "postgresql", "-i", "serializable", "--txns", "10000000"]
        + ["--save", str(tmp_path / "h.jsonl")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base, pids = _launched_line(proc.stdout)
    assert os.path.isdir(base) and all(alive(p) for p in pids)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
    proc.wait(60)
    assert proc.returncode == (-9 if how == "SIGKILL" else 130)
    assert _gone(pids, base), f"{base} or server {pids} left behind"
    # the history recorded so far is readable either way
    assert load_history(str(tmp_path / "h.jsonl")) is not None


@pytest.mark.db
def test_keep_leaves_the_server_running(pg_server, tmp_path):
    res = CliRunner().invoke(
        main,
        ["test", "--launch", "postgresql", "--keep", "-i", "serializable", "--txns", "50"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    base, pids = _launched_line(res.output.splitlines())
    try:
        assert "stop it with: kill" in res.output
        time.sleep(0.5)  # the watchdog was told to keep it
        assert os.path.isdir(base) and all(alive(p) for p in pids)
    finally:
        for p in pids:
            os.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def _nemesis_ops(path):
    with open(path) as f:
        ops = [json.loads(line) for line in f]
    return [op for op in ops if op["process"] == "nemesis"]


@pytest.mark.db
def test_pg_faults_are_injected_recorded_and_the_history_judged(pg_server, tmp_path):
    hist = tmp_path / "h.jsonl"
    code, doc = _json(
        ["--launch", "postgresql", "-i", "serializable", "--txns", "100000", "--seed", "3"]
        + ["--nemesis", "kill-connection,pause,crash", "--nemesis-interval", "0.3"]
        + ["--time-limit", "5"]
        + ["--save", str(hist), "-m", "serializable"]
    )
    assert code == 0 and doc["valid?"] is True, doc.get("anomaly-types")
    per = doc["run"]["nemesis"]["per-fault"]
    assert all(per[f]["injected"] >= 1 for f in ("kill-connection", "pause", "crash")), per
    nem = _nemesis_ops(hist)
    assert {op["f"] for op in nem} == {"kill-connection", "pause", "crash"}
    assert all(op["type"] == "info" for op in nem)
    # start and end alternate: one fault at a time, each healed before the next
    assert [op["value"]["phase"] for op in nem] == ["start", "end"] * (len(nem) // 2)
    pause_end = next(op for op in nem if op["f"] == "pause" and op["value"]["phase"] == "end")
    assert pause_end["value"]["processes"] > 3  # postmaster and its children, not only one
    # a crash breaks every client's connection: the txns it caught failed or went info
    assert per["crash"]["fail"] + per["crash"]["info"] >= 1
    st = doc["run"]
    assert st["timed-out"] is True
    with open(hist) as f:
        invokes = sum(1 for line in f if '"invoke"' in line)
    assert st["committed"] + st["aborted"] + st["indeterminate"] <= invokes


@pytest.mark.db
def test_partition_and_kill_connection_on_a_url_target(pg_server, tmp_path):
    hist = tmp_path / "h.jsonl"
    code, doc = _json(
        ["--db", pg_server.url, "-i", "repeatable-read", "--txns", "100000", "--seed", "4"]
        + ["--nemesis", "partition,kill-connection", "--nemesis-interval", "0.3"]
        + ["--time-limit", "4"]
        + ["--save", str(hist)]
    )
    assert code == 0 and doc["valid?"] is True and doc["models"] == ["snapshot-isolation"]
    per = doc["run"]["nemesis"]["per-fault"]
    assert per["partition"]["injected"] >= 1 and per["kill-connection"]["injected"] >= 1
    modes = {op["value"]["mode"] for op in _nemesis_ops(hist) if op["f"] == "partition"}
    assert modes <= {"blackhole", "reset", "delay"} and modes


@pytest.mark.db
def test_mariadb_faults(maria_server, tmp_path):
    code, doc = _json(
        ["--launch", "mariadb", "-i", "serializable", "--txns", "100000", "--seed", "2"]
        + ["--nemesis", "crash,kill-connection", "--nemesis-interval", "0.4"]
        + ["--time-limit", "4"]
    )
    assert code == 0 and doc["valid?"] is True
    per = doc["run"]["nemesis"]["per-fault"]
    assert per["crash"]["injected"] >= 1 and per["kill-connection"]["injected"] >= 1


# --- how a lost connection is classified -----------------------------------------------


def _client(url, tmp_path, table):
    target = parse_db_url(url)
    proxy = Proxy((target.host, target.port))
    rec = HistoryRecorder(tmp_path / "h.jsonl")
    shared = _Shared(WorkloadSpec(txns=10, clients=1), rec)
    routing = Routing(via_proxy(target, proxy.port))
    client = Client(0, 1, routing, "serializable", table, "list-append", shared, None)
    return client, proxy, rec


@pytest.mark.db
@pytest.mark.parametrize("when", ["before COMMIT", "during COMMIT"])
def test_lost_connection_is_fail_before_commit_and_info_during_it(pg_server, tmp_path, when):
    from mvcc_check.db.dialects import open_session

    admin = open_session(parse_db_url(pg_server.url))
    admin.create_kv_table("mvcc_check_classify")
    client, proxy, rec = _client(pg_server.url, tmp_path, "mvcc_check_classify")
    session = client._session("rw")
    real_commit = session.commit

    def commit():
        if when == "during COMMIT":
            proxy.partition("blackhole")  # COMMIT goes into the void...
            threading.Timer(0.3, proxy.partition, ("reset",)).start()  # ...then the link dies
            threading.Timer(0.6, proxy.heal).start()  # so that the client can reconnect
        real_commit()

    session.commit = commit
    if when == "before COMMIT":
        proxy.partition("reset")
        threading.Timer(0.3, proxy.heal).start()
    client._one([["append", 1, 1]])
    proxy.heal()
    rec.close()
    proxy.close()
    admin.close()
    ops = rec.ops
    assert [op["type"] for op in ops] == ["invoke", "fail" if when == "before COMMIT" else "info"]
    # info: the client goes on as a fresh process (Jepsen); fail: the same one
    assert client.process == (0 if when == "before COMMIT" else 1)


@pytest.mark.db
def test_pg_launch_runs_and_judges(pg_server, tmp_path):
    """The fixtures' servers come from the same launcher as --launch."""
    gen = launched_target("postgresql")
    srv = next(gen)
    try:
        code, doc = _json(["--db", srv.url, "-i", "serializable", "--txns", "100"])
        assert code == 0 and doc["valid?"] is True
    finally:
        gen.close()
    assert not os.path.exists(srv.base)


# --- postgresql-replica -----------------------------------------------------------------


@pytest.mark.db
def test_replica_reads_on_the_standby_break_realtime_order(pg_server, tmp_path):
    """Read-only txns on an async hot standby read stale data: strict serializability
    fails even when the primary runs SERIALIZABLE (README, "Replicas")."""
    runs = CliRunner().invoke(
        main,
        ["test", "--launch", "postgresql-replica", "-i", "serializable", "--txns", "800"]
        + ["--keys", "10", "--seed", "1", "--seed", "2", "--seed", "3"]
        + ["-m", "strict-serializable", "-o", "json"],
        catch_exceptions=False,
    )
    assert "read-only txns to the hot standby at repeatable-read" in runs.stderr
    docs = json.loads(runs.stdout)
    for doc in docs:
        assert doc["run"]["read-only-txns"]["isolation"] == "repeatable-read"
        assert doc["run"]["committed"] > 0
    found = {t for doc in docs for t in doc["anomaly-types"]}
    assert any(t.endswith("-realtime") for t in found), found
    assert runs.exit_code == 1


# --- etcd ---------------------------------------------------------------------------------


@pytest.mark.db
def test_etcd_three_members_under_faults(etcd_binary, tmp_path):
    """Linearizable reads: strict-serializable holds while members (the leader among
    them, at random) are paused, killed and restarted, and cut off from their peers."""
    hist = tmp_path / "h.jsonl"
    code, doc = _json(
        ["--launch", "etcd", "-i", "linearizable", "--txns", "100000", "--seed", "5"]
        + ["--nemesis", "pause,crash,partition", "--nemesis-interval", "0.4"]
        + ["--time-limit", "5", "--save", str(hist)]
    )
    assert code == 0 and doc["valid?"] is True and doc["models"] == ["strict-serializable"]
    per = doc["run"]["nemesis"]["per-fault"]
    assert all(per[f]["injected"] >= 1 for f in ("pause", "crash", "partition")), per
    nodes = {op["value"]["node"] for op in _nemesis_ops(hist)}
    assert nodes <= {"n1", "n2", "n3"} and nodes
    assert doc["run"]["committed"] > 100


@pytest.mark.db
def test_etcd_serializable_reads_claim_serializable(etcd_binary):
    code, doc = _json(["--launch", "etcd", "-i", "serializable", "--txns", "400"])
    assert code == 0 and doc["models"] == ["serializable"] and doc["run"]["committed"] > 0
    res = CliRunner().invoke(main, ["test", "--launch", "etcd", "-i", "read-committed"])
    assert res.exit_code == 2 and "offers linearizable, serializable" in res.output
