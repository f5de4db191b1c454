"""The columnar rw-register inference agrees with the per-op one.

Same edges (as a set, after EdgeBuilder.build), same anomaly records (keys,
values, order of records and of types), the same explanation for every
relation of every pair of transactions, and the same HistoryError on
malformed input: on random histories (hypothesis) under every combination of
version-order sources, on the rw-register conformance cases and on
histories/.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reference import rw_register as old
from reference.txns import build_txns

from mvcc_check import load_history
from mvcc_check.analysis.columnar import rw_register as new
from mvcc_check.analysis.columnar.rw_table import version_ids
from mvcc_check.analysis.graph import RW, WR, WW
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import columns_from_ops
from mvcc_check.history.ops import Op
from mvcc_check.history.pairing import pair_columns
from mvcc_check.history.readers import History
from mvcc_check.lab.engine_runs import matrix_trials
from mvcc_check.lab.judge import in_memory

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = Path(os.environ.get("MVCC_CHECK_CONFORMANCE", ROOT.parent / "shared" / "conformance"))
ALL_SOURCES = [new.VersionSources(*flags) for flags in itertools.product((False, True), repeat=3)]


def _run_old(ops: list[Op], s: new.VersionSources) -> Any:
    try:
        th = build_txns(History(source="h.jsonl", ops=ops, format="jsonl"))
    except HistoryError as e:  # (pairing: tested in test_pairing_columns)
        return -1, str(e)
    try:
        inf = old.infer(th, old.VersionSources(s.wfr_keys, s.sequential_keys, s.linearizable_keys))
    except HistoryError as e:
        return len(th.txns), str(e)
    return len(th.txns), inf


def _run_new(ops: list[Op], s: new.VersionSources) -> Any:
    try:
        tc = pair_columns(columns_from_ops(ops, source="h.jsonl"))
    except HistoryError as e:
        return -1, str(e)
    try:
        return tc.n, new.infer(tc, s)
    except HistoryError as e:
        return tc.n, str(e)


def _edges(inf: Any, n: int) -> set[tuple[int, int, int]]:
    g = inf.edges.build(n)
    return set(zip(g.src.tolist(), g.dst.tolist(), g.rel.tolist(), strict=True))


def assert_same(ops: list[Op], sources: new.VersionSources, all_pairs: bool = True) -> None:
    """The two inferences agree on ops (copied for each: neither may see the other's),
    given what the checker gives them: failed and indeterminate transactions' reads
    count as nil (`checker._evidence_only`), whatever their shape."""
    ops = _as_evidence(ops)
    n, a = _run_old(_copy(ops), sources)
    m, b = _run_new(_copy(ops), sources)
    assert n == m
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert list(b.anomalies) == list(a.anomalies)
    for kind in a.anomalies:
        if kind == "cyclic-versions" and _mixed(a.anomalies[kind] + b.anomalies[kind]):
            assert _sccs(b.anomalies[kind]) == _sccs(a.anomalies[kind])
        else:
            assert b.anomalies[kind] == a.anomalies[kind], kind
    assert _edges(b, n) == _edges(a, n)
    pairs = itertools.product(range(n), repeat=2) if all_pairs else _edge_pairs(a, n)
    for x, y in pairs:
        for rel in (WW, WR, RW):
            assert b.explainer.explain(x, y, rel) == _old_explain(a, x, y, rel), (x, y, rel)


def _as_evidence(ops: list[Op]) -> list[Op]:
    """The ops with the values read by failed and indeterminate completions set to nil."""
    out = []
    for op in ops:
        if op.type in ("fail", "info"):
            value = [[f, k, None if f == "r" else v] for f, k, v in op.value]
            op = msgspec.structs.replace(op, value=value)
        out.append(op)
    return out


def _mixed(records: list[dict]) -> bool:
    """Do cyclic-versions records show 1.0 or true? The per-op inference showed
    whichever of equal values it met first in a set; the columns show the
    integer (every other record quotes the ops, and is compared exactly)."""
    return any(type(v) in (bool, float) for r in records for v in r["scc"])


def _sccs(records: list[dict]) -> list:
    return [(r["key"], sorted(repr(v if v is None else int(v)) for v in r["scc"])) for r in records]


def _edge_pairs(inf: Any, n: int) -> list[tuple[int, int]]:
    g = inf.edges.build(n)
    return list(zip(g.src.tolist(), g.dst.tolist(), strict=True))


def _old_explain(inf: Any, a: int, b: int, rel: int) -> Any:
    try:
        return inf.explainer.explain(a, b, rel)
    except AssertionError:  # the old explainer asserts on pairs no edge joins
        return None


def _copy(ops: list[Op]) -> list[Op]:
    return [
        Op(
            type=o.type,
            value=[list(m) for m in o.value],
            process=o.process,
            index=o.index,
            time=o.time,
            f=o.f,
            line=o.line,
        )
        for o in ops
    ]


# ---------------------------------------------------------------- random histories

KEYS = ["x", "y", 0, "0", 1]


@st.composite
def histories(draw: st.DrawFn) -> list[Op]:
    """Ops of random register transactions, laid out by processes in a random
    interleaving: ok, fail, info and never-completed txns, keys touched several
    times in one txn, reads of earlier, later, unwritten and nil values, and now
    and then a malformed micro-op or a value written twice."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True))
    style = draw(st.sampled_from(["small", "small", "sparse", "str", "big", "mixed"]))
    malformed = draw(st.integers(0, 9)) == 0
    n = draw(st.integers(0, 8))
    counters = dict.fromkeys(keys, 0)

    def value(i: int) -> Any:
        if style == "mixed":  # equal values written differently: 1, 1.0 and true are one value
            return draw(st.sampled_from([i, float(i), True if i == 1 else i]))
        return {"small": i, "sparse": i * 10**12 - 5, "str": f"v{i}", "big": 2**70 + i}[style]

    txns = []
    for _ in range(n):
        mops = []
        for _ in range(draw(st.integers(0, 5))):
            k = draw(st.sampled_from(keys))
            if draw(st.booleans()):
                counters[k] += 1
                v = value(counters[k])
                if malformed and draw(st.integers(0, 5)) == 0:
                    v = draw(st.sampled_from([None, [1], {"a": 1}, value(1), value(2)]))
                mops.append(["w", k, v])
            else:
                choice = draw(st.integers(0, 9))
                v = None if choice < 3 else value(draw(st.integers(1, counters[k] + 2)))
                if choice == 9:
                    v = value(99)  # never written
                if malformed and draw(st.integers(0, 5)) == 0:
                    v = draw(st.sampled_from([[1], {"a": 1}]))
                mops.append(["r", k, v])
            if malformed and draw(st.integers(0, 12)) == 0:
                mops.append(["append", k, 1])
        status = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info", "open"]))
        keep_reads = draw(st.booleans())  # a failed or info completion with read values
        alone = status == "ok" and draw(st.integers(0, 5)) == 0  # completion only
        txns.append((mops, status, keep_reads, alone, draw(st.sampled_from([0, 1, 2, None]))))
    return _lay_out(draw, txns)


def _lay_out(draw: st.DrawFn, txns: list[tuple]) -> list[Op]:
    """Invocations and completions in a random order that keeps each process sequential."""
    queues: dict[Any, list] = {}
    for t in txns:
        queues.setdefault(t[4], []).append(t)
    open_: dict[Any, tuple] = {}
    ops: list[Op] = []

    def emit(typ: str, value: list, process: Any) -> None:
        i = len(ops)
        ops.append(Op(type=typ, value=value, process=process, index=i, time=i, f="txn", line=i + 1))

    while queues or open_:
        choices = sorted({*queues, *open_}, key=repr)
        p = draw(st.sampled_from(choices))
        if p in open_:
            mops, status, keep_reads, _, _ = open_.pop(p)
            if status != "open":
                done = mops if status == "ok" or keep_reads else _invocation(mops)
                emit(status, [list(m) for m in done], p)
            continue
        t = queues[p].pop(0)
        if not queues[p]:
            del queues[p]
        mops, status, _, alone, _ = t
        if alone:
            emit("ok", [list(m) for m in mops], p)
            continue
        emit("invoke", _invocation(mops), p)
        if status == "open":  # never completes: its process does nothing more
            queues.pop(p, None)
        else:
            open_[p] = t
    return ops


def _invocation(mops: list[list]) -> list[list]:
    return [[f, k, None if f == "r" else v] for f, k, v in mops]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from(ALL_SOURCES))
