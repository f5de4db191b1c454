"""JSON Lines into columns with the C scanner, and the exact reader for what it leaves.

The scanner (`_scan`, built from `_scan.c`) reads the usual op shape with the
GIL released. A line it cannot read exactly is read here, by the same code
`load_history` uses line by line (`_jsonl_raws` and `normalize_op`), and added
through the scanner's own intern tables, so key, atom and process ids are
assigned in first-appearance order whoever read the line: the result is the
`columns_from_ops` of `load_history`'s ops, array for array.

The scanner takes printable ASCII only, so every line that may not be UTF-8
reaches the exact reader, which checks it. When any line is malformed (not
UTF-8, not JSON, not an op, a torn last line), the file is read again by
`load_history`'s own streaming reader up to its first error, which is raised:
the same message, chunk rules included (it checks a chunk's UTF-8 before any
line of it). A UTF-8 byte order mark is skipped; `drop_torn_tail` leaves out
a torn last line, as `load_history` does.

Big files are scanned in two parts on two threads; the later part's scanner is
appended to the earlier one's (its ids mapped, its lines and positions shifted).
"""

from __future__ import annotations

import os
import struct
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mvcc_check.errors import HistoryError
from mvcc_check.history import _scan
from mvcc_check.history import readers as _readers
from mvcc_check.history.columns import (
    ATOM,
    INT64_MAX,
    INT64_MIN,
    LIST,
    MOP_KIND_CODES,
    NIL,
    OP_TYPE_CODES,
    Columns,
    scalar_tag,
)
from mvcc_check.history.ops import IGNORED_WHY, looks_like_client, normalize_op
from mvcc_check.history.source import BOM

KEYS, ATOMS, PROCS = 0, 1, 2
COLUMNS = (
    ("op_type", np.int8),
    ("op_process", np.int32),
    ("op_index", np.int64),
    ("op_time", np.int64),
    ("op_line", np.int64),
    ("op_offset", np.int64),
    ("op_mop", np.int64),
    ("mop_kind", np.int8),
    ("mop_key", np.int32),
    ("mop_tag", np.int8),
    ("mop_value", np.int64),
    ("el_start", np.int64),
    ("el_tag", np.int8),
    ("el_value", np.int64),
)
PARALLEL_BYTES = 8 << 20  # below this one thread is faster than starting a second
_NIL_ELEMENT = b"n"


def canon(v: Any) -> bytes | None:
    """The bytes that identify v under Python equality (None: equal to nothing).

    Ints (bools and integral floats too) are 'i' + int64 or 'b' + decimal, strings
    's' + UTF-8: the same bytes the C scanner interns, so the tables agree."""
    t = type(v)
    if t is int or t is bool or (t is float and v.is_integer()):
        i = int(v)
        if INT64_MIN <= i <= INT64_MAX:
            return b"i" + i.to_bytes(8, "little", signed=True)
        return b"b" + str(i).encode()
    if t is str:
        return b"s" + v.encode("utf-8", "surrogatepass")
    if v is None:
        return b"N"
    if t is float:
        return None if v != v else b"f" + struct.pack("<d", v)
    if t is tuple:
        parts = [b"t"]
        for e in v:
            c = canon(e)
            if c is None:
                return None
            parts.append(len(c).to_bytes(8, "little") + c)
        return b"".join(parts)
    return None  # lists, maps: unhashable, never equal to another value


def _tagged(s: Any, v: Any) -> tuple[int, int]:
    """(tag, value) of a scalar, as `ColumnBuilder.tagged` makes it, with the
    scanner's intern table."""
    return scalar_tag(v, lambda x: s.intern(ATOMS, canon(x), x))


@dataclass
class _Part:
    """One thread's share of the file and what its exact reads found."""

    pieces: list[tuple[int, int]]  # (start, end) byte ranges
    size: int = 0  # the file's: a line without newline at its end may be torn
    drop_torn_tail: bool = False
    scanner: Any = field(default_factory=_scan.Scanner)
    ignored: int = 0
    client_like: int | None = None  # line of the first ignored op that looks like a client's
    torn_tail: int | None = None  # line of the torn last line dropped
    big_index: dict[int, int] = field(default_factory=dict)
    defaulted: list[tuple[int, int]] = field(default_factory=list)  # (row, position)
    done: int = 0  # bytes scanned
    error: BaseException | None = None


