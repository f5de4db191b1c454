"""Explanations quote ops re-read from the file by byte offset: exactly as written."""

from __future__ import annotations

import msgspec
from scancheck import exact, quotes_agree

from mvcc_check.history.columns import ColumnBuilder
from mvcc_check.history.ops import normalize_op
from mvcc_check.history.scan import scan_jsonl

LINES = [
    b'{"type":"invoke","process":0,"f":"txn","value":[["append","x",1]],"index":0}',
    b'{"type":"ok","process":0,"f":"txn","value":[["append","x",1]],"index":1,"time":5}',
    b'{"type":"invoke","process":1,"value":[["r","x",null]]}',
    b'{"type":"ok","process":1,"value":[["r","x",[1]]],"index":9}',
]


def test_ops_are_reread_by_offset(tmp_path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\n".join(LINES))  # no newline after the last line
    b = ColumnBuilder()
    offset = 0
    expected = []
    for i, line in enumerate(LINES):
        op = normalize_op(msgspec.json.decode(line), i, str(path), f"line {i + 1}", i + 1)
        b.add_op(op, offset)
        expected.append(op.to_json())
        offset += len(line) + 1
    cols = b.finish(str(path), "jsonl", path=str(path))
    assert [cols.op_json(r) for r in (3, 0, 2, 1, 3)] == [expected[r] for r in (3, 0, 2, 1, 3)]
    assert cols.op_json(2)["index"] == 2  # the op's position, as the reader gave it


QUOTED = [  # lines of the scanner's shape (quoted in C) and others (the exact reader's)
    b'{"type":"ok","process":1,"f":true,"value":[["r","x",[true,false,1,0,null,"s"]]],"index":0}',
    b'{"index":1,"type":"invoke","process":2,"f":null,"time":-1,"value":[["w",0,false]]}',
    b'{ "type" : "info" , "process" : 3 , "value" : [ [ "append" , "k" , 7 ] ] , "index" : 2 }',
    b'{"type":"fail","process":4,"f":7,"value":[],"index":3,"time":99}',
    b'{"type":"ok","process":5,"f":"t\\u00e9","value":[["r",1,[1.0]]],"index":4,"time":2.5}',
    b'{"type":"ok","process":6,"value":[["r","\\"q",null]],"index":5}',
]


def test_quotes_are_the_exact_readers_ops_types_included(tmp_path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\n".join(QUOTED) + b"\n")
    got, ref = scan_jsonl(str(path)), exact(str(path))
    assert quotes_agree(got, ref)
    assert got.op_json(0)["value"][0][2][:2] == [True, False]
    assert type(got.op_json(0)["f"]) is bool and type(got.op_json(1)["value"][0][2]) is bool
    assert got.op_json(4)["time"] == 2.5 and got.op_json(5)["value"][0][1] == '"q'
