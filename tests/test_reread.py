"""Explanations quote ops re-read from the file by byte offset: exactly as written."""

from __future__ import annotations

import msgspec

from mvcc_check.history.columns import ColumnBuilder
from mvcc_check.history.ops import normalize_op

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
