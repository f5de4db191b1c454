"""The complete search on the command line: issue 10's examples B and C, the
case-split finding, --elle-compatible, and a region over budget said as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.analysis.complete import decide
from mvcc_check.cli import main

# B: T1 and T2 concurrent; T3, invoked after both completed, read y = 1 (T2's) and
# x = 1 (T1's), so T2's x came before T1's; but T1 read y = nil, before T2.
EXAMPLE_B = """\
{"type":"invoke","process":0,"f":"txn","value":[["r","y",null],["w","x",1]],"index":0}
{"type":"invoke","process":1,"f":"txn","value":[["w","x",2],["w","y",1]],"index":1}
{"type":"ok","process":0,"f":"txn","value":[["r","y",null],["w","x",1]],"index":2}
{"type":"ok","process":1,"f":"txn","value":[["w","x",2],["w","y",1]],"index":3}
{"type":"invoke","process":2,"f":"txn","value":[["r","y",null],["r","x",null]],"index":4}
{"type":"ok","process":2,"f":"txn","value":[["r","y",1],["r","x",1]],"index":5}
"""
# C: neither saw the other's write, yet both wrote key 0.
EXAMPLE_C = """\
{"type":"invoke","process":0,"f":"txn","value":[["r",1,null],["w",0,2]],"index":0}
{"type":"ok","process":0,"f":"txn","value":[["r",1,null],["w",0,2]],"index":1}
{"type":"invoke","process":1,"f":"txn","value":[["w",1,1],["r",0,null],["w",0,3]],"index":2}
{"type":"ok","process":1,"f":"txn","value":[["w",1,1],["r",0,null],["w",0,3]],"index":3}
"""
# C for list-append: both appends to z unread.
EXAMPLE_C_LIST = """\
{"type":"invoke","process":0,"f":"txn","value":[["append","z",1],["r","x",null],["append","y",1]],"index":0}
{"type":"invoke","process":1,"f":"txn","value":[["append","x",1],["append","z",2],["r","y",null]],"index":1}
{"type":"ok","process":0,"f":"txn","value":[["append","z",1],["r","x",[]],["append","y",1]],"index":2}
{"type":"ok","process":1,"f":"txn","value":[["append","x",1],["append","z",2],["r","y",[]]],"index":3}
"""
# Three txns one after another: x = 1, x = 2, then a read of x = 1. Serializable
# (2 before 1), not strict: in real time either order of the writes fails, differently.
STALE = """\
{"type":"invoke","process":0,"f":"txn","value":[["w","x",1]],"index":0}
{"type":"ok","process":0,"f":"txn","value":[["w","x",1]],"index":1}
{"type":"invoke","process":1,"f":"txn","value":[["w","x",2]],"index":2}
{"type":"ok","process":1,"f":"txn","value":[["w","x",2]],"index":3}
{"type":"invoke","process":2,"f":"txn","value":[["r","x",null]],"index":4}
{"type":"ok","process":2,"f":"txn","value":[["r","x",1]],"index":5}
"""


@pytest.fixture
def write(tmp_path: Path):
    def make(name: str, text: str) -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p

    return make


def run(*args: object):
    return CliRunner().invoke(main, ["check", "-q", *map(str, args)])


def test_example_b_is_not_serializable_in_either_order(write):
    path = write("b.jsonl", EXAMPLE_B)
    r = run(path, "-m", "serializable")
    assert r.exit_code == 1, r.output
    out = r.stdout
    assert "G-single-item" in out
    assert "no read fixes the order of its writes 1 and 2" in out
    assert "if 1 came before 2:" in out and "if 2 came before 1:" in out
    assert "whichever order the writes took" in out
    assert run(path, "-m", "serializable", "--elle-compatible").exit_code == 0


def test_example_b_json_marks_the_complete_search(write):
    r = run(write("b.jsonl", EXAMPLE_B), "-m", "serializable", "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["valid?"] is False and doc["anomaly-types"] == ["G-single-item"]
    (record,) = doc["anomalies"]["G-single-item"]
    assert record["complete-search"] is True and record["model"] == "serializable"
    split = record["split"]
    assert split["key"] == "x" and [w["value"] for w in split["writes"]] == [1, 2]
    assert [c["first"] for c in split["cases"]] == [1, 2]
    assert all(c["then"]["type"] == "G-single-item" for c in split["cases"])
    assert doc["stats"]["complete-search"]["anomaly-types"] == ["G-single-item"]
    assert doc["not"] == ["consistent-view", "repeatable-read"]


@pytest.mark.parametrize("text", [EXAMPLE_C, EXAMPLE_C_LIST], ids=["register", "list"])
def test_example_c_is_not_snapshot_isolation(write, text):
    path = write("c.jsonl", text)
    r = run(path, "-m", "snapshot-isolation")
    assert r.exit_code == 1, r.output
    assert "G-single-item" in r.stdout and "if " in r.stdout
    # Elle's answer: only write skew (G2-item), which snapshot isolation allows.
    elle = run(path, "-m", "snapshot-isolation", "--elle-compatible", "-o", "json")
    assert elle.exit_code == 0 and json.loads(elle.stdout)["valid?"] is True
    elle = run(path, "-m", "serializable", "--elle-compatible", "-o", "json")
    assert json.loads(elle.stdout)["anomaly-types"] == ["G2-item"]


def test_cases_of_different_types_are_a_case_split(write):
    r = run(write("stale.jsonl", STALE), "-m", "strict-serializable", "-o", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["anomaly-types"] == ["strict-serializable-case-split"]
    (record,) = doc["anomalies"]["strict-serializable-case-split"]
    assert record["case-types"] == ["G-single-item-realtime", "G0-realtime"]
    # Neither case's type is claimed: only the model the split rules out (and stronger).
    assert doc["not"] == ["strong-serializable"]  # (Elle's name of strict-serializable)
    text = run(write("stale2.jsonl", STALE), "-m", "strict-serializable").stdout
    assert "G-single-item-realtime or G0-realtime, depending on the order" in text
    assert run(write("s3.jsonl", STALE), "-m", "serializable").exit_code == 0


def test_a_valid_history_has_a_verified_witness(write):
    # x = 1 then x = 2 in real time, the read sees 2: the commit order works.
    text = STALE.replace('["r","x",1]', '["r","x",2]')
    r = run(write("ok.jsonl", text), "-m", "strict-serializable", "-o", "json", "--stats")
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)["stats"]["complete-search"]
    assert stats["witnessed"] == ["strict-serializable"] and stats["regions"] == 0


def test_a_region_over_budget_is_undecided(monkeypatch):
    monkeypatch.setattr(decide, "ALWAYS_DECIDED", 0)
    monkeypatch.setattr(decide, "BUDGET_FLOOR", 0)
    monkeypatch.setattr(decide, "BUDGET_PER_ITEM", 0)
    h = parse_history_text(EXAMPLE_B, source="b.jsonl", format="jsonl")
    r = check(h, CheckOptions(models=("serializable",)))
    assert r.valid == "unknown"
    assert r.anomaly_types == ["complete-search-over-budget"]
    (undecided,) = r.anomalies["complete-search-over-budget"]
    assert undecided["model"] == "serializable" and undecided["regions"][0]["open-pairs"] == 1
    assert r.stats["complete-search"]["regions-over-budget"] == 1
