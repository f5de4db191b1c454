"""The columnar list-append inference equals the per-op one: the same edges,
anomaly records (in order), explanation of every edge, and first input error,
on random histories (ok, fail, info and unfinished txns; keys touched many
times in one txn; stale, garbage and duplicate reads; malformed micro-ops),
on the small histories of histories/ and on the conformance cases."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from la_compare import assert_same, new_result, old_result

from mvcc_check import load_history
from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import columns_from_ops
from mvcc_check.history.ops import Op
from mvcc_check.history.pairing import pair_columns

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = Path(os.environ.get("MVCC_CHECK_CONFORMANCE", ROOT.parent / "shared" / "conformance"))

KEYS = ["x", "y", 0, 1, "0"]
ODD_VALUES = [True, 1.0, "a", None, 2.5, 1 << 70]
UNHASHABLE = [[1], {"a": 1}]


@st.composite
def _txn(
    draw: Any, state: dict, counter: dict, broken: bool, rounds: int = 5
) -> tuple[str, list[list[Any]]]:
    """One transaction: its outcome and micro-ops, reads drawn against `state`
    (the committed lists so far) and the txn's own appends."""
    status = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info", "open"]))
    own: dict[Any, list] = {}
    mops: list[list[Any]] = []
    for _ in range(draw(st.integers(0, rounds))):
        k = draw(st.sampled_from(KEYS[:3] if draw(st.booleans()) else KEYS))
        f = draw(st.sampled_from(["append", "append", "r", "r", "rmw"] + (["w"] if broken else [])))
        if f in ("r", "rmw"):
            seen = [state.get(k, []), own.get(k, []), state.get(("dirty", k), [])]
            mops.append(["r", k, draw(_read(*seen, counter.get(k, 0) + 1, broken))])
        if f in ("append", "rmw"):
            counter[k] = counter.get(k, 0) + 1
            v: Any = counter[k]
            pick = draw(st.integers(0, 30))
            if pick == 0:
                v = draw(st.sampled_from(ODD_VALUES))
            elif pick == 1 and broken:
                v = draw(st.sampled_from([*UNHASHABLE, 1, 2]))  # repeats too
            own.setdefault(k, []).append(v)
            state.setdefault(("dirty", k), []).append(v)  # every append, in order
            mops.append(["append", k, v])
        elif f == "w":
            mops.append(["w", k, 1])
    return status, mops


@st.composite
def _read(draw: Any, committed: list, own: list, dirty: list, nxt: int, broken: bool) -> Any:
    how = draw(st.integers(0, 14))
    if how <= 5:  # what a serial execution would show
        return committed + own
    if how == 6:  # appends of failed, unfinished and running txns too
        return dirty if draw(st.booleans()) else dirty[: draw(st.integers(0, len(dirty)))]
    if how == 7:  # the value this txn may append next (a future read)
        return committed + own + [nxt]
    if how <= 10:  # a stale state (a prefix), maybe with the own appends
        n = draw(st.integers(0, len(committed)))
        return committed[:n] + (own if draw(st.booleans()) else [])
    if how == 11:
        return None
    if how == 12 and broken:
        return draw(st.sampled_from([5, "s", [UNHASHABLE[1]]]))
    return draw(st.lists(st.sampled_from([1, 2, 3, 4, True, "a", None]), max_size=5))


@st.composite
def histories(draw: Any, broken: bool = False, rounds: int = 5) -> list[Op]:
    """Histories of up to nine txns, each of up to `rounds` appends, reads or both."""
    state: dict[Any, list] = {}
    counter: dict[Any, int] = {}
    raw: list[tuple[str, int, list]] = []
    open_: list[tuple[int, str, list]] = []
    for proc in range(draw(st.integers(0, 9))):
        while open_ and draw(st.booleans()):
            _complete(raw, open_.pop(draw(st.integers(0, len(open_) - 1))), state)
        status, mops = draw(_txn(state, counter, broken, rounds))
        raw.append(("invoke", proc, [[f, k, None if f == "r" else v] for f, k, v in mops]))
        open_.append((proc, status, mops))
    while open_:
        _complete(raw, open_.pop(0), state)
    return [
        Op(type=t, value=v, process=p, index=i, time=10 * i, f="txn", line=i + 1)  # type: ignore[arg-type]
        for i, (t, p, v) in enumerate(raw)
    ]


