"""Issue 10, classes A and D, through `mvcc-check check FILE -o json`.

A: an indeterminate (info) transaction whose write a committed read observed has
committed (or that read saw an aborted write, which is worse), so all its writes
count as a committed transaction's do. D: a read of a value no transaction wrote
is a garbage read, which every model forbids; the elements that were written keep
their dependencies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.analysis import models
from mvcc_check.analysis.checker import Verdict
from mvcc_check.analysis.models import REQUIRED_MODEL_NAMES
from mvcc_check.cli import main

# Models that forbid a G-single cycle, and models that allow it.
FORBID_G_SINGLE = (
    "consistent-view",
    "repeatable-read",
    "snapshot-isolation",
    "serializable",
    "strict-serializable",
    "strong-session-snapshot-isolation",
    "strong-snapshot-isolation",
    "strong-session-serializable",
)
ALLOW_G_SINGLE = ("read-uncommitted", "read-committed", "cursor-stability")


def op(typ: str, process: int, index: int, *mops: list[Any]) -> dict[str, Any]:
    return {"type": typ, "process": process, "f": "txn", "value": list(mops), "index": index}


def txn(status: str, process: int, index: int, *mops: list[Any]) -> list[dict[str, Any]]:
    """An invocation (reads as nil) and its completion; an info completion repeats
    the invocation, as Jepsen records it."""
    inv = [[f, k, None if f == "r" else v] for f, k, v in mops]
    done = [list(m) for m in mops] if status == "ok" else inv
    return [op("invoke", process, index, *inv), op(status, process, index + 1, *done)]


def to_edn(x: Any) -> str:
    if x is None:
        return "nil"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, str):
        return ":" + x
    if isinstance(x, list):
        return "[" + " ".join(to_edn(e) for e in x) + "]"
    return "{" + ", ".join(f"{to_edn(k)} {to_edn(v)}" for k, v in x.items()) + "}"


def write(tmp_path: Path, ops: list[dict[str, Any]], fmt: str) -> Path:
    path = tmp_path / f"h.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(o) + "\n" for o in ops))
    else:
        path.write_text("".join(to_edn(o) + "\n" for o in ops))
    return path


SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "result.schema.json").read_text())


def cli(path: Path, *models_: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON result (checked against the schema) of `mvcc-check check path -o json`."""
    args = ["check", str(path), "-o", "json", *extra]
    for m in models_:
        args += ["-m", m]
    r = CliRunner().invoke(main, args)
    doc = json.loads(r.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert r.exit_code == {True: 0, False: 1, "unknown": 3}[doc["valid?"]], r.output
    return doc


# --- A: info transactions proven committed ------------------------------------------------

FRACTURED = [  # the issue's example: T2 saw T1's append to x but not its append to y
    *txn("info", 0, 0, ["append", "x", 1], ["append", "y", 2]),
    *txn("ok", 3, 2, ["r", "y", []], ["r", "x", [1]]),
]
FRACTURED_REG = [
    *txn("info", 0, 0, ["w", "x", 1], ["w", "y", 2]),
    *txn("ok", 3, 2, ["r", "y", None], ["r", "x", 1]),
]


@pytest.mark.parametrize("fmt", ["jsonl", "edn"])
@pytest.mark.parametrize("ops", [FRACTURED, FRACTURED_REG], ids=["list-append", "rw-register"])
def test_fractured_read_of_a_proven_info_txn_is_g_single(tmp_path, fmt, ops):
    path = write(tmp_path, ops, fmt)
    for model in FORBID_G_SINGLE:
        doc = cli(path, model)
        assert doc["valid?"] is False, model
        assert doc["anomaly-types"] == ["G-single-item"], model
        assert doc["not"] == ["consistent-view", "repeatable-read"]
    for model in ALLOW_G_SINGLE:
        assert cli(path, model)["valid?"] is True, model
    (cycle,) = cli(path, "serializable")["anomalies"]["G-single-item"]
    (proof,) = cycle["committed"]
    assert proof["index"] == 1 and proof["key"] == "x" and proof["value"] == 1
    assert proof["reader"]["index"] == 3 and proof["mop-index"] == 1


def test_the_proof_is_explained_in_words(tmp_path):
    r = CliRunner().invoke(main, ["check", str(write(tmp_path, FRACTURED, "jsonl"))])
    assert r.exit_code == 1
    assert (
        "T2's outcome was not known (info), but T1 read key x = [1], and only T2 appended 1 "
        "to x, so T2 committed" in " ".join(r.stdout.split())
    )


WRITE_CYCLE = [  # the G0: T1's unread append of 2 follows T2's 3
    *txn("info", 0, 0, ["append", "x", 1], ["append", "x", 2]),
    *txn("ok", 3, 2, ["append", "x", 3], ["r", "x", [1, 3]]),
]


@pytest.mark.parametrize("fmt", ["jsonl", "edn"])
def test_write_cycle_through_a_proven_info_txn(tmp_path, fmt):
    """Had T1 not committed, T2 read an aborted write (G1a): read uncommitted allows
    that, every stronger model forbids both, so the cycle rules out read committed
    (reported as the G1c it also is), not read uncommitted."""
    path = write(tmp_path, WRITE_CYCLE, fmt)
    assert cli(path, "read-uncommitted")["valid?"] is True
    for model in ("read-committed", *FORBID_G_SINGLE):
        doc = cli(path, model)
        assert doc["valid?"] is False and doc["anomaly-types"] == ["G1c"], model
        assert doc["not"] == ["read-committed"]
    (cycle,) = cli(path, "serializable")["anomalies"]["G1c"]
    assert cycle["write-cycle"] is True and [s["type"] for s in cycle["steps"]] == ["ww", "ww"]
    assert cycle["steps"][1]["unread"] is True
    ok = [dict(o, type="ok") if o["type"] == "info" else o for o in WRITE_CYCLE]
    doc = cli(write(tmp_path, ok, fmt), "read-uncommitted")
    assert doc["valid?"] is False and doc["anomaly-types"] == ["G0"]


def test_an_unobserved_info_txn_proves_nothing(tmp_path):
    ops = [
        *txn("info", 0, 0, ["append", "x", 1], ["append", "y", 2]),
        *txn("ok", 3, 2, ["r", "y", []], ["r", "x", []]),
        *txn("ok", 4, 4, ["append", "z", 1]),
        *txn("ok", 5, 6, ["r", "z", [1]]),
    ]
    assert cli(write(tmp_path, ops, "jsonl"), "strict-serializable")["valid?"] is True


def test_a_proven_info_txn_still_precedes_nothing_in_real_time(tmp_path):
    """Its completion time is unknown: T1 may have committed after T2 ran, so T2's
    read of x = [] is no stale read, though T3 shows that T1 committed."""
    ops = [
        *txn("info", 0, 0, ["append", "x", 1]),
        *txn("ok", 3, 2, ["r", "x", []]),
        *txn("ok", 4, 4, ["r", "x", [1]]),
    ]
    doc = cli(write(tmp_path, ops, "jsonl"), "strict-serializable")
    assert doc["valid?"] is True


def test_an_info_txns_own_reads_are_not_trusted(tmp_path):
    """A proven info txn's reads are unknown (its completion holds none): they make no edge."""
    ops = [
        *txn("info", 0, 0, ["r", "y", None], ["append", "x", 1]),
        *txn("ok", 3, 2, ["append", "y", 1]),
        *txn("ok", 4, 4, ["r", "x", [1]], ["r", "y", [1]]),
    ]
    assert cli(write(tmp_path, ops, "jsonl"), "serializable")["valid?"] is True


# --- D: garbage reads -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "edn"])
@pytest.mark.parametrize(
    "read, wrote",
    [(["r", "x", [1, 999]], ["append", "x", 1]), (["r", "x", 999], ["w", "x", 1])],
    ids=["list-append", "rw-register"],
)
def test_garbage_read_violates_every_model(tmp_path, fmt, read, wrote):
    path = write(tmp_path, [*txn("ok", 0, 0, wrote), *txn("ok", 3, 2, read)], fmt)
    for model in REQUIRED_MODEL_NAMES:
        doc = cli(path, model)
        assert doc["valid?"] is False, model
        assert "garbage-read" in doc["anomaly-types"], model
    (g,) = cli(path, "read-uncommitted")["anomalies"]["garbage-read"]
    assert g["mop"] == read and g["element"] == 999 and g["op"]["index"] == 3
    assert "read-uncommitted" in cli(path)["not"]


def test_garbage_read_keeps_the_dependency_on_what_was_written(tmp_path):
    """[r x [1 999]] still saw T1's append of 1: with y that closes a G-single cycle."""
    ops = [
        *txn("ok", 0, 0, ["append", "x", 1], ["append", "y", 1]),
        *txn("ok", 3, 2, ["r", "x", [1, 999]], ["r", "y", []]),
    ]
    doc = cli(write(tmp_path, ops, "jsonl"), "serializable")
    assert doc["anomaly-types"] == ["G-single-item", "garbage-read"]
    (cycle,) = doc["anomalies"]["G-single-item"]
    wr = [s for s in cycle["steps"] if s["type"] == "wr"]
    assert wr == [{"type": "wr", "key": "x", "value": 1, "a-mop-index": 0, "b-mop-index": 0}]
    r = CliRunner().invoke(main, ["check", str(write(tmp_path, ops, "jsonl"))])
    assert "which no transaction appended to key x" in r.stdout


def test_a_read_of_a_failed_write_is_g1a_and_of_an_info_write_no_anomaly(tmp_path):
    failed = [*txn("fail", 0, 0, ["append", "x", 1]), *txn("ok", 3, 2, ["r", "x", [1]])]
    doc = cli(write(tmp_path, failed, "jsonl"), "read-committed")
    assert doc["valid?"] is False and "G1a" in doc["anomaly-types"]
    assert "garbage-read" not in doc["anomaly-types"]
    info = [*txn("info", 0, 0, ["append", "x", 1]), *txn("ok", 3, 2, ["r", "x", [1]])]
    assert cli(write(tmp_path, info, "jsonl"), "strict-serializable")["valid?"] is True
    reg = [*txn("info", 0, 0, ["w", "x", 1]), *txn("ok", 3, 2, ["r", "x", 1])]
    assert cli(write(tmp_path, reg, "jsonl"), "strict-serializable")["valid?"] is True


def test_reads_disagreeing_through_a_garbage_element(tmp_path):
    """[1 999] and [1 2] are no prefix of each other (incompatible-order), and 999 is garbage."""
    ops = [
        *txn("ok", 0, 0, ["append", "x", 1]),
        *txn("ok", 1, 2, ["append", "x", 2]),
        *txn("ok", 3, 4, ["r", "x", [1, 999]]),
        *txn("ok", 4, 6, ["r", "x", [1, 2]]),
    ]
    doc = cli(write(tmp_path, ops, "jsonl"), "serializable")
    assert {"garbage-read", "incompatible-order"} <= set(doc["anomaly-types"])
    (g,) = doc["anomalies"]["garbage-read"]
    assert g["mop"] == ["r", "x", [1, 999]]


# --- properties -------------------------------------------------------------------------


@st.composite
def histories(draw: Any, workload: str) -> list[dict[str, Any]]:
    """Small histories, one process per txn, invoked and completed in order: ok txns
    that read (a prefix of every append so far, or for registers any written value)
    and write; info and failed txns that only write, two or three times (an info
    txn's reads are unknown anyway). Values are unique per key."""
    keys = ["x", "y"]
    written: dict[str, list[int]] = {k: [] for k in keys}
    hidden = {k: draw(st.integers(0, 2)) for k in keys}
    ops: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 6))):
        status = draw(st.sampled_from(["ok", "ok", "info", "info", "fail"]))
        mops: list[list[Any]] = []
        for _ in range(draw(st.integers(1 if status == "ok" else 2, 3))):
            k = draw(st.sampled_from(keys))
            if status == "ok" and draw(st.booleans()):
                vs = written[k]
                # Mostly the latest state but for the key's hidden writes (so that
                # some writes stay unread and reads split txns: fractured reads),
                # sometimes any older one.
                n = max(len(vs) - hidden[k], 0)
                n = draw(st.integers(0, len(vs))) if draw(st.integers(0, 3)) == 0 else n
                if workload == "list-append":
                    mops.append(["r", k, vs[:n]])
                else:
                    mops.append(["r", k, vs[n - 1] if n else None])
            else:
                written[k].append(len(written[k]) + 1)
                f = "append" if workload == "list-append" else "w"
                mops.append([f, k, written[k][-1]])
        ops += txn(status, t, 2 * t, *mops)
    return ops


