"""The closed-predicate workload from the command line: check, run, matrix."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from mvcc_check.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_saves_a_history_check_reads(tmp_path):
    out = tmp_path / "si.jsonl"
    r = invoke(
        "run", "-w", "closed-predicate", "-i", "snapshot-isolation", "-n", 300, "--save", out
    )
    assert r.exit_code == 0, r.output
    first = orjson.loads(out.read_bytes().splitlines()[0])
    assert first["f"] == "init" and isinstance(first["value"], dict)
    assert invoke("check", "-w", "closed-predicate", "-m", "snapshot-isolation", out).exit_code == 0
    r = invoke("check", "-m", "serializable", "-o", "json", out)  # workload detected
    assert r.exit_code == 1, r.output
    doc = orjson.loads(r.output)
    assert doc["workload"] == "closed-predicate"
    assert "G2" in doc["anomaly-types"] and "G2-item" not in doc["anomaly-types"]
    steps = [s["type"] for c in doc["anomalies"]["G2"] for s in c["steps"]]
    assert "rwp" in steps


def test_check_explains_a_phantom_in_words(tmp_path):
    f = tmp_path / "g2.jsonl"
    ops = [
        {"type": "invoke", "process": 0, "f": "init", "value": {"1": 0, "2": 0}},
        {"type": "ok", "process": 0, "f": "init", "value": {"1": 0, "2": 0}},
        {"type": "invoke", "process": 1, "value": [["rp", ["mod", 2, 1], None], ["insert", 3, 5]]},
        {"type": "invoke", "process": 2, "value": [["rp", ["mod", 2, 1], None], ["insert", 4, 7]]},
        {"type": "ok", "process": 1, "value": [["rp", ["mod", 2, 1], {}], ["insert", 3, 5]]},
        {"type": "ok", "process": 2, "value": [["rp", ["mod", 2, 1], {}], ["insert", 4, 7]]},
    ]
    f.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in ops))
    r = invoke("check", "-m", "serializable", f)
    assert r.exit_code == 1, r.output
    assert "G2 (1 found)" in r.output
    assert "rows where value % 2 = 1 did not return key 4" in r.output
    assert "inserted it as 7 later, which matches: a phantom" in r.output
    assert invoke("check", "-m", "repeatable-read", f).exit_code == 0  # G2 is not G2-item


def test_two_changes_of_one_key_is_exit_2_naming_the_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    ops = [
        {"type": "ok", "process": 1, "value": [["insert", 3, 5]]},
        {"type": "ok", "process": 1, "value": [["w", 3, 6]]},
    ]
    f.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in ops))
    r = invoke("check", "-w", "closed-predicate", f)
    assert r.exit_code == 2
    assert "line 2" in r.output and "changed again" in r.output


def test_run_with_the_predicate_lock_bug_exits_1():
    r = invoke("run", "-w", "closed-predicate", "--bug", "skip-predicate-locks", "-n", 300)
    assert r.exit_code == 1, r.output
    assert "serializable-2pl" in r.output


def test_matrix_includes_the_predicate_bugs():
    r = invoke("matrix", "-w", "closed-predicate", "--bugs", "--seeds", 1, "-n", 150, "-o", "json")
    assert r.exit_code in (0, 1), r.output
    doc = orjson.loads(r.output)
    text = orjson.dumps(doc).decode()
    assert "skip-predicate-locks" in text and "skip-predicate-siread" in text
    assert "skip-first-updater" not in text  # each key changes once: it cannot show here


def test_json_outputs_validate_against_the_schema(tmp_path):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "docs" / "result.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    out = tmp_path / "si.jsonl"
    assert (
        invoke(
            "run",
            "-w",
            "closed-predicate",
            "-i",
            "snapshot-isolation",
            "-n",
            200,
            "--save",
            out,
            "-o",
            "json",
        ).exit_code
        == 0
    )
    for args in (
        ["check", "-m", "serializable", "-o", "json", out],
        ["run", "-w", "closed-predicate", "-n", 100, "-o", "json"],
    ):
        doc = orjson.loads(invoke(*args).output)
        errors = [f"{list(e.path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
        assert not errors, errors[:3]