def _complete(raw: list, txn: tuple[int, str, list], state: dict) -> None:
    proc, status, mops = txn
    if status == "open":
        return
    if status == "ok":
        for f, k, v in mops:
            if f == "append":
                state.setdefault(k, []).append(v)
        raw.append(("ok", proc, [list(m) for m in mops]))
    else:
        raw.append((status, proc, [[f, k, None if f == "r" else v] for f, k, v in mops]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_same_as_per_op_inference(ops):
    assert_same(ops)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(broken=True))
def test_same_first_error_and_results_on_broken_input(ops):
    assert_same(ops)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(rounds=24))
def test_same_with_long_transactions(ops):
    """Txns of up to 48 micro-ops: the groups inside one txn are sorted another way
    from 17 micro-ops on (`_split.within`)."""
    assert_same(ops)


def test_the_generator_makes_anomalies_and_errors():
    """The properties above see what they are meant to: every anomaly type and
    input errors (a generator that only made valid histories would prove little)."""
    seen: set[str] = set()
    errors = 0

    @settings(max_examples=600, deadline=None, database=None, derandomize=True)
    @given(st.one_of(histories(), histories(broken=True)))
    def collect(ops):
        nonlocal errors
        r = old_result(ops)
        if isinstance(r, tuple):
            errors += 1
        else:
            seen.update(kind for kind, _ in r["anomalies"])

    collect()
    assert errors > 0
    wanted = {"G1a", "G1b", "internal", "dirty-update", "duplicate-elements"}
    wanted |= {"incompatible-order", "future-read", "lost-update"}
    assert wanted <= seen, wanted - seen


def test_empty_history():
    assert new_result([]) == old_result([])


def _files() -> list[Path]:
    out = sorted((ROOT / "histories").glob("*.*"))
    for sub in ("elle-cli", "elle", "elle-tests"):
        folder = CONFORMANCE / sub
        if folder.is_dir():
            out += sorted(
                p
                for p in folder.iterdir()
                if p.suffix in (".edn", ".json", ".jsonl")
                and not p.name.endswith("-result.json")
                and p.name != "manifest.json"
            )
    return out


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_on_recorded_histories(path):
    try:
        history = load_history(str(path))
    except HistoryError:
        pytest.skip("not a readable history (the readers' tests cover it)")
    assert_same(history.ops, history.source)


def test_conformance_cases_are_there():
    if os.environ.get("CI") == "true" or (CONFORMANCE / "elle-cli").is_dir():
        assert len(_files()) > 50
    else:
        pytest.skip(f"conformance data not found at {CONFORMANCE}")


def test_explanations_from_file_backed_columns_match(tmp_path):
    """Columns whose ops are re-read from the file give the same records."""
    from histgen import serial

    text = serial("ax1 ay1", "ax2 ay2", "rx12 ry21", "rx1 ax3").text()
    path = tmp_path / "h.jsonl"
    path.write_text(text)
    history = load_history(str(path))
    old = old_result(history.ops, history.source)
    cols = columns_from_ops(history.ops, source=history.source)
    offsets, at = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append(at)
        at += len(line.encode())
    cols.op_offset[:] = offsets
    cols.path, cols.ops = str(path), None
    from la_compare import _summary

    from mvcc_check.analysis.columnar import list_append

    tc = pair_columns(cols)
    assert _summary(list_append.infer(tc), tc.n) == old


