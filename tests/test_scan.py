"""The C scanner for JSON Lines gives the exact path's columns, array for array
and table for table, or the same one-line error (issue 9, items 2, 5 and 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scancheck import (
    differences,
    exact,
    offsets_ok,
    quotes_agree,
    scanned,
    typed_decoder_quirk,
)

from mvcc_check.errors import HistoryError
from mvcc_check.history import readers
from mvcc_check.history.columns import ATOM, INT, LIST, NIL, columns_from_ops
from mvcc_check.history.load import load_columns
from mvcc_check.history.ops import IGNORED_WHY
from mvcc_check.history.reread import reread_op
from mvcc_check.history.scan import scan_jsonl
from mvcc_check.history.source import BOM

HISTORIES = Path(__file__).parent.parent / "histories"


@contextmanager
def chunk_bytes(n: int):
    """Both readers cut the file into chunks of n bytes (load_history's constant)."""
    old = readers.CHUNK_BYTES
    readers.CHUNK_BYTES = n
    try:
        yield
    finally:
        readers.CHUNK_BYTES = old


def write(tmp: Path, text: str | bytes, name: str = "h.jsonl") -> str:
    p = tmp / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(p)


def agree(path: str) -> None:
    ref = exact(path)
    data = Path(path).read_bytes()
    for threads in (1, 2, 3):
        got = scanned(path, threads)
        assert differences(got, ref) == [], threads
        if not isinstance(got, str):
            assert offsets_ok(got, data)


def op(type_="ok", process=0, value=(("append", "x", 1),), index=None, **more) -> str:
    mops = None if value is None else [list(m) for m in value]
    d = {"type": type_, "process": process, "f": "txn", "value": mops}
    if index is not None:
        d["index"] = index
    d.update(more)
    return json.dumps(d)


def lines(*ops: str) -> str:
    return "".join(o + "\n" for o in ops)


@pytest.mark.parametrize("name", sorted(p.name for p in HISTORIES.glob("*.jsonl")))
def test_shipped_histories(name):
    agree(str(HISTORIES / name))


def test_identity_follows_python_equality(tmp_path):
    # "0" and 0 are two keys; 1, 1.0 and true one (the float and bool lines go to
    # the exact reader, which must find the scanner's key 1); first spelling kept.
    text = lines(
        op(index=0, value=[["r", "0", [1, "a"]], ["append", 0, "a"]]),
        op(index=1, value=[["append", 1, 2]]),
        op(index=2, value=[["append", 1.0, 3], ["w", True, 1.0]]),
        op(index=3, value=[["append", "\u00e9", "a"], ["r", "\\u00e9", None]]),
        op(index=4, value=[["append", "é", "\u0061"], ["r", "x", [None, "a", 2**70, 1.5]]]),
    )
    path = write(tmp_path, text)
    agree(path)
    cols = scan_jsonl(path)
    assert cols.keys == ["0", 0, 1, "é", "\\u00e9", "x"]
    assert cols.atoms == ["a", None, 2**70, 1.5]
    assert cols.mop_tag.tolist() == [LIST, ATOM, INT, INT, INT, ATOM, NIL, ATOM, LIST]
    assert cols.mop_key.tolist() == [0, 1, 2, 2, 2, 3, 4, 3, 5]


def test_lines_left_to_the_exact_reader(tmp_path):
    text = lines(
        op(index=0),
        op(index=1, time=1.5),  # a float time
        op(process="nemesis", value=[], f="start"),  # not a client op
        json.dumps({"type": "info", "process": "nemesis", "value": {"a": 1}}),
        op(index=2 << 64),  # an index beyond 64 bits
        op(),  # no index: its position
        "   ",
        op(index=7, extra=1),
        op(index=8, value=[["r", [1, 2], [1]]]),  # a list key
        op(index=9, value=[["r", "x", [[1], {"a": 2}]]]),
    ).replace("\n", "\r\n", 3)
    path = write(tmp_path, text)
    agree(path)
    cols = scan_jsonl(path)
    assert cols.ignored == 2
    assert cols.big_index == {2: 2 << 64}
    assert cols.op_index.tolist()[3] == 5
    assert cols.op_line.tolist() == [1, 2, 5, 6, 8, 9, 10]


@pytest.mark.parametrize("chunk", [readers.CHUNK_BYTES, 40, 400])
def test_float_time_is_no_int_time(tmp_path, chunk):
    # load_history keeps a float time (column -1) whichever way it reads a chunk.
    body = [op(index=i, time=i + 0.5) for i in range(6)]
    body.insert(3, op(process="nemesis", value=None))
    with chunk_bytes(chunk):
        agree(write(tmp_path, lines(*body)))
        agree(write(tmp_path, lines(*body[:3]) + "\n" + lines(*body[4:]), "b.jsonl"))
    cols = scan_jsonl(write(tmp_path, lines(*body)))
    assert cols.op_time.tolist() == [-1] * 6


def test_ignored_ops_by_reason_and_client_like(tmp_path):
    body = [op(index=i) for i in range(30)]
    body[2] = op(process="nemesis", value=None, f="start")  # not client-like
    body[20] = op(process="n1")  # ignored, but looks like a client transaction
    body[25] = op(process=None, value=[["w", "x", 1]], f="write")
    path = write(tmp_path, lines(*body))
    agree(path)
    for threads in (1, 2):
        cols = scan_jsonl(path, threads=threads)
        assert cols.ignored == 3 and cols.ignored_why == {IGNORED_WHY: 3}
        assert cols.client_like == "line 21"
    cols = load_columns(write(tmp_path, lines(*body[:20]), "b.jsonl"))
    assert (cols.ignored, cols.ignored_why, cols.client_like) == (1, {IGNORED_WHY: 1}, None)


def test_byte_order_mark_is_skipped(tmp_path):
    path = write(tmp_path, BOM + lines(op(index=0), op(index=1)).encode())
    agree(path)
    cols = load_columns(path)
    assert cols.n_ops == 2 and cols.op_line.tolist() == [1, 2]
    assert cols.op_offset.tolist()[0] == len(BOM) and cols.op_json(0)["index"] == 0


def test_torn_tail_is_an_error_or_dropped_on_request(tmp_path):
    text = lines(*[op(index=i) for i in range(30)]) + op(index=30)[:-9]
    path = write(tmp_path, text)
    with pytest.raises(readers.TornTail) as a:
        load_columns(path)
    with pytest.raises(readers.TornTail) as b:
        readers.load_history(path)
    assert str(a.value) == str(b.value) and "line 31" in str(a.value)
    for threads in (1, 2):
        got = scanned(path, threads, drop_torn_tail=True)
        assert differences(got, exact(path, drop_torn_tail=True)) == []
        assert got.n_ops == 30 and got.torn_tail == "line 31"
    # A whole last line without its newline is no torn tail.
    cols = load_columns(write(tmp_path, text[: text.rfind("\n")]), drop_torn_tail=True)
    assert cols.n_ops == 30 and cols.torn_tail is None


def test_not_utf8_is_reported_per_chunk_as_load_history_does(tmp_path):
    # load_history checks a chunk's UTF-8 before decoding any line of it: the
    # bad byte on line 5 is reported, not the malformed JSON on line 2.
    body = [op(index=i) for i in range(8)]
    body[1] = '{"type": "ok", "process": 0'
    data = lines(*body[:4]).encode() + b'{"type":"ok","process":0,"value":[["w","\xff",1]]}\n'
    path = write(tmp_path, data)
    with pytest.raises(HistoryError) as a:
        load_columns(path)
    assert "line 5" in str(a.value) and "not UTF-8" in str(a.value)
    agree(path)
    with chunk_bytes(60):  # now the malformed line's chunk comes first
        with pytest.raises(HistoryError, match="line 2: not valid JSON"):
            load_columns(path)
        agree(path)


def test_stdin_pipe_torn_tail_dropped(tmp_path):
    text = (HISTORIES / "serial.jsonl").read_bytes() + b'{"type": "ok", "pro'
    code = (
        "import sys; from mvcc_check.history.load import load_columns\n"
        "c = load_columns('-', drop_torn_tail=True)\n"
        "print(c.source, c.n_ops, c.torn_tail, c.op_json(2)['index'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True)
    assert out.returncode == 0, out.stderr
    n = len(readers.load_history(str(HISTORIES / "serial.jsonl")).ops)
    last = text.count(b"\n") + 1
    assert out.stdout.decode().split() == ["<stdin>", str(n), "line", str(last), "2"]


def test_first_error_in_either_part(tmp_path):
    good = [op(index=i) for i in range(40)]
    for bad_at in (3, 30):
        body = list(good)
        body[bad_at] = '{"type": "ok", "process": 1, "value": [["r", "x"'
        path = write(tmp_path, lines(*body))
        for threads in (1, 2):
            with pytest.raises(HistoryError) as e:
                scan_jsonl(path, threads=threads)
            assert f"line {bad_at + 1}" in str(e.value)
        agree(path)
    body = list(good)
    body[5] = '{"type": "nope", "process": 1, "value": []}'
    body[30] = "{"
    agree(write(tmp_path, lines(*body)))


def test_parts_shift_lines_and_positions(tmp_path):
    # Ops without an index take their position, counted over both parts.
    body = [op() if i % 7 == 0 else op(index=i) for i in range(50)]
    for i in (11, 33):
        body[i] = ""  # blank lines: counted as lines, not positions
    with chunk_bytes(256):
        agree(write(tmp_path, lines(*body)))


def test_offsets_reread(tmp_path):
    text = lines(*[op(index=i, value=[["r", "k", [i, "v"]]]) for i in range(20)])
    path = write(tmp_path, "\n" + text)
    cols = scan_jsonl(path, threads=2)
    h = readers.load_history(path)
    for row in (0, 7, 19):
        assert reread_op(cols, row) == h.ops[row]
        assert cols.op(row).to_json() == h.ops[row].to_json()


def test_other_formats_and_stdin(tmp_path):
    for p in sorted(HISTORIES.glob("*.e*")) + sorted(HISTORIES.glob("*.json")):
        h = readers.load_history(str(p))
        ref = columns_from_ops(h.ops, source=str(p), format=h.format, ignored=h.ignored)
        ref.ignored_why, ref.client_like = h.ignored_why, h.client_like
        got = load_columns(str(p))
        assert differences(got, ref) == []
        # (EDN one op a line is scanned from a translation and keeps no ops: it quotes
        # them by re-reading; the other formats hold their ops)
        assert got.ops == h.ops or got.ops is None
        assert [got.op_json(r) for r in range(got.n_ops)] == [op.to_json() for op in h.ops]
    src = HISTORIES / "lost-update.jsonl"
    code = (
        "import sys; from mvcc_check.history.load import load_columns\n"
        "c = load_columns('-'); print(c.source, c.n_ops, c.op_json(3)['index'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], stdin=src.open("rb"), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["<stdin>", str(len(readers.load_history(str(src)).ops)), "3"]


def test_malformed_message_matches_load_history(tmp_path):
    path = write(tmp_path, lines(op(index=0), '{"type": "ok", "process": 0, "value": [1]}'))
    with pytest.raises(HistoryError) as a:
        load_columns(path)
    with pytest.raises(HistoryError) as b:
        readers.load_history(path)
    assert str(a.value) == str(b.value) and "line 2" in str(a.value)


# ---- the property: generated and mutated histories ----

_scalar = st.one_of(
    st.integers(-3, 3),
    st.integers(-(2**63), 2**63 - 1),
    st.just(2**64),
    st.sampled_from(["x", "y", "0", "", 'q"t', "é", "\\", "\t", "\u2028"]),
    st.none(),
    st.sampled_from([True, False, 1.0, 2.5]),
)
_key = st.one_of(
    st.integers(-2, 4), st.sampled_from(["x", "y", "0", "é", 'a"', 1.0, True, None, 2**70])
)
_value = st.one_of(_scalar, st.lists(_scalar, max_size=4), st.just([[1]]))
_mop = st.tuples(st.sampled_from(["append", "r", "w", "r", "cas"]), _key, _value).map(list)
_field = {
    "type": st.sampled_from(["invoke", "ok", "ok", "fail", "info", "nemesis"]),
    "process": st.one_of(st.integers(0, 3), st.sampled_from(["nemesis", None, True, 2**65])),
    "f": st.sampled_from(["txn", None, 3, {"a": 1}]),
    "value": st.one_of(st.lists(_mop, max_size=3), st.sampled_from([None, {"a": 1}, "x"])),
    "index": st.one_of(st.integers(0, 40), st.sampled_from([None, 2**64, -1, 1.5])),
    "time": st.one_of(st.integers(0, 10**12), st.sampled_from([None, 2.5, 3.0, "t"])),
    "extra": st.just(1),
}
_op = st.dictionaries(st.sampled_from(list(_field)), st.none(), min_size=3, max_size=7).flatmap(
    lambda d: st.fixed_dictionaries({k: _field[k] for k in d})
)
_core = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["invoke", "ok", "info"]),
        "process": st.integers(0, 3),
        "value": st.lists(_mop, max_size=3),
        "index": st.integers(0, 10**6),
    }
)