def _check(ops: list[dict[str, Any]], model: str) -> Any:
    text = "".join(json.dumps(o) + "\n" for o in ops)
    return check(parse_history_text(text, source="h.jsonl", format="jsonl"), CheckOptions((model,)))


def _observed_info(ops: list[dict[str, Any]]) -> set[int]:
    """Processes of info txns one of whose writes an ok read shows."""
    seen = set()
    for o in ops:
        if o["type"] == "ok":
            for f, k, v in o["value"]:
                if f == "r" and v is not None:
                    seen |= {(k, e) for e in (v if isinstance(v, list) else [v])}
    return {
        o["process"]
        for o in ops
        if o["type"] == "info" and any((k, v) in seen for f, k, v in o["value"] if f != "r")
    }


# Models that forbid aborted reads (G1a), without realtime order: there an observed info
# txn is as good as committed (its completion time is unknown, so realtime models differ).
AS_GOOD_AS_OK = tuple(
    m
    for m in ("read-committed", "repeatable-read", "snapshot-isolation", "serializable")
    + ("strong-session-snapshot-isolation", "strong-session-serializable")
    if "G1a" in models.prohibited_anomalies([m])
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(["list-append", "rw-register"]),
    data=st.data(),
    model=st.sampled_from(AS_GOOD_AS_OK),
)
def test_an_observed_info_txn_judges_as_an_ok_one(workload, data, model):
    ops = data.draw(histories(workload))
    proven = _observed_info(ops)
    as_ok = [
        dict(o, type="ok") if o["type"] == "info" and o["process"] in proven else o for o in ops
    ]
    assert _check(ops, model).verdict == _check(as_ok, model).verdict


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(["list-append", "rw-register"]),
    data=st.data(),
    model=st.sampled_from(REQUIRED_MODEL_NAMES),
)
def test_a_garbage_value_in_a_read_violates_every_model(workload, data, model):
    ops = data.draw(histories(workload))
    reads = [
        (i, j)
        for i, o in enumerate(ops)
        for j, m in enumerate(o["value"])
        if o["type"] == "ok" and m[0] == "r"
    ]
    if not reads:
        ops += txn("ok", 99, 2 * len(ops), ["r", "x", [] if workload == "list-append" else None])
        reads = [(len(ops) - 1, 0)]
    i, j = data.draw(st.sampled_from(reads))
    f, k, v = ops[i]["value"][j]
    if workload == "list-append":
        v = list(v)
        v.insert(data.draw(st.integers(0, len(v))), 999)
    else:
        v = 999
    value = [list(m) for m in ops[i]["value"]]
    value[j] = [f, k, v]
    ops[i] = dict(ops[i], value=value)
    r = _check(ops, model)
    assert r.verdict is Verdict.INVALID
    assert "garbage-read" in r.anomaly_types


def test_a_read_that_is_no_prefix_of_the_longest_proves_commitment_too(tmp_path):
    """x is read as [2 3] and as [1] (incompatible): the read of [1] still shows
    T1's append, so T1 committed, and its unread append to y closes a G-single."""
    ops = [
        *txn("info", 0, 0, ["append", "x", 1], ["append", "y", 1]),
        *txn("ok", 1, 2, ["append", "x", 2]),
        *txn("ok", 4, 4, ["append", "x", 3]),
        *txn("ok", 5, 6, ["r", "x", [2, 3]]),
        *txn("ok", 6, 8, ["r", "x", [1]], ["r", "y", []]),
    ]
    doc = cli(write(tmp_path, ops, "jsonl"), "serializable")
    assert doc["anomaly-types"] == ["G-single-item", "incompatible-order"]
    (cycle,) = doc["anomalies"]["G-single-item"]
    (proof,) = cycle["committed"]
    assert (proof["index"], proof["reader"]["index"], proof["value"]) == (1, 9, 1)
