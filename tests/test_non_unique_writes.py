"""Histories that break the unique-writes rule are judged on their other keys.

A key with a value written (appended) twice is left out of the inference: no
edge and no anomaly comes from it, the result names it and says that the
verdict covers only the other keys; exit 3 if no key is left; --strict-input
refuses the history (exit 2, the first repeat named) as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from histgen import History, concurrent, serial, txn

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.cli import main
from mvcc_check.report.text import explain_anomaly

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "result.schema.json").read_text())
DUP = {"rw-register": ["w", "k2", "k2"], "list-append": ["append", "k2", 1]}


def _ops(h: History) -> list[dict[str, Any]]:
    return [json.loads(line) for line in h.text().splitlines()]


def _with_dup(ops: list[dict[str, Any]], workload: str, first: bool = True) -> list[dict]:
    """Every op with the workload's repeated write on key k2 (first or last)."""
    mop = DUP[workload]
    out = []
    for op in ops:
        mops = list(op["value"])
        mops.insert(0 if first else len(mops), list(mop))
        out.append({**op, "value": mops})
    return out


def _edn(x: Any, key: bool = False) -> str:
    if x is None:
        return "nil"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, str):
        return (
            ":" + x
            if key or x in ("invoke", "ok", "fail", "info", "append", "r", "w")
            else json.dumps(x)
        )
    if isinstance(x, list):
        return "[" + " ".join(_edn(e) for e in x) + "]"
    return "{" + ", ".join(f"{_edn(k, True)} {_edn(v)}" for k, v in x.items()) + "}"


def _write(tmp_path: Path, ops: list[dict], fmt: str) -> Path:
    p = tmp_path / f"h.{fmt}"
    if fmt == "jsonl":
        p.write_text("".join(json.dumps(op) + "\n" for op in ops))
    else:
        p.write_text("".join(_edn(op) + "\n" for op in ops))
    return p


def run(*args: str | Path):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def _json(*args: str | Path) -> tuple[int, dict]:
    r = run(*args, "-o", "json")
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    return r.exit_code, doc


SKEW = {  # write skew on x and y, concurrent: G2-item under serializable
    "rw-register": concurrent("rx wy1", "ry wx1", register=True),
    "list-append": concurrent("rx ay1", "ry ax1"),
}
CLEAN = {
    "rw-register": serial("wx1", "rx1 wy1", "ry1", register=True),
    "list-append": serial("ax1", "rx1 ay1", "ry1"),
}
ONLY_DUP = {  # nothing but k2
    "rw-register": serial("rk", "rk", register=True),
    "list-append": serial("rk", "rk"),
}

CASES = [(w, f) for w in ("rw-register", "list-append") for f in ("jsonl", "edn")]


@pytest.mark.parametrize(("workload", "fmt"), CASES)
def test_an_anomaly_on_the_other_keys_is_found(tmp_path, workload, fmt):
    p = _write(tmp_path, _with_dup(_ops(SKEW[workload]), workload), fmt)
    r = run(p, "-m", "serializable")
    assert r.exit_code == 1, r.output
    assert (
        "INVALID under serializable, judged only on the 2 keys left in (1 key left out)" in r.stdout
    )
    assert "G2-item" in r.stdout
    assert "left out 1 key, whose writes are not unique: k2" in r.stdout
    code, doc = _json(p, "-m", "serializable")
    assert code == 1 and doc["valid?"] is False and doc["anomaly-types"] == ["G2-item"]
    assert doc["partial?"] is True
    ex = doc["excluded-keys"]
    assert ex["count"] == 1 and ex["keys-left"] == 2
    (rec,) = ex["keys"]
    assert rec["key"] == "k2" and rec["value"] == DUP[workload][2]
    assert rec["first"] == "line 3" and rec["again"] == "line 4"  # the two completions


@pytest.mark.parametrize(("workload", "fmt"), CASES)
def test_clean_other_keys_are_valid_and_the_exclusion_is_said(tmp_path, workload, fmt):
    p = _write(tmp_path, _with_dup(_ops(CLEAN[workload]), workload), fmt)
    r = run(p, "-m", "serializable")
    assert r.exit_code == 0, r.output
    assert (
        "VALID under serializable, judged only on the 2 keys left in (1 key left out)" in r.stdout
    )
    assert "the verdict covers only the other keys" in r.stdout
    code, doc = _json(p, "-m", "serializable")
    assert code == 0 and doc["valid?"] is True
    assert doc["partial?"] is True and doc["excluded-keys"]["keys"][0]["key"] == "k2"


