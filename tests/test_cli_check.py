"""`mvcc-check check` through click's CliRunner, and once as a real process.

Exit codes: 0 valid under every requested model, 1 a model is violated,
2 unusable input or usage, 3 undecided.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from histgen import History, serial, txn

from mvcc_check.cli import main

ELLE_KEYS = {"valid?", "anomaly-types", "anomalies", "not", "also-not"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """One history per verdict, in each input format."""
    out = {}

    def put(name: str, text: str) -> None:
        p = tmp_path / name
        p.write_text(text)
        out[name] = p

    put("valid.jsonl", serial("ax1", "rx1 ax2", "rx12").text())
    put("skew.jsonl", serial("ax1 ry", "ay1 rx").text())
    put("empty.jsonl", serial("rx").text())
    put("stale.jsonl", History().serial(txn("ax1"), txn("ax2"), txn("rx1"), txn("rx12")).text())
    put("bad.jsonl", serial("ax1", "rx1").text().replace('"ok"', "OK", 1))
    put("notype.jsonl", '{"process": 0, "value": []}\n')
    put(
        "skew.edn",
        "{:type :invoke, :process 0, :value [[:append :x 1] [:r :y nil]]}\n"
        "{:type :invoke, :process 1, :value [[:append :y 1] [:r :x nil]]}\n"
        "{:type :ok, :process 0, :value [[:append :x 1] [:r :y []]]}\n"
        "{:type :ok, :process 1, :value [[:append :y 1] [:r :x []]]}\n",
    )
    ops = [json.loads(line) for line in serial("wx1", "rx1", register=True).text().splitlines()]
    put("valid.json", json.dumps(ops))
    put("skew.txt", serial("ax1 ry", "ay1 rx").text())
    return out


def run(*args: str | Path):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def test_valid_history_exits_0(files):
    r = run(files["valid.jsonl"])
    assert r.exit_code == 0, r.output
    assert "VALID" in r.stdout and "INVALID" not in r.stdout
    assert str(files["valid.jsonl"]) in r.stdout
    assert r.stderr == ""


def test_violated_model_exits_1_and_explains_the_cycle(files):
    r = run(files["skew.jsonl"], "--model", "serializable")
    assert r.exit_code == 1
    out = r.stdout
    assert "INVALID" in out and "G2-item" in out
    assert "repeatable-read" in out  # the weakest model ruled out
    assert "because" in out and "contradiction" in out
    # The same history is fine under a model that allows write skew.
    assert run(files["skew.jsonl"], "--model", "snapshot-isolation").exit_code == 0


def test_default_model_is_strict_serializable(files):
    r = run(files["stale.jsonl"])
    assert r.exit_code == 1
    assert "strict-serializable" in r.stdout and "G-single-item-realtime" in r.stdout
    assert run(files["stale.jsonl"], "-m", "serializable").exit_code == 0


def test_every_requested_model_must_hold(files):
    assert run(files["stale.jsonl"], "-m", "serializable", "-m", "read-committed").exit_code == 0
    assert (
        run(files["stale.jsonl"], "-m", "serializable", "-m", "strict-serializable").exit_code == 1
    )


def test_adya_names_are_accepted(files):
    assert run(files["skew.jsonl"], "-m", "PL-3").exit_code == 1
    assert run(files["skew.jsonl"], "-m", "PL-SI").exit_code == 0


def test_empty_transaction_graph_exits_3(files):
    r = run(files["empty.jsonl"])
    assert r.exit_code == 3
    assert "UNDECIDED" in r.stdout and "empty-transaction-graph" in r.stdout


@pytest.mark.parametrize(("name", "where"), [("bad.jsonl", "line 2"), ("notype.jsonl", "line 1")])
def test_bad_file_exits_2_with_one_line_naming_file_and_line(files, name, where):
    r = run(files[name])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(files[name]) in lines[0] and where in lines[0]
    assert "Traceback" not in r.output + r.stderr
    assert r.stdout == ""


def test_missing_file_exits_2(tmp_path):
    r = run(tmp_path / "nope.jsonl")
    assert r.exit_code == 2
    assert "nope.jsonl" in r.stderr and "Traceback" not in r.stderr


def test_unknown_model_exits_2_naming_it(files):
    r = run(files["valid.jsonl"], "--model", "snapshot-serializability")
    assert r.exit_code == 2
    assert "snapshot-serializability" in r.stderr
    known = r.stderr.split("known models:")[1].replace("\n", " ")
    names = [n.strip() for n in known.split(",") if n.strip()]
    assert "serializable" in names and "strict-serializable" in names
    assert len(names) == len(set(names)), "each known model listed once"


def test_unknown_workload_and_format_exit_2(files):
    assert run(files["valid.jsonl"], "--workload", "set").exit_code == 2
    assert run(files["valid.jsonl"], "--format", "csv").exit_code == 2


def test_formats_by_extension_and_override(files):
    r = run(files["skew.edn"], "-m", "serializable")
    assert r.exit_code == 1 and "G2-item" in r.stdout
    r = run(files["valid.json"])
    assert r.exit_code == 0 and "rw-register" in r.stdout
    assert run(files["skew.txt"], "-m", "serializable", "--format", "jsonl").exit_code == 1
    # A workload forced against the micro-ops is unusable input.
    assert run(files["valid.json"], "--workload", "list-append").exit_code == 2


def test_json_output_has_elle_cli_keys(files):
    r = run(files["skew.jsonl"], "-m", "serializable", "-o", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert set(doc) >= ELLE_KEYS
    assert doc["valid?"] is False
    assert doc["anomaly-types"] == ["G2-item"]
    assert doc["not"] == ["repeatable-read"]
    assert "serializable" in doc["also-not"]
    (cyc,) = doc["anomalies"]["G2-item"]
    assert cyc["type"] == "G2-item" and [s["type"] for s in cyc["steps"]] == ["rw", "rw"]
    assert cyc["cycle"][0] == cyc["cycle"][-1]


def test_json_output_of_valid_and_undecided(files):
    doc = json.loads(run(files["valid.jsonl"], "-o", "json").stdout)
    assert doc["valid?"] is True
    assert not (ELLE_KEYS - {"valid?"}) & set(doc)
    doc = json.loads(run(files["empty.jsonl"], "-o", "json").stdout)
    assert doc["valid?"] == "unknown"
    assert doc["anomaly-types"] == ["empty-transaction-graph"]


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (["valid.jsonl", "valid.json"], 0),
        (["valid.jsonl", "skew.jsonl"], 1),
        (["empty.jsonl", "valid.jsonl"], 3),
        (["skew.jsonl", "empty.jsonl"], 1),
        (["skew.jsonl", "bad.jsonl", "valid.jsonl"], 2),
    ],
)
def test_several_histories_exit_code(files, names, code):
    r = run(*[files[n] for n in names], "-m", "serializable")
    assert r.exit_code == code


def test_several_histories_are_judged_one_by_one(files):
    names = ["skew.jsonl", "bad.jsonl", "valid.jsonl", "empty.jsonl"]
    r = run(*[files[n] for n in names], "-m", "serializable", "-o", "json")
    assert r.exit_code == 2
    docs = json.loads(r.stdout)
    assert [d["history"] for d in docs] == [str(files[n]) for n in names]
    assert [d["valid?"] for d in docs] == [False, "unknown", True, "unknown"]
    assert "error" in docs[1] and "line 2" in docs[1]["error"]
    assert docs[0]["anomaly-types"] == ["G2-item"]
    # Text output: each history's verdict, in order, even after a bad one.
    r = run(*[files[n] for n in names], "-m", "serializable")
    out = r.stdout
    positions = [out.index(str(files[n])) for n in names if n != "bad.jsonl"]
    assert positions == sorted(positions)
    assert len(r.stderr.strip().splitlines()) == 1


def test_subprocess_exit_codes_and_streams(files):
    cmd = [sys.executable, "-c", "from mvcc_check.cli import main; main()", "check"]
    p = subprocess.run([*cmd, str(files["bad.jsonl"])], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert (
        p.stderr.strip().count("\n") == 0 and "line 2" in p.stderr and "Traceback" not in p.stderr
    )
    p = subprocess.run(
        [*cmd, "-o", "json", "-m", "serializable", str(files["skew.jsonl"])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 1
    assert json.loads(p.stdout)["anomaly-types"] == ["G2-item"]
    p = subprocess.run(
        [*cmd, str(files["empty.jsonl"])], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 3


def test_python_dash_m_runs_the_console_script(files):
    """`python -m mvcc_check` (what the bench runs) is the console script: same verdict,
    same exit code."""
    cmd = [sys.executable, "-m", "mvcc_check", "check", "-o", "json", "-m", "serializable"]
    cmd.append(str(files["skew.jsonl"]))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["anomaly-types"] == ["G2-item"]


def test_the_console_settings_are_made_unless_given(monkeypatch):
    """Huge-page requests off and OpenBLAS on one thread, unless the user set them."""
    from mvcc_check.console import tune_environment

    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    tune_environment()
    assert os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0"
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"


def _h(*descs, register=False, fail_first=False) -> str:
    h = History()
    ts = [txn(d, register=register) for d in descs]
    if fail_first:
        ts[0].status = "fail"
    return h.serial(*ts).text()


ANOMALY_HISTORIES = {
    "G0": (_h("ax1 ay1", "ax2 ay2", "rx12 ry21"), []),
    "G1a": (_h("ax1", "ax2", "rx12", fail_first=True), []),
    "G1b": (_h("ax1 ax2", "rx1"), []),
    "G1c": (_h("ax1 ry1", "ax2 ay1", "rx12"), []),
    "G-single-item": (_h("ax1 ay1", "rx ry1"), []),
    "G-nonadjacent-item": (_h("ax1", "rx1 ry", "ay1", "ry1 rx"), []),
    "G2-item": (_h("ax1 ry", "ay1 rx"), []),
    "lost-update": (_h("ax0", "rx0 ax1", "rx0 ax2"), []),
    "internal": (_h("ax1", "rx1 ax2 rx1"), []),
    "dirty-update": (_h("ax1", "ax2", "rx12", fail_first=True), []),
    "duplicate-elements": (_h("ax1", "rx11"), []),
    "incompatible-order": (_h("ax1", "ax2", "ax3", "rx13", "rx123"), []),
    "future-read": (_h("rx1 ax1", "rx1"), []),
    "garbage-read": (_h("ax1", "rx19"), []),
    "cyclic-versions": (_h("wx1", "wx2", "rx1", register=True), ["--linearizable-keys"]),
    "G-single-item-realtime": (_h("ax1", "ax2", "rx1", "rx12"), ["-m", "strict-serializable"]),
}


@pytest.mark.parametrize("anomaly", sorted(ANOMALY_HISTORIES))
def test_every_anomaly_renders_in_text_and_json(tmp_path, anomaly):
    text, extra = ANOMALY_HISTORIES[anomaly]
    path = tmp_path / "h.jsonl"
    path.write_text(text)
    models = [] if "-m" in extra else ["-m", "serializable"]
    r = run(path, *models, *extra)
    assert r.exit_code == 1, r.output + r.stderr
    assert r.stderr == ""
    assert anomaly in r.stdout
    assert "INVALID" in r.stdout and "ruled out" in r.stdout
    r = run(path, *models, *extra, "-o", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert anomaly in doc["anomaly-types"] and doc["anomalies"][anomaly]
    assert doc["not"]


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.edn", "{:type :invoke, :process 0, :value [[:r :x nil]]}\n{:type :ok, :process 0, :value [[:append :x]]}\n", "line 2"),
        ("unclosed.edn", "{:type :invoke, :process 0, :value [[:r :x nil]]}\n{:type :ok\n", "line 2"),
        ("bad.json", '[{"type": "invoke", "process": 0, "value": []}, {"process": 0, "value": []}]', "op index 1"),
        ("mixed.jsonl", '{"type": "ok", "process": 0, "value": [["append", "x", 1], ["w", "y", 1]]}\n', "mixed"),
        ("dup.jsonl", '{"type": "ok", "process": 0, "value": [["append", "x", 1]]}\n'
         '{"type": "ok", "process": 1, "value": [["append", "x", 1]]}\n', "twice"),
    ],
)  # fmt: skip
def test_unusable_input_in_each_format_is_one_line(tmp_path, name, content, where):
    path = tmp_path / name
    path.write_text(content)
    r = run(path, "--strict-input")  # (without it, dup.jsonl's key is left out instead)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and where in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_directory_is_a_usage_error(tmp_path):
    r = run(tmp_path)
    assert r.exit_code == 2