@st.composite
def jsonl(draw) -> bytes:
    ops = draw(st.lists(st.one_of(_core, _core, _op), max_size=14))
    out = []
    for o in ops:
        text = json.dumps(
            o,
            ensure_ascii=draw(st.booleans()),
            separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :\t")])),
        )
        out.append(text)
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(["", " ", "\t", "\x0c"])))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    data = end.join(out) + draw(st.sampled_from([end, ""]))
    data = draw(st.sampled_from([b"", b"", BOM])) + data.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 3))):  # mutations
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["del", "ins", "set", "cut"]))
        byte = draw(st.sampled_from(b'{}[],:"\\n01-.e \nxa\xc3\xff\x00'))
        if how == "del":
            data = data[:at] + data[at + 1 :]
        elif how == "ins":
            data = data[:at] + bytes([byte]) + data[at:]
        elif how == "set":
            data = data[:at] + bytes([byte]) + data[at + 1 :]
        else:
            data = data[:at]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=jsonl(), chunk=st.sampled_from([readers.CHUNK_BYTES, 64, 300]), drop=st.booleans())
def test_scanner_matches_exact_reader(data, chunk, drop):
    with tempfile.TemporaryDirectory() as d, chunk_bytes(chunk):
        path = os.path.join(d, "h.jsonl")
        Path(path).write_bytes(data)
        ref = exact(path, drop)
        for threads in (1, 2, 3):
            got = scanned(path, threads, drop)
            if typed_decoder_quirk(data):
                assert isinstance(got, str)  # malformed line by line: the scanner says so
                continue
            assert differences(got, ref) == [], (threads, data)
            if not isinstance(got, str):
                assert offsets_ok(got, data)
                assert quotes_agree(got, ref), data