@pytest.mark.parametrize(("workload", "fmt"), CASES)
def test_nothing_left_to_judge_is_undecided(tmp_path, workload, fmt):
    ops = _with_dup(_ops(ONLY_DUP[workload]), workload)
    for op in ops:  # k2 alone: the reads of k become reads of k2
        op["value"] = [m if m[1] == "k2" else [m[0], "k2", m[2]] for m in op["value"]]
    p = _write(tmp_path, ops, fmt)
    for model in ("serializable", "strict-serializable"):  # (realtime edges do not make a verdict)
        r = run(p, "-m", model)
        assert r.exit_code == 3, r.output
        assert "UNDECIDED" in r.stdout and "nothing judged, every key was left out" in r.stdout
        code, doc = _json(p, "-m", model)
        assert code == 3 and doc["valid?"] == "unknown"
        assert doc["excluded-keys"]["keys-left"] == 0


@pytest.mark.parametrize(("workload", "fmt"), CASES)
def test_strict_input_refuses_as_before(tmp_path, workload, fmt):
    p = _write(tmp_path, _with_dup(_ops(CLEAN[workload]), workload), fmt)
    r = run(p, "--strict-input")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    verb = "written" if workload == "rw-register" else "appended"
    assert f"line 4: value {DUP[workload][2]!r} is {verb} to key 'k2' twice" in lines[0]
    assert "also by the op at line 2" in lines[0]
    for cmd in (["elle-cli", "-m", workload], ["shrink"]):
        r = CliRunner().invoke(main, [*cmd, str(p), "--strict-input"])
        assert r.exit_code == 2 and "twice" in r.stderr, (cmd, r.output)


def test_another_input_problem_is_still_refused(tmp_path):
    """Leaving keys out never hides a malformed micro-op, on them or elsewhere."""
    for bad in (["w", "k2", [1]], ["w", "x", None], ["r", "k2", [1]]):
        ops = _with_dup(_ops(CLEAN["rw-register"]), "rw-register")
        ops[-1]["value"].append(bad)
        r = run(_write(tmp_path, ops, "jsonl"))
        assert r.exit_code == 2, (bad, r.output)
        assert "twice" not in r.stderr, r.stderr  # the problem that makes it unusable is named


def _result(ops: list[dict], *models: str) -> Any:
    text = "".join(json.dumps(op) + "\n" for op in ops)
    opts = CheckOptions(models=models or ("serializable",))
    return check(parse_history_text(text, source="h.jsonl", format="jsonl"), opts)


_K2_MOP = re.compile(r" ?\[(append|w|r) k2 (\[[^\]]*\]|[^\]\[]*)\]")


def _steps(result) -> dict[str, list[list[str]]]:
    """Each anomaly's explanation, quoted ops without their k2 micro-ops."""
    return {
        kind: [
            [_K2_MOP.sub("", line).replace(": ", ": ", 1) for line in explain_anomaly(kind, item)]
            for item in (items if isinstance(items, list) else [items])
        ]
        for kind, items in result.anomalies.items()
    }


RW_ANOMALIES = [
    "rx wy1|ry wx1",
    "wx1 wx2|rx1",
    "wx1 rx2|wz1",
    "rx1 wx1|wz1",
    "rx wx1|rx wx2",
    "wx1|rx2",
]
LA_ANOMALIES = [
    "rx ay1|ry ax1",
    "ax1 ax2|rx1",
    "ax1|rx11",
    "ax1|ax2|ax3|rx13|rx123",
    "ax1|rx1 ax2 rx1",
]


@pytest.mark.parametrize("first", [True, False], ids=["dup-first", "dup-last"])
@pytest.mark.parametrize(
    ("workload", "descs"),
    [("rw-register", d) for d in RW_ANOMALIES] + [("list-append", d) for d in LA_ANOMALIES],
)
def test_the_other_keys_are_judged_as_without_the_left_out_key(workload, descs, first):
    """Same verdict, anomalies and explanations as the history without k2 at all,
    concurrent or serial, with failed writers too (a read of a left-out key is no
    aborted or garbage read, and k2's internal reads are not checked)."""
    register = workload == "rw-register"
    for layout in (concurrent, serial):
        for fail_first in (False, True):
            ts = [txn(d, register=register) for d in descs.split("|")]
            if fail_first:
                ts[0].status = "fail"
            base = _ops(layout(*ts))
            dup = _with_dup(base, workload, first)
            if fail_first:  # and a committed read of the failed txn's k2 value, inside one txn
                v = DUP[workload][2]
                inv = next(
                    op
                    for op in reversed(dup)
                    if op["type"] == "invoke" and op["process"] == dup[-1]["process"]
                )
                for read in (v if register else [v], None if register else []):
                    dup[-1]["value"].append(["r", "k2", read])
                    inv["value"].append(["r", "k2", None])
            for models in (("serializable",), ("strict-serializable",), ("read-committed",)):
                want, got = _result(base, *models), _result(dup, *models)
                assert got.excluded_keys and got.excluded_keys[0]["key"] == "k2"
                assert (got.valid, got.anomaly_types) == (want.valid, want.anomaly_types)
                assert (got.not_, got.also_not) == (want.not_, want.also_not)
                assert _steps(got) == _steps(want)
                assert got.stats["edges"] == want.stats["edges"]


