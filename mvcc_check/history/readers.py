"""Read histories from EDN, elle-cli JSON (one array) or JSON Lines (one op per line).

The format is chosen from the file extension (`.edn`, `.json`, `.jsonl` /
`.ndjson`), or by looking at the first characters when the extension says
nothing; `format=` overrides both. JSON Lines files are read as a stream.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from operator import attrgetter
from typing import Any

import msgspec

from mvcc_check.errors import HistoryError
from mvcc_check.history.edn import EdnError, fast_forms, iter_forms
from mvcc_check.history.ops import Op, normalize_op

FORMATS = ("edn", "json", "jsonl")


@dataclass
class History:
    """The client ops of one history file, in file order."""

    source: str
    ops: list[Op]
    format: str
    ignored: int = 0  # non-client ops (nemesis and the like)
    meta: dict[str, Any] = field(default_factory=dict)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk loads make millions of small objects; the cyclic GC only slows them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def detect_format(path: str, head: bytes) -> str:
    """Pick a format from the extension, else from the first non-blank bytes."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".edn":
        return "edn"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    text = head.lstrip()
    if ext == ".json":
        return "jsonl" if text.startswith(b"{") else "json"
    if text.startswith(b"["):
        # An EDN vector of maps opens with [{: ; JSON with [{"
        rest = text[1:].lstrip()
        return "edn" if rest.startswith(b"{") and rest[1:].lstrip().startswith(b":") else "json"
    if text.startswith(b"{"):
        rest = text[1:].lstrip()
        return "jsonl" if rest.startswith(b'"') else "edn"
    return "edn"


def _ops_from(
    raws: Iterable[tuple[str, int, Any]], source: str, first_position: int = 0
) -> tuple[list[Op], int]:
    ops: list[Op] = []
    ignored = 0
    for position, (where, line, raw) in enumerate(raws, first_position):
        op = normalize_op(raw, position, source, where, line)
        if op is None:
            ignored += 1
        else:
            ops.append(op)
    return ops, ignored


