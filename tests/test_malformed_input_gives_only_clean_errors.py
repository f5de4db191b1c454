"""Malformed input, in every format, only ever raises the clean input error;
reading is exact whatever the chunking or the size of integers (property tests)."""

from __future__ import annotations

import pytest
from histgen import check_text
from hypothesis import given, settings
from hypothesis import strategies as st
from tinydb import (
    WORKLOADS,
    dumps,
    to_edn,
)

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.errors import MvccCheckError

# -- malformed input -------------------------------------------------------------


def must_be_clean(data: bytes | str, fmt: str | None) -> None:
    try:
        history = parse_history_text(data, source="fuzz.txt", format=fmt)
        for opts in (
            CheckOptions(models=("strict-serializable",)),
            CheckOptions(models=("read-committed",)),
        ):
            check(history, opts)
    except MvccCheckError as e:
        text = str(e)
        assert "\n" not in text.strip(), text
        assert text.startswith("fuzz.txt"), text


def test_regressions_found_by_fuzzing():
    # An unhashable op type or micro-op kind raised TypeError (set membership).
    must_be_clean(b'[{"type": []}]', "json")
    must_be_clean(b'{"type": "ok", "process": 0, "value": [[["r"], "x", 1]]}', "jsonl")
    must_be_clean("{:type :ok, :process 0, :value [[{:a 1} :x 1]]}", "edn")
    # The EDN one-op-per-line fast path raised ValueError on a map with an odd number of forms.
    must_be_clean("{:type}", "edn")
    must_be_clean("{:type :ok, :process 0, :value []}\n{:type :ok :process}", "edn")
    # A list-append read holding lists or maps raised TypeError (duplicate check).
    with pytest.raises(MvccCheckError, match="list elements must be scalars"):
        check_text('{"type": "ok", "process": 0, "value": [["r", "x", [[1]]]]}\n')


formats = st.sampled_from([None, "json", "jsonl", "edn"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=12,
)
any_value = st.one_of(
    scalars,
    st.sampled_from(["invoke", "ok", "fail", "info", "append", "r", "w", "txn", ":ok", ""]),
    st.lists(scalars, max_size=3),
    json_values,
)
mop = st.one_of(
    st.lists(any_value, max_size=4),
    st.tuples(st.sampled_from(["append", "r", "w", "x"]), any_value, any_value).map(list),
    st.tuples(st.sampled_from(["append", "r", "w"]), st.integers(0, 2), st.integers(0, 3)).map(
        list
    ),
    st.tuples(st.just("r"), st.integers(0, 2), st.lists(st.integers(0, 3), max_size=3)).map(list),
    any_value,
)
op_maps = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(["invoke", "ok", "fail", "info"]), any_value),
        "process": st.one_of(st.integers(0, 3), any_value),
        "f": any_value,
        "value": st.one_of(st.lists(mop, max_size=4), any_value),
        "index": st.one_of(st.integers(0, 20), any_value),
        "time": st.one_of(st.integers(0, 100), any_value),
    },
)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300), fmt=formats)
def test_random_bytes_give_only_clean_errors(data, fmt):
    must_be_clean(data, fmt)


@settings(max_examples=150, deadline=None)
@given(doc=json_values, fmt=formats, lines=st.booleans())
def test_random_json_values_give_only_clean_errors(doc, fmt, lines):
    data = b"\n".join(dumps(d) for d in doc) if lines and isinstance(doc, list) else dumps(doc)
    must_be_clean(data, fmt)


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(op_maps, max_size=8), how=st.sampled_from(["json", "jsonl", "edn", "edn-vector"])
)
def test_random_op_maps_give_only_clean_errors(ops, how):
    if how == "json":
        must_be_clean(dumps(ops), "json")
    elif how == "jsonl":
        must_be_clean(b"\n".join(dumps(op) for op in ops), "jsonl")
    elif how == "edn":
        must_be_clean("\n".join(to_edn(op) for op in ops), "edn")
    else:
        must_be_clean(to_edn(ops), "edn")


weird_keys = st.one_of(
    st.integers(0, 2), st.sampled_from(["x", "y"]), st.lists(st.integers(0, 1), max_size=2)
)
payload_mop = st.one_of(
    st.tuples(st.sampled_from(["append", "r", "w"]), weird_keys, any_value).map(list),
    st.tuples(st.sampled_from(["append", "w"]), weird_keys, st.integers(0, 3)).map(list),
    st.tuples(
        st.just("r"), weird_keys, st.lists(st.integers(0, 3) | st.booleans(), max_size=3)
    ).map(list),
    st.tuples(st.just("r"), weird_keys, st.none() | st.integers(0, 3)).map(list),
)
shaped_txns = st.lists(
    st.tuples(
        st.integers(0, 2),  # process
        st.sampled_from(
            ["ok", "ok", "fail", "info", "none"]
        ),  # completion ("none": never completes)
        st.lists(payload_mop, min_size=0, max_size=4),
        st.booleans(),  # whether the invocation hides read values
    ),
    max_size=8,
)


def _well_formed_ops(txns) -> list[dict]:
    """Op maps for shaped_txns: each process invokes, then completes (unless "none")."""
    ops = []
    open_: set[int] = set()
    for process, outcome, mops, hide in txns:
        if process in open_:
            continue
        inv = [[f, k, None if (hide and f == "r") else v] for f, k, v in mops]
        ops.append({"type": "invoke", "process": process, "f": "txn", "value": inv})
        if outcome == "none":
            open_.add(process)
        else:
            ops.append({"type": outcome, "process": process, "f": "txn", "value": mops})
    return ops


