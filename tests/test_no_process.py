"""Ops without a `process`: one unnamed process for pairing, shown as "no process".

Elle's ops always have a process; histories written by hand or by other tools
sometimes leave it out. Such ops are paired as one unnamed process (so two of them
open at once is unusable input), they get no process edges, and the text names
them "no process", never "process None". JSON keeps elle-cli's `"process": null`.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from mvcc_check.cli import main

SKEW = [  # write skew, one transaction after the other, no process on any op
    {"type": "invoke", "value": [["append", "x", 1], ["r", "y", None]]},
    {"type": "ok", "value": [["append", "x", 1], ["r", "y", []]]},
    {"type": "invoke", "value": [["append", "y", 1], ["r", "x", None]]},
    {"type": "ok", "value": [["append", "y", 1], ["r", "x", []]]},
]


def _write(tmp_path, name, ops):
    path = tmp_path / name
    path.write_text("".join(json.dumps(op) + "\n" for op in ops))
    return path


def test_text_says_no_process(tmp_path):
    path = _write(tmp_path, "skew.jsonl", SKEW)
    r = CliRunner().invoke(main, ["check", "-m", "serializable", str(path)])
    assert r.exit_code == 1, r.output
    assert "T1 = op index 1, no process, ok: [append x 1] [r y []]" in r.stdout
    assert "None" not in r.stdout


def test_json_keeps_a_null_process(tmp_path):
    path = _write(tmp_path, "skew.jsonl", SKEW)
    r = CliRunner().invoke(main, ["check", "-m", "serializable", "-o", "json", str(path)])
    assert r.exit_code == 1
    (cycle,) = json.loads(r.stdout)["anomalies"]["G2-item"]
    assert {op["process"] for op in cycle["cycle"]} == {None}
    assert "None" not in r.stdout


def test_overlapping_ops_without_a_process_are_one_line_exit_2(tmp_path):
    path = _write(tmp_path, "overlap.jsonl", [SKEW[0], SKEW[2], SKEW[1], SKEW[3]])
    r = CliRunner().invoke(main, ["check", str(path)])
    assert r.exit_code == 2
    (line,) = r.stderr.strip().splitlines()
    assert "overlap.jsonl: line 2: an op with no process was invoked" in line
    assert "line 1, also with no process, had not completed" in line
    assert "None" not in line
