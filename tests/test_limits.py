"""check --time-limit / --max-memory: a check that reaches a limit stops cleanly with
exit 3 and says which stages it finished; one within its limits gives the same verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from test_json_schema import VALIDATOR

from mvcc_check.errors import OptionError
from mvcc_check.lab.limits import STAGES, parse_size

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """60,000 serial transactions, each appending to a key and reading it (about a
    second's check, far more than the limits below allow); valid."""
    path = tmp_path_factory.mktemp("limits") / "big.jsonl"
    lines = []
    for i in range(60_000):
        k = f"k{i // 4}"
        seen = list(range(i - i % 4, i + 1))
        for typ, read in (("invoke", None), ("ok", seen)):
            mops = [["append", k, i], ["r", k, read]]
            lines.append(orjson.dumps({"type": typ, "process": i % 8, "value": mops}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _check(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mvcc_check.cli", "check", "-q", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def test_sizes():
    assert parse_size("512M") == 512 << 20
    assert parse_size("2G") == parse_size("2GiB") == parse_size("2gb") == 2 << 30
    assert parse_size("1.5K") == 1536 and parse_size("1000") == 1000
    for bad in ("", "lots", "-1G", "0", "2X"):
        with pytest.raises(OptionError):
            parse_size(bad)


def test_time_limit_stops_with_exit_3_and_says_what_was_decided(big):
    p = _check(big, "--time-limit", "0.05", "-o", "json")
    assert p.returncode == 3, p.stderr
    doc = json.loads(p.stdout)
    assert VALIDATOR.is_valid(doc), list(VALIDATOR.iter_errors(doc))[:3]
    assert doc["valid?"] == "unknown" and "anomaly-types" not in doc
    u = doc["undecided"]
    assert u["reason"] == "time-limit" and u["limit"] == 0.05
    assert u["not-decided"][-1] == STAGES[-1][1]  # the cycle search, hence the verdict
    assert len(u["decided"]) + len(u["not-decided"]) == len(STAGES)
    assert doc["mvcc-check"]["options"]["time-limit"] == 0.05
    text = _check(big, "--time-limit", "0.05")
    assert text.returncode == 3
    assert "UNDECIDED" in text.stdout and "stopped at --time-limit 0.05 s" in text.stdout
    assert "not decided: the cycle search" in text.stdout and "VALID" not in text.stdout


def test_memory_cap_stops_with_exit_3_not_an_oom_kill(big):
    # (the check of `big` now fits in 150M; 80M stops it while reading, whose numpy
    # and Python take about 70M of data already)
    p = _check(big, "--max-memory", "80M", "-o", "json")
    assert p.returncode == 3, p.stderr
    u = json.loads(p.stdout)["undecided"]
    assert u["reason"] == "max-memory" and u["limit"] == 80 << 20
    assert STAGES[-1][1] in u["not-decided"]


def test_within_the_limits_the_verdict_is_the_same(big):
    plain = json.loads(_check(big, "-m", "serializable", "-o", "json").stdout)
    capped = _check(
        big, "-m", "serializable", "-o", "json", "--time-limit", "300", "--max-memory", "4G"
    )
    assert capped.returncode == 0, capped.stderr
    doc = json.loads(capped.stdout)
    assert doc.pop("mvcc-check")["options"]["max-memory"] == "4G"
    plain.pop("mvcc-check")
    assert doc == plain


def test_a_torn_tail_is_dropped_under_limits_too(tmp_path):
    """--drop-torn-tail reaches the limited child (it was once read there without it:
    exit 2 for a history the same command judges without limits)."""
    whole = (REPO / "histories" / "lost-update.jsonl").read_bytes()
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(whole + whole.splitlines()[-1][:-9])  # a last line cut short
    plain = _check(torn, "--drop-torn-tail", "-m", "serializable", "-o", "json")
    capped = _check(
        torn, "--drop-torn-tail", "-m", "serializable", "-o", "json", "--time-limit", "60"
    )
    assert (capped.returncode, plain.returncode) == (1, 1), capped.stderr
    doc, want = json.loads(capped.stdout), json.loads(plain.stdout)
    doc.pop("mvcc-check"), want.pop("mvcc-check")
    assert doc == want and doc["valid?"] is False


def test_limits_and_several_histories(big, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "ok", "process": 0, "value": [["frob", "x", 1]]}\n')
    skew = REPO / "histories" / "write-skew.edn"
    p = _check(skew, big, bad, "-m", "serializable", "--time-limit", "0.3", "-o", "json")
    docs = json.loads(p.stdout)
    assert VALIDATOR.is_valid(docs), list(VALIDATOR.iter_errors(docs))[:3]
    assert docs[0]["valid?"] is False  # judged well within the limit
    assert docs[1]["undecided"]["reason"] == "time-limit"
    assert "error" in docs[2] and "line 1" in docs[2]["error"]
    assert p.returncode == 2  # unusable input wins, then invalid, then undecided
    assert len(p.stderr.strip().splitlines()) == 1


def test_bad_limits_are_usage_errors(big):
    assert _check(big, "--max-memory", "lots").returncode == 2
    assert _check(big, "--time-limit", "0").returncode == 2


def test_a_tight_cap_stops_reading_and_never_hangs(big):
    """At 60M the scanner's second thread could not start, and Thread.start waited
    for it forever; under a cap the history is read on one thread."""
    p = subprocess.run(
        [sys.executable, "-m", "mvcc_check.cli", "check", "-q", str(big), "--max-memory", "60M"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert p.returncode == 3, p.stderr