@example(  # a failed transaction's read of a list: no evidence, so no shape error either
    [
        Op(type="invoke", value=[["r", "x", None]], process=0, index=0, time=0, f="txn", line=1),
        Op(type="fail", value=[["r", "x", [1]]], process=0, index=1, time=1, f="txn", line=2),
    ],
    ALL_SOURCES[0],
)
def test_columnar_inference_matches_per_op(ops: list[Op], sources: new.VersionSources) -> None:
    assert_same(ops, sources)


# ---------------------------------------------------------------- recorded histories


def _register_files() -> list[tuple[str, new.VersionSources | None]]:
    out: list[tuple[str, new.VersionSources | None]] = []
    cli = CONFORMANCE / "elle-cli" / "manifest.json"
    if cli.exists():
        for c in json.loads(cli.read_text()):
            h = c.get("history") or c.get("history_candidate")
            if c["workload"] == "rw-register" and h:
                out.append((str(CONFORMANCE / "elle-cli" / h), None))
    tests = CONFORMANCE / "elle-tests" / "manifest.json"
    if tests.exists():
        names = {
            c["history"] for c in json.loads(tests.read_text()) if c["workload"] != "list-append"
        }
        out += [(str(CONFORMANCE / "elle-tests" / h), None) for h in sorted(names)]
    for p in sorted((ROOT / "histories").iterdir()):  # the register ones
        if not any(m[0] == "append" for op in load_history(str(p)).ops for m in op.value):
            out.append((str(p), None))
    return out


