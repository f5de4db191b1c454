"""EDN read through the C scanner (`history/edn_jsonl.py`) gives exactly what the exact
EDN reader gives: the same columns, ids, ignored ops and errors, or it stands aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import Columns, columns_from_ops
from mvcc_check.history.load import load_columns
from mvcc_check.history.readers import parse_history_text

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "conformance"


def edn(x) -> str:
    if x is None:
        return "nil"
    if x is True or x is False:
        return "true" if x else "false"
    if isinstance(x, int | float):
        return repr(x)
    if isinstance(x, str):
        return x if x.startswith(":") else '"' + x + '"'
    if isinstance(x, frozenset):
        return "#{" + " ".join(edn(e) for e in sorted(x, key=repr)) + "}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{edn(k)} {edn(v)}" for k, v in x.items()) + "}"
    return "[" + " ".join(edn(e) for e in x) + "]"


keys = st.one_of(st.integers(-3, 40), st.sampled_from([":x", ":y", "x", "k1"]))
scalars = st.one_of(st.integers(-5, 60), st.none(), st.sampled_from([2**70, 1.5, ":kw", "s", True]))
values = st.one_of(scalars, st.lists(st.one_of(st.integers(0, 60), scalars), max_size=5))
mops = st.tuples(st.sampled_from([":append", ":r", ":w"]), keys, values).map(list)


@st.composite
def edn_histories(draw) -> str:
    lines = []
    for i in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["op", "op", "op", "nemesis", "comment", "blank"]))
        if kind == "comment":
            lines.append("; a note: {not an op}")
        elif kind == "blank":
            lines.append("")
        elif kind == "nemesis":
            value = draw(st.sampled_from([None, frozenset({"n1", "n2"}), [":isolated", "n1"]]))
            lines.append(
                edn({":type": ":info", ":process": ":nemesis", ":f": ":start", ":value": value})
            )
        else:
            op = {
                ":type": draw(st.sampled_from([":invoke", ":ok", ":fail", ":info", ":bad"])),
                ":process": draw(st.sampled_from([0, 1, 2, None])),
                ":f": ":txn",
                ":value": draw(st.lists(mops, max_size=4)),
            }
            if draw(st.booleans()):
                op[":index"] = i
            if draw(st.booleans()):
                op[":time"] = draw(st.sampled_from([i, 1.5]))
            lines.append(edn(op))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def exact(path: Path) -> Columns | str:
    try:
        h = parse_history_text(path.read_bytes(), source=str(path), format="edn")
    except HistoryError as e:
        return str(e)
    cols = columns_from_ops(h.ops, source=str(path), format="edn", ignored=h.ignored)
    cols.ignored_why, cols.client_like = h.ignored_why, h.client_like
    return cols


def loaded(path: Path) -> Columns | str:
    try:
        return load_columns(str(path))
    except HistoryError as e:
        return str(e)


def assert_same(path: Path) -> None:
    a, b = loaded(path), exact(path)
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for name, value in vars(b).items():
        if isinstance(value, np.ndarray) and name != "op_offset":
            assert np.array_equal(getattr(a, name), value), name
    for name in ("keys", "atoms", "processes", "ignored", "ignored_why", "client_like"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.format == "edn"
    for row in range(a.n_ops):  # explanations quote the same ops
        assert a.op_json(row) == b.op_json(row)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=edn_histories())
def test_generated_edn_reads_as_the_exact_reader_reads_it(tmp_path, text) -> None:
    path = tmp_path / "h.edn"
    path.write_text(text)
    assert_same(path)


def test_recorded_edn_histories_read_alike() -> None:
    files = sorted((ROOT / "histories").glob("*.edn")) + sorted(SHARED.glob("**/*.edn"))
    assert files
    for path in files:
        assert_same(path)


def test_one_op_per_line_goes_through_the_scanner(tmp_path) -> None:
    path = tmp_path / "h.edn"
    path.write_text(
        "; comment\n"
        '{:type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:r "y" nil]], :index 0}\n'
        '{:type :ok, :process 0, :f :txn, :value [[:append :x 1] [:r "y" [1 2]]], :index 1}\n'
        "{:type :info, :process :nemesis, :f :start, :value #{:n1}}\n"
    )
    cols = load_columns(str(path))
    assert cols.path is not None and cols.path.endswith(".edn.jsonl")  # not held as ops
    assert cols.ops is None and cols.n_ops == 2 and cols.ignored == 1
    assert cols.op_json(1)["value"] == [["append", "x", 1], ["r", "y", [1, 2]]]
    assert cols.where(1) == "line 3"
