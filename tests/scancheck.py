"""Compare the C scanner's columns with the exact path's (`columns_from_ops` of
`load_history`), for the scanner's tests and the sanitizer run."""

from __future__ import annotations

import io
import json
from typing import Any

import msgspec
import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history import readers
from mvcc_check.history.columns import Columns, columns_from_ops
from mvcc_check.history.readers import load_history
from mvcc_check.history.scan import COLUMNS, chunk_bounds, scan_jsonl
from mvcc_check.history.source import BOM


def exact(path: str, drop_torn_tail: bool = False) -> Columns | str:
    """The exact path's columns, or its error message."""
    try:
        h = load_history(path, "jsonl", drop_torn_tail=drop_torn_tail)
    except HistoryError as e:
        return str(e)
    cols = columns_from_ops(h.ops, source=path, format="jsonl", ignored=h.ignored)
    cols.ignored_why, cols.client_like, cols.torn_tail = h.ignored_why, h.client_like, h.torn_tail
    return cols


def scanned(path: str, threads: int, drop_torn_tail: bool = False) -> Columns | str:
    try:
        return scan_jsonl(path, threads=threads, drop_torn_tail=drop_torn_tail)
    except HistoryError as e:
        return str(e)


_STATS = ("big_index", "ignored", "ignored_why", "client_like", "torn_tail")


def _typed(values: list[Any]) -> list[tuple[type, Any]]:
    return [(type(v), v) for v in values]


def differences(a: Columns | str, b: Columns | str) -> list[str]:
    """What differs between two results (every array and table; not the offsets,
    which only the scanner records)."""
    if isinstance(a, str) or isinstance(b, str):
        return [] if a == b else [f"{a!r} != {b!r}"]
    out = []
    for name, dtype in COLUMNS:
        if name == "op_offset":
            continue
        x, y = getattr(a, name), getattr(b, name)
        if x.dtype != dtype or y.dtype != dtype or not np.array_equal(x, y):
            out.append(f"{name}: {x.tolist()[:20]} != {y.tolist()[:20]}")
    for name in ("processes", "keys", "atoms"):
        if _typed(getattr(a, name)) != _typed(getattr(b, name)):
            out.append(f"{name}: {getattr(a, name)[:20]} != {getattr(b, name)[:20]}")
    for name in _STATS:
        if getattr(a, name) != getattr(b, name):
            out.append(f"{name}: {getattr(a, name)!r} != {getattr(b, name)!r}")
    return out


def quotes_agree(got: Columns, ref: Columns) -> bool:
    """Every op quoted from the file (in C for lines of the scanner's shape) is the
    exact reader's op's JSON, types included (true is no 1, 1.0 no 1)."""
    return all(
        json.dumps(got.op_json(row)) == json.dumps(ref.op_json(row)) for row in range(ref.n_ops)
    )


def offsets_ok(cols: Columns, data: bytes) -> bool:
    """Every op's offset is the start of its line (the first one's after a BOM)."""
    first = len(BOM) if data.startswith(BOM) else 0
    for row in range(cols.n_ops):
        off = int(cols.op_offset[row])
        if not (off == first or data[off - 1 : off] == b"\n"):
            return False
        if data.count(b"\n", 0, off) + 1 != int(cols.op_line[row]):
            return False
    return True


def typed_decoder_quirk(data: bytes) -> bool:
    """Whether load_history's typed decoder takes a chunk that line by line is
    malformed. It reads whitespace-separated values, not lines (a line of two
    ops next to an op split over two lines passes its count check). The
    scanner reads lines, and each as load_history's own line-by-line path does."""
    first = len(BOM) if data.startswith(BOM) else 0
    for start, end in chunk_bounds(io.BytesIO(data), len(data), readers.CHUNK_BYTES, first):
        block = data[start:end]
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            return False  # load_history stops at this chunk before decoding it
        nlines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        try:
            typed = len(readers._LINES_DECODER.decode_lines(block)) == nlines
        except (msgspec.DecodeError, msgspec.ValidationError):
            typed = False
        if not typed:
            continue
        for line in block.split(b"\n"):
            try:
                if line.strip():
                    msgspec.json.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                return True
    return False


_BASE = [
    b'{"type":"invoke","process":0,"f":"txn","value":[["append","x",1],["r","y",null]],"index":0,"time":1}',
    b'{"type":"ok","process":0,"f":"txn","value":[["append","x",1],["r","y",[1,2,"a",null]]],"index":1}',
    b'{"index": 2, "value": [["w", 7, "v"], ["r", -3, 4]], "process": 12, "type": "info", "time": -9}',
    b'{"type":"fail","process":3,"value":[],"index":9223372036854775807,"f":null}',
    b'{"type":"ok","process":1,"value":[["r","\\u00e9",[1.5]]],"index":4,"time":2.5}',
    b'{"type":"info","process":"nemesis","f":"start","value":{"a":[1]}}',
    b'{"type":"ok","process":2,"value":[["append",true,1],["r",[1,2],[[3]]]],"index":6}',
    b"",
]
_BYTES = b'{}[],:"\\\n\r01-.e xa\xc3\xff\x00'


def mutants(seed: int, n: int) -> list[bytes]:
    """n JSON Lines inputs: random lines of the usual shape and odd ones, then
    random byte edits (the sanitizer runs' corpus)."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        data = b"\n".join(rng.choice(_BASE) for _ in range(rng.randint(0, 12)))
        for _ in range(rng.randint(0, 4)):
            if not data:
                break
            at = rng.randrange(len(data))
            how = rng.randrange(4)
            b = bytes([rng.choice(_BYTES)])
            data = (
                data[:at] + data[at + 1 :] if how == 0
                else data[:at] + b + data[at:] if how == 1
                else data[:at] + b + data[at + 1 :] if how == 2
                else data[:at]
            )  # fmt: skip
        out.append(data)
    return out