FILES = _register_files()


@pytest.mark.parametrize("path", [p for p, _ in FILES], ids=[Path(p).name for p, _ in FILES])
def test_recorded_histories_match(path: str) -> None:
    ops = load_history(path).ops
    for sources in ALL_SOURCES:
        assert_same(ops, sources, all_pairs=len(ops) < 120)


def test_conformance_cases_are_found() -> None:
    if os.environ.get("CI") == "true" or CONFORMANCE.exists():
        assert sum("elle-cli" in p for p, _ in FILES) >= 20
        assert sum("elle-tests" in p for p, _ in FILES) >= 20


# ---------------------------------------------------------------- version ids


@example([(0, -(2**63)), (1, -(2**63)), (0, None)])
@example([(0, 2**63 - 1), (0, -(2**63)), (1, "a")])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.one_of(
                st.none(), st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1), st.just("a")
            ),
        ),
        max_size=30,
    )
)
def test_version_ids_are_equal_exactly_for_equal_key_and_value(pairs: list) -> None:
    import numpy as np

    from mvcc_check.history.columns import ColumnBuilder

    b = ColumnBuilder()
    tagged = [b.tagged(v) for _, v in pairs]
    key = np.array([k for k, _ in pairs], np.int32)
    tag = np.array([t for t, _ in tagged], np.int8)
    val = np.array([v for _, v in tagged], np.int64)
    vid, coder = version_ids(key, tag, val, 4)
    nil = coder.nil_vid
    assert len(set(nil.tolist())) == 4
    for (i, (ki, vi)), (j, (kj, vj)) in itertools.product(enumerate(pairs), repeat=2):
        assert (vid[i] == vid[j]) == (ki == kj and vi == vj)
    for i, (k, v) in enumerate(pairs):
        assert (vid[i] == nil[k]) == (v is None)
        assert 0 <= vid[i] < coder.n_vids
        assert coder.vid(k, int(tag[i]), int(val[i])) == vid[i]  # (what explanations use)


# ---------------------------------------------------------------- engine histories

ENGINE_TRIALS = matrix_trials(txns=200, seeds=1, bugs=True, workload="rw-register", keys=4)


