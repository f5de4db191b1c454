"""Jepsen store directories, byte-identical output from run to run, and --stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mvcc_check.cli import main

REPO = Path(__file__).resolve().parents[1]
CONFORMANCE = Path(os.environ.get("MVCC_CHECK_CONFORMANCE", REPO.parent / "shared" / "conformance"))


def _check(*args: str | Path):
    return CliRunner().invoke(main, ["check", *map(str, args)])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A Jepsen store: store/<test>/<time>/history.edn, with both latest links."""
    run = tmp_path / "store" / "bank-test" / "20261201T101010.000Z"
    run.mkdir(parents=True)
    (run / "history.edn").write_text((REPO / "histories" / "write-skew.edn").read_text())
    (run / "results.edn").write_text("{:valid? true}\n")
    (tmp_path / "store" / "bank-test" / "latest").symlink_to(run.name)
    (tmp_path / "store" / "latest").symlink_to(Path("bank-test") / run.name)
    return tmp_path / "store"


@pytest.mark.parametrize("where", ["bank-test/20261201T101010.000Z", "latest", "bank-test", "."])
def test_store_directory_reads_its_history_edn_and_says_so(store, where):
    d = store / where
    r = _check(d, "-m", "serializable", "-o", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert doc["history"].endswith("history.edn") and doc["anomaly-types"] == ["G2-item"]
    assert Path(doc["history"]).resolve() == (
        store / "bank-test" / "20261201T101010.000Z" / "history.edn"
    )
    assert f"reading {doc['history']}" in r.stderr


def test_directory_without_history_edn_is_one_line_exit_2(tmp_path):
    (tmp_path / "test.jepsen").write_bytes(b"\0")
    r = _check(tmp_path)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path) in lines[0] and "history.edn" in lines[0]


def _histories() -> list[str]:
    paths = sorted(str(p) for p in (REPO / "histories").iterdir())
    paths += sorted(str(p) for p in (CONFORMANCE / "elle-tests").glob("*.edn"))
    paths += sorted(str(p) for p in (CONFORMANCE / "elle").glob("*.edn"))
    return paths


def _run(args: list[str], hash_seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(
        [sys.executable, "-m", "mvcc_check.cli", *args],
        capture_output=True,
        check=False,
        env=env,
        cwd=REPO,
    )


@pytest.mark.parametrize("output", ["json", "text"])
def test_the_same_histories_give_the_same_bytes_on_every_run(output):
    """Two processes with different string hashing (so different set and dict orders,
    were any left to chance) must print the same bytes."""
    paths = _histories()
    args = ["check", "-q", "-m", "serializable", "--examples", "3", "-o", output, *paths]
    first, second = _run(args, "1"), _run(args, "2")
    assert first.returncode == second.returncode
    assert first.stdout == second.stdout
    assert len(first.stdout) > 10_000
    if output == "json":
        docs = json.loads(first.stdout)
        assert len(docs) == len(paths)
        assert all("seconds" not in d.get("stats", {}) for d in docs)


def test_stats_adds_timings_and_memory_only_when_asked():
    path = REPO / "histories" / "write-skew.edn"
    plain = json.loads(_check(path, "-o", "json").stdout)
    counts = {"ops", "txns", "ok", "info", "fail", "edges", "sccs", "ignored", "complete-search"}
    assert set(plain["stats"]) == counts
    timed = json.loads(_check(path, "-o", "json", "--stats").stdout)
    seconds = timed["stats"]["seconds"]
    assert {"reading", "pairing", "inferring", "building", "searching", "total"} <= set(seconds)
    assert seconds["total"] >= max(v for k, v in seconds.items() if k != "total")
    assert timed["stats"]["peak-memory-bytes"] > 10_000_000
    text = _check(path, "--stats").stdout
    assert "time: " in text and "peak memory" in text
    assert "time: " not in _check(path).stdout
