"""Every JSON document mvcc-check prints validates against docs/result.schema.json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from mvcc_check.cli import main
from mvcc_check.report.stamp import JSON_FORMAT, tool_version

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "docs" / "result.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
HIST = REPO / "histories"


def _docs(stdout: str) -> list:
    """One document, or several printed one after another (elle-cli)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(stdout):
        if stdout[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(stdout, i)
        out.append(doc)
    return out


def _valid(*args: str | Path) -> list:
    r = CliRunner().invoke(main, [*map(str, args)])
    assert r.exit_code in (0, 1, 2, 3), r.output
    docs = _docs(r.stdout)
    assert docs, r.output
    for doc in docs:
        errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message[:300]}" for e in errors[:5]]
        for d in doc if isinstance(doc, list) else [doc]:
            assert d["mvcc-check"]["version"] == tool_version()
            assert d["mvcc-check"]["json-format"] == JSON_FORMAT
    return docs


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "args",
    [
        ["check", HIST / "write-skew.edn"],
        ["check", HIST / "serial.jsonl", "--stats"],
        ["check", "-m", "serializable", *sorted(HIST.iterdir())],
        ["check", HIST / "lost-update.jsonl", "--anomaly", "G2-item", "--wfr-keys"],
    ],
    ids=["one", "stats", "several", "options"],
)
def test_check(args):
    docs = _valid(*args, "-o", "json")
    doc = docs[0][0] if isinstance(docs[0], list) else docs[0]
    assert doc["mvcc-check"]["command"] == "check"
    assert doc["mvcc-check"]["options"]["model"]


def test_check_options_are_recorded():
    (doc,) = _valid("check", HIST / "write-skew.edn", "-m", "serializable", "-o", "json")
    opts = doc["mvcc-check"]["options"]
    assert opts["model"] == ["serializable"] and opts["output"] == "json"
    assert opts["workload"] is None and opts["wfr-keys"] is False


def test_check_error_document(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "nope", "process": 0, "value": []}\n')
    (docs,) = _valid("check", bad, HIST / "serial.jsonl", "-o", "json")
    assert docs[0]["error"] and docs[1]["valid?"] is True


def test_elle_cli():
    docs = _valid("elle-cli", "-m", "list-append", "--verbose", HIST / "lost-update.jsonl")
    assert docs[0]["mvcc-check"]["command"] == "elle-cli"


def test_shrink(tmp_path):
    run = tmp_path / "run.jsonl"
    CliRunner().invoke(
        main, ["run", "--bug", "skip-first-updater", "-n", "300", "--save", str(run)]
    )
    (doc,) = _valid("shrink", run, "-m", "serializable", "--stats", "-o", "json")
    assert doc["shrunk"]["txns"] >= 2 and doc["shrunk"]["seconds"] >= 0
    (doc,) = _valid("shrink", HIST / "serial.jsonl", "-o", "json")
    assert doc["shrunk"] is None and doc["valid?"] is True


def test_run_with_shrink():
    (doc,) = _valid("run", "--bug", "skip-first-updater", "-n", "200", "--shrink", "-o", "json")
    assert doc["shrunk"]["anomaly"]


def test_matrix():
    (doc,) = _valid("matrix", "-n", "60", "-r", "1", "-o", "json")
    assert doc["rows"]


def test_database_test_and_hermitage(tmp_path):
    db = f"sqlite:///{tmp_path}/x.db"
    (doc,) = _valid("test", "--db", db, "-i", "serializable", "--txns", "40", "-o", "json")
    assert doc["run"]["committed"] > 0
    (docs,) = _valid(
        "test",
        "--db",
        db,
        "-i",
        "serializable",
        "--txns",
        "20",
        "--seed",
        "1",
        "--seed",
        "2",
        "-o",
        "json",
    )
    assert len(docs) == 2
    (doc,) = _valid("hermitage", "--db", db, "-s", "G0", "-s", "G2-item", "-o", "json")
    assert [s["scenario"] for s in doc["levels"][0]["scenarios"]] == ["G0", "G2-item"]


@pytest.mark.db
def test_a_password_never_reaches_the_stamp(pg_server):
    """The throwaway server trusts loopback, so a password in the URL is accepted and unused."""
    url = pg_server.url.replace("://mvcc@", "://mvcc:secret-pw@", 1)
    assert "secret-pw" in url
    (doc,) = _valid("hermitage", "--db", url, "-s", "G0", "-i", "read-committed", "-o", "json")
    assert doc["mvcc-check"]["options"]["db"] == pg_server.url
    assert "secret-pw" not in json.dumps(doc)


def test_the_schema_rejects_what_it_does_not_describe():
    (doc,) = _valid("check", HIST / "write-skew.edn", "-o", "json")
    for broken in (
        {k: v for k, v in doc.items() if k != "mvcc-check"},
        {**doc, "valid?": "maybe"},
        {**doc, "surprise": 1},
        {**doc, "stats": {**doc["stats"], "seconds-elapsed": 1}},
        {k: v for k, v in doc.items() if k != "not"},
    ):
        assert not VALIDATOR.is_valid(broken)
