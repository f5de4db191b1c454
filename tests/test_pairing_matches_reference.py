"""build_txns (one pass, numpy index check, fast micro-op check) against a plain reference.

The reference below is the straightforward pairing loop: a dict of seen
indices, pairs sorted by invocation, shapes compared as lists. On generated
histories, well-formed or broken (duplicate indices, double invocations,
completions that change their micro-ops, odd index, process and type values,
list and tuple micro-ops), both must give the same transactions or the same
error message.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference.txns import Txn, TxnHistory, build_txns

from mvcc_check import parse_history_text
from mvcc_check.errors import HistoryError
from mvcc_check.history import History, Op

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROCESSES = (0, 1, 2, 3, None)
KEYS = (0, 1, 2, "x")


# -- the reference: one loop over the ops, as the pairing reads ------------------


def reference_txns(history: History) -> TxnHistory:
    """Pair ops by process; the first broken pairing in file order raises."""
    src = history.source
    shape = itemgetter(0, 1)
    open_by_process: dict[object, tuple[int, Op]] = {}
    pairs: list[tuple[int, Op, Op | None, int | None]] = []
    seen: dict[Any, Op] = {}
    for pos, op in enumerate(history.ops):
        if op.index in seen:
            raise HistoryError(
                src, where(op), f"duplicate op index {op.index} (also at {where(seen[op.index])})"
            )
        seen[op.index] = op
        if op.type == "invoke":
            if op.process in open_by_process:
                first = open_by_process[op.process][1]
                why = f"process {op.process} invoked a new op while its op at {where(first)}"
                if op.process is None:
                    why = (
                        f"an op with no process was invoked while the op at {where(first)}, "
                        "also with no process,"
                    )
                raise HistoryError(
                    src,
                    where(op),
                    why
                    + " had not completed"
                    + (" (ops without a process are read as one process)" * (op.process is None)),
                )
            open_by_process[op.process] = (pos, op)
        elif op.process not in open_by_process:
            pairs.append((pos, op, op, pos))  # a completion with no invocation is its own
        else:
            ipos, inv = open_by_process.pop(op.process)
            if inv.value != op.value and [shape(m) for m in inv.value] != [
                shape(m) for m in op.value
            ]:
                raise HistoryError(
                    src,
                    where(op),
                    f"completion's micro-ops do not match its invocation at {where(inv)}",
                )
            pairs.append((ipos, inv, op, pos))
    pairs += [(ipos, inv, None, None) for ipos, inv in open_by_process.values()]
    txns = []
    for tid, (ipos, inv, comp, cpos) in enumerate(sorted(pairs, key=itemgetter(0))):
        if comp is None or comp.type == "info":
            txns.append(Txn(tid, "info", inv.process, inv, comp, unread(inv.value), ipos, None))
        elif comp.type == "ok":
            txns.append(Txn(tid, "ok", inv.process, inv, comp, comp.value, ipos, cpos))
        else:
            txns.append(Txn(tid, "fail", inv.process, inv, comp, unread(comp.value), ipos, cpos))
    return TxnHistory(src, txns)


def unread(mops: list) -> list:
    """What a txn that did not (or may not have) commit read is no evidence: reads without values."""
    if all(m[0] != "r" or m[2] is None for m in mops):
        return mops
    return [[m[0], m[1], None] if m[0] == "r" else m for m in mops]


def where(op: Op) -> str:
    return f"line {op.line}" if op.line >= 0 else f"op index {op.index}"


def outcome(history: History, build) -> TxnHistory | str:
    try:
        return build(history)
    except HistoryError as e:
        return f"HistoryError: {e}"


def assert_same(history: History) -> TxnHistory | str:
    want = outcome(history, reference_txns)
    got = outcome(history, build_txns)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
        return got
    assert got.source == want.source
    assert len(got.txns) == len(want.txns)
    for g, w in zip(got.txns, want.txns, strict=True):
        assert (g.id, g.status, g.process, g.invoked_at, g.completed_at) == (
            w.id,
            w.status,
            w.process,
            w.invoked_at,
            w.completed_at,
        )
        assert type(g.id) is int and type(g.invoked_at) is int
        assert g.completed_at is None or type(g.completed_at) is int
        assert g.invoke is w.invoke and g.complete is w.complete
        assert g.mops is w.mops or (g.status != "ok" and g.mops == w.mops)
    return got


# -- generated histories ---------------------------------------------------------


@st.composite
def mop_lists(draw, reads_none: bool) -> list[list[Any]]:
    mops = draw(
        st.lists(
            st.tuples(st.sampled_from(["append", "r", "w"]), st.sampled_from(KEYS)),
            min_size=0,
            max_size=3,
        )
    )
    out = []
    for i, (f, k) in enumerate(mops):
        v = None if f == "r" and reads_none else ([1, 2] if f == "r" else i + 1)
        out.append([f, k, v])
    return out


def completed(inv: list[list[Any]]) -> list[list[Any]]:
    """An ok completion's micro-ops: the invocation's, reads filled in (new objects)."""
    return [[f, k, [7] if f == "r" else v] for f, k, v in inv]


def changed(draw, mops: list[list[Any]]) -> list[list[Any]]:
    """Micro-ops that no longer match: a key, a kind or the length differs."""
    mops = [list(m) for m in mops]
    how = draw(st.sampled_from(["key", "kind", "drop", "add"]))
    if how == "add" or not mops:
        return [*mops, ["r", "x", None]]
    i = draw(st.integers(0, len(mops) - 1))
    if how == "key":
        mops[i][1] = "other"
    elif how == "kind":
        mops[i][0] = "w" if mops[i][0] != "w" else "append"
    else:
        del mops[i]
    return mops


@st.composite
def histories(draw, broken: bool = True) -> History:
    """Ops of a few processes; with `broken`, now and then a pairing breaks."""
    steps = draw(st.integers(0, 30))
    open_mops: dict[Any, list[list[Any]]] = {}
    raw: list[tuple[str, Any, list[list[Any]]]] = []  # (type, process, micro-ops)
    for _ in range(steps):
        p = draw(st.sampled_from(PROCESSES))
        if p in open_mops and not (broken and draw(st.integers(0, 19)) == 0):
            typ = draw(st.sampled_from(["ok", "ok", "fail", "info", "wait"]))
            if typ == "wait":
                continue
            inv = open_mops.pop(p)
            mops = completed(inv) if typ == "ok" else [list(m) for m in inv]
            if broken and draw(st.integers(0, 19)) == 0:
                mops = changed(draw, mops)
            raw.append((typ, p, mops))
        elif draw(st.integers(0, 5)) == 0:  # a completion logged without its invocation
            typ = draw(st.sampled_from(["ok", "fail", "info"]))
            raw.append((typ, p, draw(mop_lists(reads_none=typ != "ok"))))
        else:  # an invocation (a second one while open is a broken pairing)
            mops = draw(mop_lists(reads_none=True))
            open_mops[p] = mops
            raw.append(("invoke", p, mops))
    if broken and raw and draw(st.integers(0, 9)) == 0:  # a type outside Elle's four
        i = draw(st.integers(0, len(raw) - 1))
        if raw[i][0] != "invoke":
            raw[i] = ("timeout", *raw[i][1:])

    n = len(raw)
    indices: list[Any] = list(range(n))
    layout = draw(
        st.sampled_from(
            ["in order", "shuffled", "gaps", "repeat", "none"]
            if broken
            else ["in order", "shuffled", "gaps"]
        )
    )
    if layout == "shuffled":
        indices = draw(st.permutations(indices))
    elif layout == "gaps":
        indices = [10 * i + 1000 for i in indices]
    elif layout == "repeat" and n > 1:
        i, j = sorted(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)))
        indices[j] = indices[i]
    elif layout == "none" and n:
        for i in draw(st.lists(st.integers(0, n - 1), max_size=2)):
            indices[i] = None
    lines = draw(st.booleans())
    tuples = draw(st.sampled_from(["lists", "tuples", "mixed"]))
    ops = []
    for pos, ((typ, p, mops), index) in enumerate(zip(raw, indices, strict=True)):
        as_tuples = tuples == "tuples" or (tuples == "mixed" and draw(st.booleans()))
        value = [tuple(m) for m in mops] if as_tuples else mops
        ops.append(Op(type=typ, value=value, process=p, index=index, line=pos + 1 if lines else -1))
    return History(source="<gen>", ops=ops, format="jsonl")


@FAST
@given(history=histories())
def test_build_txns_matches_the_reference(history):
    assert_same(history)


@FAST
@given(history=histories(broken=False))
def test_well_formed_histories_pair_without_error(history):
    th = assert_same(history)
    assert not isinstance(th, str), th
    assert [t.invoked_at for t in th.txns] == sorted(t.invoked_at for t in th.txns)


# -- examples ----------------------------------------------------------------------


def ops(*specs: tuple[str, Any, list[Any]], index: list[Any] | None = None) -> History:
    out = []
    for pos, (typ, p, value) in enumerate(specs):
        out.append(
            Op(
                type=typ,
                value=value,
                process=p,
                index=pos if index is None else index[pos],
                line=pos + 1,
            )
        )
    return History(source="h.jsonl", ops=out, format="jsonl")


R0 = [["r", 0, None]]
R0_DONE = [["r", 0, [1]]]


def test_duplicate_index_names_both_lines():
    h = ops(("invoke", 0, R0), ("ok", 0, R0_DONE), ("invoke", 1, R0), index=[5, 6, 5])
    with pytest.raises(
        HistoryError, match=r"^h.jsonl: line 3: duplicate op index 5 \(also at line 1\)$"
    ):
        build_txns(h)
    assert_same(h)


def test_the_first_problem_in_file_order_is_reported():
    # A double invocation at line 3 comes before the duplicate index at line 4.
    h = ops(
        ("invoke", 0, R0),
        ("invoke", 1, R0),
        ("invoke", 0, R0),
        ("ok", 1, R0_DONE),
        index=[0, 1, 2, 1],
    )
    with pytest.raises(
        HistoryError, match="line 3: process 0 invoked a new op while its op at line 1"
    ):
        build_txns(h)
    assert_same(h)


def test_changed_micro_ops_are_an_error_but_filled_reads_are_not():
    good = ops(
        ("invoke", 0, [["r", 0, None], ["append", 1, 2]]),
        ("ok", 0, [["r", 0, [1]], ["append", 1, 2]]),
    )
    assert build_txns(good).txns[0].status == "ok"
    for bad in ([["r", 1, [1]], ["append", 1, 2]], [["r", 0, [1]], ["w", 1, 2]], [["r", 0, [1]]]):
        h = ops(("invoke", 0, [["r", 0, None], ["append", 1, 2]]), ("ok", 0, bad))
        with pytest.raises(
            HistoryError,
            match="line 2: completion's micro-ops do not match its invocation at line 1",
        ):
            build_txns(h)
        assert_same(h)


def test_tuple_and_list_micro_ops_pair():
    h = ops(("invoke", 0, [("r", 0, None)]), ("ok", 0, [["r", 0, [1]]]))
    assert build_txns(h).txns[0].mops == [["r", 0, [1]]]
    assert_same(h)


def test_statuses_positions_and_lone_completions():
    h = ops(
        ("invoke", 0, R0),
        ("ok", 1, R0_DONE),  # no invocation: its own
        ("invoke", 2, R0),  # never completes: info
        ("fail", 0, R0),
        ("invoke", None, R0),
        ("info", None, R0),
    )
    th = assert_same(h)
    assert [(t.status, t.invoked_at, t.completed_at) for t in th.txns] == [
        ("fail", 0, 3),
        ("ok", 1, 1),
        ("info", 2, None),
        ("info", 4, None),
    ]
    assert th.txns[2].complete is None and th.txns[1].invoke is th.txns[1].complete


def test_odd_indices_and_processes_pair_as_before():
    h = ops(
        ("invoke", "a", R0),
        ("invoke", 2.5, R0),
        ("ok", "a", R0_DONE),
        ("ok", 2.5, R0_DONE),
        index=[None, 3, 2.0, 1],
    )
    assert len(assert_same(h).txns) == 2
    h = ops(("invoke", 0, R0), ("ok", 0, R0_DONE), ("invoke", 1, R0), index=[None, 1, None])
    with pytest.raises(HistoryError, match="duplicate op index None"):
        build_txns(h)
    assert_same(h)


def test_empty_history():
    assert build_txns(History(source="e", ops=[], format="jsonl")).txns == []


PARSED = [
    {"type": "invoke", "process": 0, "value": [["r", 0, None], ["append", 1, 1]], "index": 0},
    {"type": "invoke", "process": 1, "value": [["append", 0, 1]], "index": 1},
    {"type": "ok", "process": 0, "value": [["r", 0, []], ["append", 1, 1]], "index": 2},
    {"type": "info", "process": 1, "value": [["append", 0, 1]], "index": 3},
    {"type": "ok", "process": 5, "value": [["r", 1, [1]]], "index": 4},
]
PARSED_EDN = """
{:type :invoke, :process 0, :value [[:r 0 nil] [:append 1 1]], :index 0}
{:type :invoke, :process 1, :value [[:append 0 1]], :index 1}
{:type :ok, :process 0, :value [[:r 0 []] [:append 1 1]], :index 2}
{:type :info, :process 1, :value [[:append 0 1]], :index 3}
{:type :ok, :process 5, :value [[:r 1 [1]]], :index 4}
"""


@pytest.mark.parametrize("fmt", ["jsonl", "json", "edn"])
def test_parsed_histories_match_the_reference(fmt):
    if fmt == "jsonl":
        text = "\n".join(orjson.dumps(d).decode() for d in PARSED) + "\n"
    elif fmt == "json":
        text = orjson.dumps(PARSED).decode()
    else:
        text = PARSED_EDN
    th = assert_same(parse_history_text(text, source=f"h.{fmt}"))
    assert [t.status for t in th.txns] == ["ok", "info", "ok"]