@settings(max_examples=300, deadline=None)
@given(
    txns=shaped_txns,
    workload=st.sampled_from([None, *WORKLOADS]),
    fmt=st.sampled_from(["jsonl", "edn"]),
)
def test_well_formed_ops_with_random_payloads_give_only_clean_errors(txns, workload, fmt):
    """Op shapes right, pairing right, micro-op payloads anything: reaches the inference."""
    ops = _well_formed_ops(txns)
    if fmt == "jsonl":
        data: bytes | str = b"\n".join(dumps(op) for op in ops)
    else:
        data = "\n".join(to_edn(op) for op in ops)
    try:
        history = parse_history_text(data, source="fuzz.txt", format=fmt)
        for model in ("strict-serializable", "strong-session-serializable", "read-committed"):
            check(history, CheckOptions(models=(model,), workload=workload, wfr_keys=True))
    except MvccCheckError as e:
        assert str(e).startswith("fuzz.txt") and "\n" not in str(e).strip()


def _verdict_or_error(history, **options) -> object:
    try:
        r = check(history, CheckOptions(**options))
    except MvccCheckError as e:
        return str(e)
    return r.workload, r.valid, r.anomaly_types


@settings(max_examples=300, deadline=None)
@given(txns=shaped_txns)
def test_guessing_the_workload_changes_nothing(txns):
    """check() guesses the workload from the first telling micro-op and falls back to
    the whole-history rule when that inference fails: same verdict or error as
    deciding from the whole history first."""
    from mvcc_check.analysis.checker import columns_of, detect_workload
    from mvcc_check.history.pairing import pair_columns

    data = b"\n".join(dumps(op) for op in _well_formed_ops(txns))
    try:
        history = parse_history_text(data, source="guess.jsonl", format="jsonl")
        decided = detect_workload(pair_columns(columns_of(history)))
    except MvccCheckError as e:
        with pytest.raises(MvccCheckError) as raised:
            check(parse_history_text(data, source="guess.jsonl", format="jsonl"))
        assert str(raised.value) == str(e)
        return
    assert _verdict_or_error(history) == _verdict_or_error(history, workload=decided)


def _parsed_or_error(data: bytes) -> object:
    try:
        h = parse_history_text(data, source="chunks.jsonl", format="jsonl")
    except MvccCheckError as e:
        return str(e)
    return [(op.to_json(), op.line) for op in h.ops], h.ignored


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(op_maps, max_size=8) | shaped_txns.map(_well_formed_ops),
    blank=st.lists(st.integers(0, 8), max_size=2),
    trailing_newline=st.booleans(),
    chunk=st.sampled_from([1, 2, 7, 40, 200]),
)
def test_jsonl_chunk_size_changes_nothing(ops, blank, trailing_newline, chunk):
    """JSON Lines are decoded in chunks ending at a newline; any chunk size (even
    one byte, or lines longer than a chunk) reads the same ops, lines and errors."""
    from mvcc_check.history import readers

    lines = [dumps(op) for op in ops]
    for at in blank:
        lines.insert(min(at, len(lines)), b"")
    data = b"\n".join(lines) + (b"\n" if trailing_newline else b"")
    whole = _parsed_or_error(data)
    saved = readers.CHUNK_BYTES
    try:
        readers.CHUNK_BYTES = chunk
        assert _parsed_or_error(data) == whole
    finally:
        readers.CHUNK_BYTES = saved


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_are_read_exactly_in_every_format(value):
    """No reader may round an integer (orjson, used for speed, turns them into floats)."""
    op = {
        "type": "ok",
        "process": 0,
        "f": "txn",
        "value": [["append", 1, value], ["r", 1, [value]]],
    }
    odd = {
        "type": "ok",
        "process": 1,
        "f": "txn",
        "value": [["append", [1], 5]],
    }  # forces the general path
    texts = {
        "jsonl": dumps(op),
        "json": b"[" + dumps(op) + b"]",
        "edn": to_edn(op),
        "jsonl-general": dumps(op) + b"\n" + dumps(odd),
        "edn-exact": to_edn([op]),
    }
    for how, text in texts.items():
        h = parse_history_text(text, source="big", format=how.split("-")[0])
        assert h.ops[0].value[0][2] == value and type(h.ops[0].value[0][2]) is int, how
        assert list(h.ops[0].value[1][2]) == [value], how


edn_tokens = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "#{",
        "#_",
        "#inst",
        '"',
        '"s"',
        "\\",
        "\\a",
        "\\newline",
        ":type",
        ":ok",
        ":invoke",
        ":fail",
        ":info",
        ":process",
        ":value",
        ":append",
        ":r",
        ":w",
        ":x",
        "0",
        "1",
        "-2",
        "3N",
        "1.5",
        "1/2",
        "1e5",
        "nil",
        "true",
        "false",
        " ",
        "\n",
        ",",
        ";c\n",
        ":index",
        ":f",
        ":txn",
        "sym",
        "#jepsen.history.Op",
        '"\\u00e9"',
        '"\\q"',
        "9999999999999999999999",
    ]  # fmt: skip
)


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(edn_tokens, max_size=40))
def test_random_edn_ish_text_gives_only_clean_errors(tokens):
    must_be_clean(" ".join(tokens), "edn")
    must_be_clean("".join(tokens), None)