@pytest.mark.parametrize("trial", [t for _, t in ENGINE_TRIALS], ids=[n for n, _ in ENGINE_TRIALS])
def test_engine_histories_match(trial) -> None:
    """Every level and bug of the built-in engine, with crashes (info txns) and
    rollbacks; explanations compared on the graph's edges."""
    run = run_engine(
        trial.level,
        trial.spec,
        bugs=(trial.bug,) if trial.bug else (),
        rollback_rate=0.1,
        crash_rate=0.05,
    )
    ops = in_memory(run.ops, "<engine run>").ops
    for sources in (ALL_SOURCES[0], ALL_SOURCES[-1]):
        assert_same(ops, sources, all_pairs=False)


def test_equal_values_written_differently_are_quoted_as_written() -> None:
    """1, 1.0 and true are one register value; records and explanations show
    each as its op wrote it, like the per-op inference."""
    raw = [
        ("ok", [["w", "x", True], ["w", "y", 2.0]], 0),
        ("ok", [["r", "x", True], ["r", "y", None]], 1),
        ("ok", [["r", "y", 2], ["w", "x", 3.0]], 2),
    ]
    ops = [Op(type=t, value=v, process=p, index=i, line=i + 1) for i, (t, v, p) in enumerate(raw)]
    for sources in ALL_SOURCES:
        assert_same(ops, sources)
    inf = _run_new(_copy(ops), ALL_SOURCES[0])[1]
    assert inf.explainer.explain(0, 1, WR)["value"] is True  # (the columns hold 1)
    assert repr(inf.explainer.explain(1, 0, RW)["value'"]) == "2.0"
    assert repr(inf.explainer.explain(0, 2, WR)["value"]) == "2"  # as T2 read it


def test_cyclic_versions_of_keys_first_met_in_one_txn_keep_the_per_op_order() -> None:
    """Under linearizable_keys alone, the per-op inference met the keys of one
    txn in the iteration order of a set of them; the records follow it."""
    keys = ["k3", "a", 7, "zz", "0", 0, "m"]
    t1 = [["w", k, 1] for k in keys]
    t2 = [["r", k, None] for k in reversed(keys)]  # after t1 completed: reads the initial nil
    raw = [("invoke", t1, 0), ("ok", t1, 0), ("invoke", _invocation(t2), 1), ("ok", t2, 1)]
    ops = [Op(type=t, value=v, process=p, index=i, line=i + 1) for i, (t, v, p) in enumerate(raw)]
    sources = new.VersionSources(linearizable_keys=True)
    assert_same(ops, sources)
    records = _run_new(_copy(ops), sources)[1].anomalies["cyclic-versions"]
    assert sorted(map(repr, (r["key"] for r in records))) == sorted(map(repr, keys))
    assert all(r["scc"] == [1, None] for r in records)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from(ALL_SOURCES))
def test_ops_reread_from_the_file_give_the_same_records(ops: list[Op], sources) -> None:
    """Columns without ops in memory (as the scanner makes them) quote each op
    re-read from its line: records, explanations and errors are the same."""
    import tempfile

    from mvcc_check.history.columns import ColumnBuilder

    def line(op: Op) -> bytes:
        raw = {**op.to_json(), "time": op.time}
        if op.process is None:  # (a "process": null op is no client op: leave the key out)
            del raw["process"]
        return json.dumps(raw).encode()  # (not orjson: integers beyond 64 bits)

    lines = [line(op) for op in ops]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "h.jsonl"
        path.write_bytes(b"".join(line + b"\n" for line in lines))
        b = ColumnBuilder()
        offset = 0
        for op, line in zip(_copy(ops), lines, strict=True):
            b.add_op(op, offset)
            offset += len(line) + 1
        on_file = b.finish("h.jsonl", "jsonl", path=str(path))
        in_memory = columns_from_ops(_copy(ops), source="h.jsonl")
        try:
            tcs = [pair_columns(on_file), pair_columns(in_memory)]
        except HistoryError:
            return
        out = []
        for tc in tcs:
            try:
                inf = new.infer(tc, sources)
            except HistoryError as e:
                out.append(str(e))
                continue
            pairs = itertools.product(range(tc.n), repeat=2)
            why = [inf.explainer.explain(x, y, r) for x, y in pairs for r in (WW, WR, RW)]
            out.append((inf.anomalies, why))
        assert out[0] == out[1]