def _jsonl_raws(
    lines: Iterable[bytes], source: str, first_line: int = 1
) -> Iterator[tuple[str, int, Any]]:
    loads = msgspec.json.decode  # exact integers of any size (orjson turns big ones into floats)
    for lineno, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        try:
            raw = loads(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise HistoryError(source, f"line {lineno}", f"not valid JSON: {e}") from None
        yield f"line {lineno}", lineno, raw


# Typed decoding straight into Op structs: several times faster than building
# dicts and validating them in Python. Any chunk it rejects (a nemesis op with
# a free-form value, a key that is neither int nor string, a malformed line)
# is read again by the general path, which also explains errors precisely.
_LINES_DECODER = msgspec.json.Decoder(Op)
_ARRAY_DECODER = msgspec.json.Decoder(list[Op])
CHUNK_BYTES = 32 << 20


_process_of = attrgetter("process")
_index_of = attrgetter("index")


def _typed_finish(
    ops: list[Op], first_position: int, first_line: int | None
) -> tuple[list[Op], int]:
    """Defaults that depend on position, and the client-op filter, for typed-decoded ops.

    The common case (every op a client op with an index) is checked with C-speed
    passes over the chunk; only line numbers are set one op at a time."""
    if first_line is not None:
        for op, line in zip(ops, count(first_line)):
            op.line = line
    if set(map(type, map(_process_of, ops))) == {int} and None not in map(_index_of, ops):
        return ops, 0
    out: list[Op] = []
    ignored = 0
    unset = msgspec.UNSET
    for i, op in enumerate(ops):
        p = op.process
        if type(p) is not int:
            if p is unset:
                op.process = None
            else:
                ignored += 1  # a nemesis or other non-client op
                continue
        if op.index is None:
            op.index = first_position + i
        out.append(op)
    return out, ignored


ReadProgress = Callable[[int], None]
"""Told the number of bytes read so far, after each chunk."""


def _read_jsonl(f, source: str, progress: ReadProgress | None = None) -> tuple[list[Op], int]:
    """Stream a JSON Lines file in large chunks of whole lines, each decoded in one call.

    A chunk ends at its last newline and the file is rewound to just after it, so
    no bytes are copied between chunks (f must be seekable: a file or BytesIO)."""
    ops: list[Op] = []
    ignored = 0
    line = 1
    position = 0
    while True:
        block = f.read(CHUNK_BYTES)
        if not block:
            return ops, ignored
        end = len(block)
        if end == CHUNK_BYTES:  # more may follow: stop at the last complete line
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # a single line longer than a chunk: take the rest of it
                block += f.readline()
                end = len(block)
            else:
                f.seek(cut - end, 1)
                end = cut
        data = memoryview(block)[:end]
        nlines = block.count(b"\n", 0, end) + (0 if block[end - 1] == 10 else 1)
        try:
            typed = _LINES_DECODER.decode_lines(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            typed = None
        if typed is not None and len(typed) == nlines:
            got, skipped = _typed_finish(typed, position, line)
        else:
            raws = _jsonl_raws(bytes(data).splitlines(), source, first_line=line)
            got, skipped = _ops_from(raws, source, first_position=position)
        ops.extend(got)
        ignored += skipped
        position += len(got) + skipped
        line += nlines
        if progress is not None:
            progress(f.tell())


def _json_raws(data: bytes, source: str) -> Iterator[tuple[str, int, Any]]:
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise HistoryError(source, None, f"not valid JSON: {e}") from None
    if isinstance(doc, dict) and isinstance(doc.get("history"), list):
        doc = doc["history"]
    if not isinstance(doc, list):
        raise HistoryError(source, None, "a JSON history must be an array of op objects")
    for i, raw in enumerate(doc):
        yield f"op {i}", -1, raw


def _edn_raws(text: str, source: str) -> Iterator[tuple[str, int, Any]]:
    try:
        forms = fast_forms(text) or list(iter_forms(text))
    except EdnError as e:
        raise HistoryError(source, f"line {e.line}", f"not valid EDN: {e.why}") from None
    if len(forms) == 1 and isinstance(forms[0][1], list):
        line = forms[0][0]
        for i, raw in enumerate(forms[0][1]):
            yield f"op {i} (vector opened on line {line})", -1, raw
        return
    for line, raw in forms:
        yield f"line {line}", line, raw


def parse_history_text(
    data: bytes | str, source: str = "<history>", format: str | None = None
) -> History:
    """Parse a whole history held in memory."""
    raw = data.encode() if isinstance(data, str) else data
    fmt = format or detect_format(source, raw[:256])
    if fmt not in FORMATS:
        raise HistoryError(
            source, None, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})"
        )
    with gc_paused():
        if fmt == "jsonl":
            import io

            ops, ignored = _read_jsonl(io.BytesIO(raw), source)
            return History(source=source, ops=ops, format=fmt, ignored=ignored)
        if fmt == "json":
            try:
                typed = _ARRAY_DECODER.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                typed = None
            if typed is not None:
                ops, ignored = _typed_finish(typed, 0, None)
                return History(source=source, ops=ops, format=fmt, ignored=ignored)
            raws: Iterable[tuple[str, int, Any]] = _json_raws(raw, source)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise HistoryError(source, None, f"not UTF-8 text: {e}") from None
            raws = _edn_raws(text, source)
        ops, ignored = _ops_from(raws, source)
    return History(source=source, ops=ops, format=fmt, ignored=ignored)


def load_history(
    path: str, format: str | None = None, progress: ReadProgress | None = None
) -> History:
    """Read a history file; JSON Lines files are streamed in chunks, and `progress`
    is told the bytes read after each (other formats are read whole)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, streamed for JSONL
    except OSError as e:
        raise HistoryError(path, None, f"cannot open: {e.strerror}") from None
    with f:
        head = f.read(256)
        fmt = format or detect_format(path, head)
        if fmt == "jsonl":
            f.seek(0)
            with gc_paused():
                ops, ignored = _read_jsonl(f, path, progress)
            return History(source=path, ops=ops, format=fmt, ignored=ignored)
        return parse_history_text(head + f.read(), source=path, format=fmt)
