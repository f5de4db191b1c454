"""`mvcc-check run` and `mvcc-check matrix` from the command line."""

import orjson
from click.testing import CliRunner

from mvcc_check.cli import main
from mvcc_check.history import load_history


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_run_valid_level_exits_0_and_saves_a_readable_history(tmp_path):
    out = tmp_path / "run.jsonl"
    r = invoke("run", "-i", "serializable", "-n", "200", "--save", str(out))
    assert r.exit_code == 0, r.output
    assert "VALID" in r.output
    h = load_history(str(out))
    assert len(h.ops) == 400  # an invoke and a completion per transaction


def test_run_against_a_stronger_model_exits_1_with_json(tmp_path):
    r = invoke(
        "run",
        "-i",
        "snapshot-isolation",
        "-n",
        "300",
        "-k",
        "4",
        "--model",
        "serializable",
        "-o",
        "json",
    )
    assert r.exit_code == 1, r.output
    doc = orjson.loads(r.output)
    assert doc["valid?"] is False
    assert "G2-item" in doc["anomaly-types"]
    assert doc["engine"]["isolation"] == "snapshot-isolation"
    assert doc["engine"]["committed"] > 0


def test_bug_uses_its_level_and_is_caught():
    r = invoke("run", "--bug", "skip-dangerous-structure", "-n", "300", "-k", "6", "-o", "json")
    assert r.exit_code == 1
    assert orjson.loads(r.output)["engine"]["isolation"] == "serializable"


def test_shrink_prints_a_transcript_and_saves_the_small_history(tmp_path):
    out = tmp_path / "skew.jsonl"
    r = invoke(
        "run",
        "-i",
        "snapshot-isolation",
        "-m",
        "serializable",
        "-n",
        "500",
        "-k",
        "6",
        "--shrink",
        "--save",
        str(out),
    )
    assert r.exit_code == 1, r.output
    assert "Shrunk from 500 to 2 transactions" in r.output
    assert "session" in r.output and "commit (ok)" in r.output
    small = tmp_path / "skew.min.jsonl"
    assert len(load_history(str(small)).ops) == 4
    again = invoke("check", "--model", "serializable", str(small))
    assert again.exit_code == 1 and "G2-item" in again.output


def test_same_seed_same_saved_bytes(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        assert (
            invoke(
                "run", "-i", "read-committed", "-n", "200", "-s", "9", "--save", str(p)
            ).exit_code
            == 0
        )
    assert a.read_bytes() == b.read_bytes()


def test_usage_errors_exit_2():
    assert invoke("run", "-i", "chaos").exit_code == 2
    assert invoke("run", "--model", "no-such-model").exit_code == 2
    assert invoke("run", "--bug", "nope").exit_code == 2


def test_list_bugs():
    r = invoke("run", "--list-bugs")
    assert r.exit_code == 0
    for name in (
        "skip-first-updater",
        "skip-dangerous-structure",
        "read-aborted",
        "stale-snapshot",
    ):
        assert name in r.output


def test_matrix_table_and_json():
    r = invoke("matrix", "--txns", "150", "--seeds", "2", "--bugs")
    assert r.exit_code == 0, r.output
    assert "claim held" in r.output and "caught" in r.output and "MISSED" not in r.output
    r = invoke("matrix", "--txns", "150", "--seeds", "2", "-o", "json")
    rows = orjson.loads(r.output)["rows"]
    assert [row["level"] for row in rows][:2] == ["read-uncommitted", "read-committed"]
    assert all(row["claim-held"] for row in rows)


def test_a_bug_that_changes_nothing_under_the_level_is_a_usage_error():
    r = invoke("run", "-i", "read-committed", "--bug", "skip-dangerous-structure")
    assert r.exit_code == 2 and "changes nothing" in r.output


def test_matrix_against_one_model():
    r = invoke("matrix", "--txns", "150", "--seeds", "2", "--model", "serializable", "-o", "json")
    assert r.exit_code == 1  # the weaker levels do not give serializable
    held = {row["level"]: row["claim-held"] for row in orjson.loads(r.output)["rows"]}
    assert held["serializable"] and held["serializable-2pl"]
    assert not held["snapshot-isolation"] and not held["read-committed"]
    assert invoke("matrix", "--model", "nonsense").exit_code == 2


def test_transcript_of_a_small_run():
    r = invoke("run", "-i", "read-committed", "-n", "4", "-c", "2", "-k", "2", "--transcript")
    assert r.exit_code in (0, 3), r.output  # 3: too small to order anything
    assert "session 0" in r.output and "session 1" in r.output
    assert r.output.count("begin") == 4