def _add_exact(part: _Part, op: Any, offset: int) -> int:
    """Append an op the exact reader made; the row it got."""
    s = part.scanner
    kinds, tags, etags = array("b"), array("b"), array("b")
    keys, values, lens, evals = array("q"), array("q"), array("q"), array("q")
    for kind, k, v in op.value:
        kinds.append(MOP_KIND_CODES[kind])
        keys.append(s.intern(KEYS, canon(k), k))
        if type(v) is list:
            tags.append(LIST)
            values.append(0)
            lens.append(len(v))
            for e in v:
                tag, x = _tagged(s, e)
                if tag == NIL:  # a nil element: an atom of its own kind
                    tag, x = ATOM, s.intern(ATOMS, _NIL_ELEMENT, None)
                etags.append(tag)
                evals.append(x)
        else:
            tag, x = _tagged(s, v)
            tags.append(tag)
            values.append(x)
            lens.append(-1)
    pid = s.intern(PROCS, canon(op.process), op.process)
    idx, t = op.index, op.time
    big = not INT64_MIN <= idx <= INT64_MAX
    time = t if type(t) is int and INT64_MIN <= t <= INT64_MAX else -1
    row = s.add_op(
        OP_TYPE_CODES[op.type], pid, 0 if big else idx, time, op.line, offset,
        kinds, keys, tags, values, lens, etags, evals,
    )  # fmt: skip
    if big:
        part.big_index[row] = idx
    return row


def _read_exact(part: _Part, line: bytes, offset: int, last: bool, source: str) -> None:
    """Read one line the scanner left, as load_history reads it line by line
    (`last`: the file's last line, without a newline: it may be torn)."""
    s = part.scanner
    lineno, position = s.line, s.position
    _readers.check_utf8(line, source, lineno)
    try:
        for where, ln, raw in _readers._jsonl_raws(
            (line,), source, lineno, lineno if last else None
        ):
            op = normalize_op(raw, position, source, where, ln)
            s.position = position + 1
            if op is None:
                part.ignored += 1
                if part.client_like is None and looks_like_client(raw):
                    part.client_like = lineno
                continue
            row = _add_exact(part, op, offset)
            if raw.get("index") is None:
                part.defaulted.append((row, position))
    except _readers.TornTail:
        if not part.drop_torn_tail:
            raise
        part.torn_tail = lineno
    s.line = lineno + 1


def _scan_part(
    part: _Part,
    path: str,
    source: str,
    stop: threading.Event | None = None,
    after_piece: Callable[[], None] | None = None,
) -> None:
    """Scan a part's pieces in order; a malformed line or any failure ends it
    (part.error), to be raised in file order by the thread that merges."""
    try:
        _scan_pieces(part, path, source, stop, after_piece)
    except BaseException as e:  # noqa: BLE001 - handed over to the merging thread
        part.error = e


def _scan_pieces(
    part: _Part,
    path: str,
    source: str,
    stop: threading.Event | None,
    after_piece: Callable[[], None] | None,
) -> None:
    s = part.scanner
    size = max((end - start for start, end in part.pieces), default=0)
    buf = bytearray(size)
    fd = os.open(path, os.O_RDONLY)
    try:
        for start, end in part.pieces:
            if stop is not None and stop.is_set():
                return
            n = _pread_into(fd, buf, end - start, start)
            data = memoryview(buf)[:n]
            pos = 0
            while True:
                pos = s.scan(data, pos, n, start)
                if pos >= n:
                    break
                nl = buf.find(b"\n", pos, n)
                stop_at = n if nl < 0 else nl + 1
                line = bytes(data[pos : stop_at - 1 if nl >= 0 else n])
                if line.endswith(b"\r"):  # as splitlines leaves it
                    line = line[:-1]
                last = nl < 0 and start + n == part.size
                _read_exact(part, line, start + pos, last, source)
                pos = stop_at
            part.done += n
            if after_piece is not None:
                after_piece()
    finally:
        os.close(fd)


def _pread_into(fd: int, buf: bytearray, n: int, offset: int) -> int:
    view = memoryview(buf)
    got = 0
    while got < n:
        k = os.preadv(fd, [view[got:n]], offset + got)
        if k <= 0:  # the file shrank while being read
            break
        got += k
    return got


def chunk_bounds(f: Any, size: int, chunk: int, start: int = 0) -> list[tuple[int, int]]:
    """The byte ranges from `start` that `load_history` reads as chunks: `chunk`
    bytes cut after their last newline (a line longer than a chunk is taken whole)."""
    out = []
    while start < size:
        if size - start < chunk:
            out.append((start, size))
            break
        end = _last_newline(f, start, start + chunk)
        if end < 0:
            f.seek(start + chunk)
            end = start + chunk + len(f.readline())
        out.append((start, end))
        start = end
    return out


def _last_newline(f: Any, lo: int, hi: int, window: int = 1 << 16) -> int:
    """One past the last newline in bytes [lo, hi) of f, or -1."""
    while hi > lo:
        at = max(lo, hi - window)
        f.seek(at)
        i = f.read(hi - at).rfind(b"\n")
        if i >= 0:
            return at + i + 1
        hi = at
    return -1