def test_bare_carriage_return_is_whitespace_in_a_line(tmp_path):
    # Only \n ends a line, in both readers; \r is JSON whitespace.
    path = write(tmp_path, '{"type":"ok",\r"process":0,"value":[],"index":0}\r\r\n\r\n')
    agree(path)
    cols = scan_jsonl(path)
    assert cols.n_ops == 1 and cols.op_line.tolist() == [1]


def test_columns_dtypes_and_writable(tmp_path):
    cols = scan_jsonl(str(HISTORIES / "serial.jsonl"))
    assert cols.op_mop[0] == 0 and cols.op_mop[-1] == len(cols.mop_kind)
    assert cols.el_start[-1] == len(cols.el_tag)
    cols.op_time[0] = 5  # arrays are the caller's to use
    assert isinstance(cols.op_time, np.ndarray) and cols.op_time.flags.writeable


def test_named_pipe_is_spooled(tmp_path):
    import threading

    fifo = tmp_path / "h.jsonl"
    os.mkfifo(fifo)
    text = (HISTORIES / "serial.jsonl").read_bytes()
    writer = threading.Thread(target=lambda: fifo.write_bytes(text))
    writer.start()
    cols = load_columns(str(fifo))
    writer.join()
    assert cols.source == str(fifo) and cols.path != str(fifo)
    ref = exact(str(HISTORIES / "serial.jsonl"))
    assert differences(cols, ref) == []
    assert cols.op_json(5) == readers.load_history(str(HISTORIES / "serial.jsonl")).ops[5].to_json()


def test_progress_counts_bytes_up_to_the_size(tmp_path):
    text = lines(*[op(index=i, value=[["r", "k", list(range(i % 9))]]) for i in range(400)])
    path = write(tmp_path, text)
    seen: list[int] = []
    with chunk_bytes(2000):
        load_columns(path, progress=seen.append)
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1] == len(text)
    with pytest.raises(HistoryError, match="cannot open"):
        scan_jsonl(str(tmp_path / "missing.jsonl"))