@pytest.mark.parametrize(
    "settings_",
    [
        {"SPREAD": 0},  # integers coded by rank
        {"TABLE_SLACK": -(1 << 40)},  # the sorted registry instead of the table
        # long txns (every micro-op of a txn of three or more marked as sharing its key)
        {"_SHIFTS": 1},
    ],
    ids=["rank-codes", "sorted-registry", "long-txns"],
)
def test_same_on_every_internal_path(settings_):
    """The paths that only large or unusual histories take give the same results."""
    from unittest import mock

    from mvcc_check.analysis.columnar import la_mops, la_reads, la_within

    patches = []
    for name, value in settings_.items():
        module = next(m for m in (la_mops, la_reads, la_within) if hasattr(m, name))
        patches.append(mock.patch.object(module, name, value))

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.one_of(histories(), histories(broken=True)))
    def prop(ops):
        assert_same(ops)

    for p in patches:
        p.start()
    try:
        prop()
    finally:
        for p in patches:
            p.stop()


def _engine_runs() -> list[tuple[str, str | None]]:
    from mvcc_check.engine.bugs import BUGS
    from mvcc_check.engine.levels import LEVEL_NAMES

    return [(lvl, None) for lvl in LEVEL_NAMES] + [(b.level, b.name) for b in BUGS.values()]


@pytest.mark.parametrize("level,bug", _engine_runs(), ids=lambda x: str(x))
def test_same_on_engine_histories(level, bug):
    """Every isolation level and bug of the built-in engine, with crashes (info
    txns) and rollbacks: histories rich in real anomalies."""
    import orjson

    from mvcc_check import parse_history_text
    from mvcc_check.engine.scheduler import run_engine
    from mvcc_check.history.recorder import HistoryRecorder
    from mvcc_check.workload import WorkloadSpec

    spec = WorkloadSpec(
        workload="list-append", txns=400, clients=6, keys=6, mops_per_txn=5,
        max_writes_per_key=20, seed=11,
    )  # fmt: skip
    rec = HistoryRecorder(None, keep=True)
    run_engine(level, spec, recorder=rec, bugs=(bug,) if bug else (), crash_rate=0.02)
    text = b"".join(orjson.dumps(op) + b"\n" for op in rec.ops)
    ops = parse_history_text(text, source="e.jsonl", format="jsonl").ops
    assert_same(ops, "e.jsonl")


_BATCHED: list[int] = [0, 0]  # (rw steps explained at once, rw steps) over the examples


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_rw_steps_explained_at_once_as_one_by_one(ops):
    """`explain_rw_steps` (the search's way for most rw steps) gives exactly the record
    `explain` gives for each step it takes, and takes none that `explain` refuses."""
    from mvcc_check.analysis.columnar import list_append
    from mvcc_check.analysis.graph import RW

    try:
        tc = pair_columns(columns_from_ops(ops, source="h"))
        inf = list_append.infer(tc)
    except HistoryError:
        return
    g = inf.edges.build(tc.n)
    edges = zip(g.src.tolist(), g.dst.tolist(), g.rel.tolist(), strict=True)
    rw = [(a, b) for a, b, r in edges if r & RW]
    steps = rw + [(b, a) for a, b in rw] + [(a, a) for a, _ in rw]  # and some that are no rw
    got = inf.explainer.explain_rw_steps(steps)
    for (a, b), record in got.items():
        assert record == inf.explainer.explain(a, b, RW), (a, b)
    _BATCHED[0] += len(set(got) & set(rw))
    _BATCHED[1] += len(set(rw))


def test_rw_steps_are_explained_at_once():
    """The property above compared something: the rw edges took the batched path
    (unread appends and keys touched twice in a txn included)."""
    test_rw_steps_explained_at_once_as_one_by_one()
    assert _BATCHED[1] > 100 and _BATCHED[0] >= 0.95 * _BATCHED[1], _BATCHED
