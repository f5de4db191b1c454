"""Issue 15, items 13-17: text that does not contradict itself, plain wording,
tables at their content's width, runs that stream and stop cleanly, a clean build."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from mvcc_check.cli import main
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.history.recorder import HistoryRecorder
from mvcc_check.workload import WorkloadSpec

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "histories"


def cli(*args: str | Path):
    return CliRunner().invoke(main, [*map(str, args)])


# --- 13. no contradictory text ---------------------------------------------


def test_an_invalid_verdict_without_edges_does_not_say_the_history_exercises_nothing(tmp_path):
    p = tmp_path / "g1a.jsonl"
    p.write_text(
        '{"type":"fail","process":0,"value":[["append","x",1]]}\n'
        '{"type":"ok","process":1,"value":[["r","x",[1]]]}\n'
    )
    r = cli("check", p)
    assert r.exit_code == 1 and "INVALID" in r.stdout and "G1a" in r.stdout
    assert "exercises nothing" not in r.stdout and "nothing to check" not in r.stdout
    doc = json.loads(cli("check", p, "-o", "json").stdout)
    assert "empty-transaction-graph" in doc["anomaly-types"]  # as Elle reports it


def test_a_workload_option_that_contradicts_the_history_says_so():
    r = cli("check", "-w", "rw-register", HISTORIES / "serial.jsonl")
    assert r.exit_code == 2
    assert "--workload rw-register contradicts the history, which is list-append" in r.stderr
    assert "mixed" not in r.stderr
    r = cli("check", "-w", "list-append", HISTORIES / "write-skew.edn")
    assert r.exit_code == 2 and "contradicts the history, which is rw-register" in r.stderr


def test_a_really_mixed_history_is_still_called_mixed(tmp_path):
    p = tmp_path / "mixed.jsonl"
    p.write_text('{"type":"ok","process":0,"value":[["append","x",1],["w","y",1]]}\n')
    for extra in ([], ["-w", "rw-register"]):
        r = cli("check", p, *extra)
        assert r.exit_code == 2 and "mixed workloads" in r.stderr


# --- 14. plain wording -------------------------------------------------------


def test_counts_are_singular_when_one():
    out = cli("check", HISTORIES / "aborted-read.edn").stdout
    assert "1 failed transaction;" in out and "1 dependency edge\n" in out
    assert "1 failed transactions" not in out and "1 dependency edges" not in out


def test_a_lost_update_of_appends_is_not_called_an_overwrite_nor_read_skew():
    out = cli("check", HISTORIES / "lost-update.jsonl").stdout
    assert "overwrote" not in out
    assert "both read key x = [1] and then appended to it" in out
    assert "G-single-item (1 found): read skew" not in out


def test_integer_keys_are_called_keys():
    out = cli("check", HISTORIES / "aborted-read.edn").stdout
    # the list-append history of integer key 7: every mention of the key says "key"
    assert "to 7" not in out and "of 7" not in out
    assert "on key 7" in out


def test_long_ruled_out_lists_are_counted_and_verbose_lists_them(tmp_path):
    r = cli("check", HISTORIES / "aborted-read.edn")
    doc = json.loads(cli("check", HISTORIES / "aborted-read.edn", "-o", "json").stdout)
    assert len(doc["also-not"]) > 10
    line = next(x for x in r.stdout.splitlines() if "ruled out" in x)
    assert f"{len(doc['also-not'])} stronger models" in line
    assert doc["also-not"][-1] not in line
    verbose = cli("check", HISTORIES / "aborted-read.edn", "--verbose").stdout
    line = next(x for x in verbose.splitlines() if "ruled out" in x)
    assert all(m in line for m in doc["not"] + doc["also-not"])


def test_negative_examples_is_a_usage_error():
    r = cli("check", "--examples", "-1", HISTORIES / "serial.jsonl")
    assert r.exit_code == 2 and "--examples" in r.stderr


def test_help_texts_give_exit_codes_that_mean_the_same_everywhere():
    hermitage = " ".join(cli("hermitage", "--help").stdout.split())
    assert "3 disagreement" not in hermitage and "3 undecided" in hermitage
    for command in ("run", "test", "hermitage"):
        text = " ".join(cli(command, "--help").stdout.split())
        assert "130 interrupted" in text and "4 internal error" in text, command


# --- 15. tables off a terminal ------------------------------------------------


def test_tables_off_a_terminal_are_neither_squeezed_nor_padded(tmp_path):
    r = subprocess.run(  # a real process, stdout a pipe: not a terminal
        [sys.executable, "-m", "mvcc_check.cli", "hermitage", "--db", f"sqlite:///{tmp_path}/h.db"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    from mvcc_check.db.hermitage import SCENARIOS

    for sc in SCENARIOS:  # every title in full, however long
        assert sc.title in r.stdout, sc.title
    assert "…" not in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "mvcc_check.cli", "matrix", "--txns", "40", "--seeds", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = r.stdout.splitlines()
    assert "…" not in r.stdout and "isolat" in r.stdout
    widest = max(len(x.rstrip()) for x in lines)
    assert widest > 80  # the table is wider than a terminal's default...
    assert max(len(x) for x in lines) == widest  # ...and no wider than its content


def test_db_findings_table_off_a_terminal_is_not_squeezed(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "mvcc_check.cli", "test", "--db", f"sqlite:///{tmp_path}/x.db",
         "-i", "serializable", "--txns", "60", "--seed", "1", "--seed", "2"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "isolation" in r.stdout and "anomalies found" in r.stdout and "…" not in r.stdout


# --- 16. runs stream, show progress, stop cleanly ----------------------------


def _interrupted_run(tmp_path: Path, sig: int) -> tuple[subprocess.CompletedProcess, float, Path]:
    path = tmp_path / "h.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mvcc_check.cli", "run", "--txns", "2000000", "--save", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while (not path.exists() or path.stat().st_size < 10_000) and time.monotonic() < deadline:
        time.sleep(0.05)  # recording starts at once: no transaction list built first
    assert path.exists() and path.stat().st_size >= 10_000, "nothing recorded"
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took, path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_run_stops_at_once_on_a_signal_with_130_and_a_usable_history(tmp_path, sig):
    r, took, path = _interrupted_run(tmp_path, sig)
    assert r.returncode == 130, r.stderr
    assert took < 3.0, f"took {took:.1f} s to stop"  # (about 0.2 s here; slack for a busy machine)
    assert "interrupted after" in r.stderr and str(path) in r.stderr
    check = cli("check", "-q", path)
    assert check.exit_code in (0, 1, 3), check.stderr  # whole lines: readable, no torn tail


def test_an_interrupted_run_recorded_a_prefix_of_the_full_run():
    spec = WorkloadSpec(txns=3000, clients=6, keys=5, seed=4)
    full = run_engine("snapshot-isolation", spec, crash_rate=0.05).ops

    def stop(begun: int) -> None:
        if begun >= 2000:
            raise KeyboardInterrupt

    rec = HistoryRecorder()
    with pytest.raises(KeyboardInterrupt):
        run_engine("snapshot-isolation", spec, crash_rate=0.05, recorder=rec, progress=stop)
    assert 0 < len(rec.ops) < len(full)
    assert rec.ops == full[: len(rec.ops)]


def test_progress_is_told_as_transactions_begin():
    seen: list[int] = []
    run_engine("serializable", WorkloadSpec(txns=2500, seed=1), progress=seen.append)
    assert seen == [0, 1000, 2000]


def test_the_same_seed_still_gives_a_byte_identical_history(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        r = cli("run", "--txns", "400", "--seed", "9", "--crash-rate", "0.05", "--save", p)
        assert r.exit_code == 0, r.stderr
    assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 0


# --- 17. a clean build; no stray files from the README -------------------------


def test_the_license_is_an_spdx_string_as_setuptools_wants():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


def test_readme_examples_do_not_save_into_the_checkout():
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        if "--save " in line and "mvcc-check run" in line:
            target = line.split("--save ", 1)[1].split()[0]
            assert target.startswith("/tmp/"), line