def test_every_key_left_out_is_named_and_counted():
    ops = _ops(serial("wa1", "ra1 wb1", "rb1", register=True))
    for op in ops:
        op["value"] = op["value"] + [["w", f"k{i}", 7] for i in range(8)]
    result = _result(ops)
    assert [r["key"] for r in result.excluded_keys] == [f"k{i}" for i in range(8)]
    assert result.keys_left == 2 and result.valid is True


def test_elle_cli_keeps_its_line_and_says_the_exclusion_on_stderr(tmp_path):
    p = _write(tmp_path, _with_dup(_ops(CLEAN["rw-register"]), "rw-register"), "jsonl")
    r = CliRunner().invoke(main, ["elle-cli", "-m", "rw-register", "-c", "serializable", str(p)])
    assert r.exit_code == 0
    assert r.stdout == f"{p} \t true\n"
    assert "judged without 1 key whose writes are not unique (k2)" in r.stderr
    r = CliRunner().invoke(main, ["elle-cli", "-m", "rw-register", "-v", "json", str(p)])
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert doc["partial?"] is True and doc["excluded-keys"]["count"] == 1


def test_the_html_report_says_the_verdict_is_partial(tmp_path):
    p = _write(tmp_path, _with_dup(_ops(CLEAN["list-append"]), "list-append"), "jsonl")
    out = tmp_path / "report"
    r = run(p, "-m", "serializable", "--report", out, "--junit", out / "junit.xml")
    assert r.exit_code == 0, r.output
    page = (out / "index.html").read_text()
    assert page.count("judged only on the 2 keys left in: 1 left out, their writes not unique") == 2
    assert "&#x27;k2&#x27;" in page or "'k2'" in page
    junit = (out / "junit.xml").read_text()
    assert "<system-out>judged only on the 2 keys left in" in junit and "<failure" not in junit


def _serial_ops(*values: list) -> list[dict]:
    """Register txns run one after another, each on its own process."""
    ops: list[dict] = []
    for p, mops in enumerate(values):
        inv = [[f, k, None if f == "r" else v] for f, k, v in mops]
        ops.append({"type": "invoke", "process": p, "index": len(ops), "value": inv})
        ops.append({"type": "ok", "process": p, "index": len(ops), "value": mops})
    return ops


A = [["w", "k", "v"], ["w", "x", 1]]
B = [["w", "k", "v"]]
C = [["r", "k", "v"], ["r", "x", None]]
T1 = [["w", "a", 1], ["w", "b", 1], ["w", "k", "v"]]
T2 = [["r", "a", None], ["r", "b", 1]]


def test_a_part_of_the_history_never_judges_a_key_the_whole_could_not():
    """Without B, A is k's only writer of v and C's read looks like A's: a G-single
    that the whole history does not show (C may have read B's v)."""
    part = _serial_ops(A, C)
    assert _result(part).anomaly_types == ["G-single-item"]  # judged alone, k is unique
    text = "".join(json.dumps(op) + "\n" for op in part)
    opts = CheckOptions(models=("serializable",), left_out_keys=("k",))
    result = check(parse_history_text(text, source="h.jsonl", format="jsonl"), opts)
    assert result.valid is True
    assert result.excluded_keys == [{"key": "k", "from-whole-history": True}]


def test_shrink_keeps_the_whole_historys_left_out_keys_out(tmp_path):
    p = tmp_path / "h.jsonl"
    p.write_text("".join(json.dumps(op) + "\n" for op in _serial_ops(A, B, C, T1, T2)))
    whole = run(p, "-m", "serializable")
    assert whole.exit_code == 1 and "G-single-item" in whole.stdout
    r = CliRunner().invoke(main, ["shrink", str(p), "-m", "serializable", "-o", "json"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert doc["shrunk"]["txns"] == 2 and doc["anomaly-types"] == ["G-single-item"]
    assert doc["excluded-keys"]["keys"] == [{"key": "k", "from-whole-history": True}]
    r = CliRunner().invoke(main, ["shrink", str(p), "-m", "serializable"])
    assert "k (as in the whole history this one was cut from)" in r.stdout