def _split(f: Any, chunks: list[tuple[int, int]], start: int, size: int, parts: int) -> list[_Part]:
    """Cut the chunks into `parts` runs of whole lines of about equal size."""
    cuts = [start]
    for k in range(1, parts):
        f.seek(start + (size - start) * k // parts)
        f.readline()
        cuts.append(max(cuts[-1], min(f.tell(), size)))
    cuts.append(size)
    out = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        pieces = [(max(a, lo), min(b, hi)) for a, b in chunks if a < hi and b > lo]
        out.append(_Part(pieces, size))
    return out


def scan_jsonl(
    path: str,
    source: str | None = None,
    progress: _readers.ReadProgress | None = None,
    threads: int | None = None,
    drop_torn_tail: bool = False,
) -> Columns:
    """The columns of a JSON Lines file (seekable: spool a pipe first);
    HistoryError for its first malformed line, as load_history reports it."""
    source = path if source is None else source
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed just below
    except OSError as e:
        raise HistoryError(source, None, f"cannot open: {e.strerror}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        start = len(BOM) if f.read(len(BOM)) == BOM else 0
        chunks = chunk_bounds(f, size, _readers.CHUNK_BYTES, start)
        if threads is None:
            threads = 2 if size >= PARALLEL_BYTES and len(os.sched_getaffinity(0)) > 1 else 1
        parts = _split(f, chunks, start, size, max(1, threads))
    for part in parts:
        part.drop_torn_tail = drop_torn_tail
    try:
        return _scan_parts(parts, path, source, progress, size)
    except HistoryError as e:
        raise _exact_error(path, source, start, drop_torn_tail) or e from None


def _exact_error(path: str, source: str, start: int, drop_torn_tail: bool) -> HistoryError | None:
    """The error load_history's streaming reader meets first in the file, if any."""
    try:
        with open(path, "rb") as f, _readers.gc_paused():
            f.seek(start)
            _readers._read_jsonl(f, source, drop_torn_tail=drop_torn_tail)
    except HistoryError as e:
        return e
    except OSError as e:
        return HistoryError(source, None, f"cannot read: {e.strerror}")
    return None


def _scan_parts(parts: list[_Part], path: str, source: str, progress: Any, size: int) -> Columns:
    """Scan the parts, the first here and the others on threads of their own."""
    workers = []
    stop = threading.Event()
    for part in parts[1:]:
        w = threading.Thread(target=_scan_part, args=(part, path, source, stop), daemon=True)
        w.start()
        workers.append(w)
    try:
        _scan_first(parts, path, source, progress)
        for w in workers:
            while w.is_alive():
                w.join(0.1)
                if progress is not None:
                    progress(sum(p.done for p in parts))
    finally:
        stop.set()
    cols = _merge(parts, source, path)
    if progress is not None:
        progress(size)
    return cols


def _scan_first(parts: list[_Part], path: str, source: str, progress: Any) -> None:
    """Scan the first part here, telling progress after each piece."""
    tell = None if progress is None else (lambda: progress(sum(p.done for p in parts)))
    _scan_part(parts[0], path, source, after_piece=tell)
    if parts[0].error is not None:
        raise parts[0].error


def _merge(parts: list[_Part], source: str, path: str) -> Columns:
    """Append every later part to the first; raise the first error in file order."""
    first = parts[0]
    s = first.scanner
    for part in parts[1:]:
        line_base, pos_base = s.line - 1, s.position
        if part.error is not None:
            raise part.error
        rows_base = s.counts()[0]
        t = part.scanner
        t_line, t_position = t.line, t.position  # extend() empties t
        s.extend(t, line_base)
        s.line, s.position = line_base + t_line, pos_base + t_position
        first.ignored += part.ignored
        if first.client_like is None and part.client_like is not None:
            first.client_like = part.client_like + line_base
        if part.torn_tail is not None:
            first.torn_tail = part.torn_tail + line_base
        first.big_index.update({r + rows_base: i for r, i in part.big_index.items()})
        first.defaulted += [(r + rows_base, p + pos_base) for r, p in part.defaulted]
    arrays = {name: np.frombuffer(s.take(i), dtype) for i, (name, dtype) in enumerate(COLUMNS)}
    for row, position in first.defaulted:
        if position <= INT64_MAX:
            arrays["op_index"][row] = position
        else:
            first.big_index[row] = position
    return Columns(
        source=source,
        format="jsonl",
        **arrays,
        processes=s.values(PROCS),
        keys=s.values(KEYS),
        atoms=s.values(ATOMS),
        big_index=first.big_index,
        ignored=first.ignored,
        path=path,
        ignored_why={IGNORED_WHY: first.ignored} if first.ignored else {},
        client_like=None if first.client_like is None else f"line {first.client_like}",
        torn_tail=None if first.torn_tail is None else f"line {first.torn_tail}",
    )
