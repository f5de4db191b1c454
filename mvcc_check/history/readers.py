"""Read histories from EDN, elle-cli JSON (one array) or JSON Lines (one op per line).

The format is detected from the content (the extension decides only when the
content does not tell; `format=` overrides both), see `source.py`, which also
opens standard input and pipes. JSON Lines files are read as a stream.

Every problem is a HistoryError naming the place in one vocabulary: `line N`
(1-based) where the line is known, else `op index N`.
"""

from __future__ import annotations

import gc
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from operator import attrgetter
from typing import Any

import msgspec

from mvcc_check.errors import HistoryError, cut
from mvcc_check.history.edn import MAX_DEPTH, EdnError, check_characters, fast_forms, iter_forms
from mvcc_check.history.ops import (
    IGNORED_WHY,
    Op,
    looks_like_client,
    normalize_op,
)
from mvcc_check.history.source import BOM, detect_format, opened
from mvcc_check.history.source import display_name as display_name

FORMATS = ("edn", "json", "jsonl")
NEWLINE = b"\n"

TORN_HINT = (
    "the recording was probably interrupted while writing it; "
    "--drop-torn-tail checks the ops before it"
)


@dataclass
class History:
    """The client ops of one history file, in file order.

    `ignored` counts the ops left out (non-client ops: nemesis and the like),
    `ignored_why` by reason; `client_like` is where the first ignored op that
    looks like a client transaction is (None if none); `torn_tail` where the
    torn last line dropped on request was."""

    source: str
    ops: list[Op]
    format: str
    ignored: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    ignored_why: dict[str, int] = field(default_factory=dict)
    client_like: str | None = None
    torn_tail: str | None = None


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


class _Ignored:
    """What a reader left out, and the first ignored op that looks like a client's."""

    __slots__ = ("count", "client_like")

    def __init__(self) -> None:
        self.count = 0
        self.client_like: str | None = None

    def note(self, where: str, client: bool) -> None:
        self.count += 1
        if client and self.client_like is None:
            self.client_like = where

    def into(self, h: History) -> History:
        h.ignored = self.count
        h.ignored_why = {IGNORED_WHY: self.count} if self.count else {}
        h.client_like = self.client_like
        return h


def _ops_from(
    raws: Iterable[tuple[str, int, Any]], source: str, ign: _Ignored, first_position: int = 0
) -> list[Op]:
    ops: list[Op] = []
    for position, (where, line, raw) in enumerate(raws, first_position):
        op = normalize_op(raw, position, source, where, line)
        if op is None:
            ign.note(where, looks_like_client(raw))
        else:
            ops.append(op)
    return ops


def _decode_error(e: Exception) -> str:
    if isinstance(e, RecursionError):
        return f"values nested more than {MAX_DEPTH} deep"
    why = str(e)
    if why.startswith(("Integer value out of range", "Number out of range")):
        at = why.find(" - at")
        why = "a number out of range (integers have at most 4300 digits, floats are finite)" + (
            why[at:] if at >= 0 else ""
        )
    return cut(why, 200)


def _stack_depth() -> int:
    f, n = sys._getframe(), 0
    while f is not None:
        n, f = n + 1, f.f_back
    return n


@contextmanager
def nesting_limit() -> Iterator[None]:
    """Make msgspec refuse JSON nested deeper than about MAX_DEPTH (with RecursionError),
    as the EDN reader does: msgspec counts its nesting against Python's recursion limit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + MAX_DEPTH + 20)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _jsonl_raws(
    lines: Iterable[bytes], source: str, first_line: int = 1, torn_line: int | None = None
) -> Iterator[tuple[str, int, Any]]:
    loads = msgspec.json.decode  # exact integers of any size (orjson turns big ones into floats)
    limit = None
    for lineno, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        try:
            limit = limit or _stack_depth() + MAX_DEPTH + 20  # (see nesting_limit)
            old = sys.getrecursionlimit()
            sys.setrecursionlimit(limit)
            try:
                raw = loads(line)
            finally:
                sys.setrecursionlimit(old)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as e:
            if lineno == torn_line:
                raise TornTail(source, lineno) from None
            raise HistoryError(
                source, f"line {lineno}", f"not valid JSON: {_json_error_place(line, e)[1]}"
            ) from None
        yield f"line {lineno}", lineno, raw


class TornTail(HistoryError):
    """The last line is cut short (no newline, not a whole value)."""

    def __init__(self, source: str, line: int) -> None:
        self.line = line
        super().__init__(source, f"line {line}", f"the last line is cut short: {TORN_HINT}")


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
    ops: list[Op], first_position: int, first_line: int | None, ign: _Ignored
) -> list[Op]:
    """Defaults that depend on position, and the client-op filter, for typed-decoded ops.

    The common case (every op a client op with an index) is checked with C-speed
    passes over the chunk; only line numbers are set one op at a time."""
    if first_line is not None:
        for op, line in zip(ops, count(first_line)):
            op.line = line
    if set(map(type, map(_process_of, ops))) == {int} and None not in map(_index_of, ops):
        return ops
    out: list[Op] = []
    unset = msgspec.UNSET
    for i, op in enumerate(ops):
        p = op.process
        if type(p) is not int:
            if p is unset:
                op.process = None
            else:  # a nemesis or other non-client op
                where = op.where() if op.line >= 0 else f"op index {first_position + i}"
                ign.note(where, op.f == "txn" or bool(op.value))
                continue
        if op.index is None:
            op.index = first_position + i
        out.append(op)
    return out


def check_utf8(
    data: bytes | memoryview, source: str, first_line: int = 1, whole: bytes | None = None
) -> None:
    """HistoryError at the line of the first byte that is not UTF-8. `whole`, when
    given, holds `data` and more: if it is all ASCII, so is `data` (no copy made)."""
    if (whole if whole is not None else data if isinstance(data, bytes) else bytes(data)).isascii():
        return
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + bytes(data[: e.start]).count(b"\n")
        raise HistoryError(
            source, f"line {line}", f"not UTF-8 text (byte {bytes(data[e.start : e.start + 1])!r})"
        ) from None


ReadProgress = Callable[[int], None]
"""Told the number of bytes read so far, after each chunk."""


def _read_jsonl(
    f, source: str, progress: ReadProgress | None = None, drop_torn_tail: bool = False
) -> tuple[list[Op], _Ignored, int | None]:
    """Stream a JSON Lines file in large chunks of whole lines, each decoded in one call.

    A chunk ends at its last newline and the file is rewound to just after it, so
    no bytes are copied between chunks (f must be seekable: a file or BytesIO).
    Returns the ops, what was ignored, and the line of a torn tail dropped."""
    ops: list[Op] = []
    ign = _Ignored()
    line = 1
    position = 0
    while True:
        block = f.read(CHUNK_BYTES)
        if not block:
            return ops, ign, None
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
        check_utf8(data, source, line, whole=block)
        unterminated = block[end - 1] != 10
        nlines = block.count(b"\n", 0, end) + (1 if unterminated else 0)
        # Only the file's last line can be torn (a chunk ending without a newline is the end).
        torn_line = line + nlines - 1 if unterminated else None
        try:
            with nesting_limit():
                typed = _LINES_DECODER.decode_lines(data)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            typed = None
        if typed is not None and len(typed) == nlines:
            got = _typed_finish(typed, position, line, ign)
            skipped = nlines - len(got)
        else:
            before = ign.count
            lines = bytes(data).split(NEWLINE)  # (only \n ends a line; \r is whitespace)
            try:
                got = _ops_from(_jsonl_raws(lines, source, line, torn_line), source, ign, position)
            except TornTail as e:
                if not drop_torn_tail:
                    raise
                ign.count = before
                got = _ops_from(_jsonl_raws(lines[:-1], source, line), source, ign, position)
                ops.extend(got)
                return ops, ign, e.line
            skipped = ign.count - before
        ops.extend(got)
        position += len(got) + skipped
        line += nlines
        if progress is not None:
            progress(f.tell())


def _where_in_array(raw: Any, i: int) -> str:
    """An array element's place: its index if it has one, else its position."""
    index = raw.get("index") if type(raw) is dict else None
    return f"op index {index if type(index) is int else i}"


_BYTE_AT = re.compile(r"\(byte (\d+)\)")


def _json_error_place(data: bytes, e: Exception) -> tuple[str, str]:
    """The line a msgspec decode error points at (the last line when the data ends
    early), and the reason with the byte offset turned into a column of that line."""
    why = _decode_error(e)
    m = _BYTE_AT.search(why)
    at = int(m.group(1)) if m else len(data.rstrip())
    if m:
        why = why.replace(m.group(), f"(column {at - data.rfind(NEWLINE, 0, at)})")
    return f"line {data.count(NEWLINE, 0, at) + 1}", why


def _json_raws(data: bytes, source: str) -> Iterator[tuple[str, int, Any]]:
    check_utf8(data, source)
    try:
        with nesting_limit():
            doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as e:
        where, why = _json_error_place(data, e)
        if "truncated" in why:
            why = "the file ends in the middle of the JSON document (was it cut short?)"
        raise HistoryError(source, where, f"not valid JSON: {why}") from None
    if isinstance(doc, dict) and isinstance(doc.get("history"), list):
        doc = doc["history"]
    if not isinstance(doc, list):
        raise HistoryError(
            source, "line 1", "a JSON history must be an array of op objects (or {history: [...]})"
        )
    for i, raw in enumerate(doc):
        yield _where_in_array(raw, i), -1, raw


def _edn_raws(
    text: str, source: str, drop_torn_tail: bool = False
) -> tuple[Iterator[tuple[str, int, Any]], int | None]:
    """The EDN forms as raw ops, and the line of a torn last line dropped on request."""
    try:
        check_characters(text)
        forms = fast_forms(text) or list(iter_forms(text))
        torn = None
    except EdnError as e:
        last = text.count("\n") + 1
        if e.line != last or text.endswith("\n") or not e.at_end:
            raise HistoryError(source, f"line {e.line}", f"not valid EDN: {e.why}") from None
        if not drop_torn_tail:
            raise HistoryError(
                source, f"line {e.line}", f"the last line is cut short: {TORN_HINT}"
            ) from None
        return _edn_raws(text[: text.rfind("\n") + 1], source)[0], e.line
    return _edn_ops(forms), torn


def _edn_ops(forms: list[tuple[int, Any]]) -> Iterator[tuple[str, int, Any]]:
    if len(forms) == 1 and isinstance(forms[0][1], list):
        for i, raw in enumerate(forms[0][1]):
            yield _where_in_array(raw, i), -1, raw
        return
    for line, raw in forms:
        yield f"line {line}", line, raw


def _strip_bom(raw: bytes) -> bytes:
    return raw[len(BOM) :] if raw.startswith(BOM) else raw


def parse_history_text(
    data: bytes | str,
    source: str = "<history>",
    format: str | None = None,
    *,
    drop_torn_tail: bool = False,
) -> History:
    """Parse a whole history held in memory."""
    raw = _strip_bom(data.encode() if isinstance(data, str) else data)
    fmt = format or detect_format(source, raw[:4096])
    if fmt not in FORMATS:
        raise HistoryError(
            source, None, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})"
        )
    with gc_paused():
        if fmt == "jsonl":
            ops, ign, torn = _read_jsonl(io.BytesIO(raw), source, drop_torn_tail=drop_torn_tail)
            return _history(source, ops, fmt, ign, torn)
        ign = _Ignored()
        torn = None
        if not raw.strip():  # an empty file is an empty history, in every format
            return _history(source, [], fmt, ign, None)
        if fmt == "json":
            check_utf8(raw, source)
            try:
                with nesting_limit():
                    typed = _ARRAY_DECODER.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                typed = None
            if typed is not None:
                return _history(source, _typed_finish(typed, 0, None, ign), fmt, ign, None)
            raws: Iterable[tuple[str, int, Any]] = _json_raws(raw, source)
        else:
            check_utf8(raw, source)
            raws, torn = _edn_raws(raw.decode("utf-8"), source, drop_torn_tail)
        ops = _ops_from(raws, source, ign)
    return _history(source, ops, fmt, ign, torn)


def _history(source: str, ops: list[Op], fmt: str, ign: _Ignored, torn: int | None) -> History:
    h = ign.into(History(source=source, ops=ops, format=fmt))
    h.torn_tail = None if torn is None else f"line {torn}"
    return h


def load_history(
    path: str,
    format: str | None = None,
    progress: ReadProgress | None = None,
    *,
    drop_torn_tail: bool = False,
) -> History:
    """Read a history file (`-` is standard input; pipes work too); JSON Lines files
    are streamed in chunks, and `progress` is told the bytes read after each (other
    formats are read whole). With `drop_torn_tail`, a last line cut short (an
    interrupted recording) is left out instead of being an error."""
    with opened(path) as src:
        f = src.file
        head = f.read(4096)
        fmt = format or detect_format(path, head)
        if fmt == "jsonl":
            f.seek(src.start)
            with gc_paused():
                ops, ign, torn = _read_jsonl(f, src.name, progress, drop_torn_tail)
            return _history(src.name, ops, fmt, ign, torn)
        return parse_history_text(
            head + f.read(), source=src.name, format=fmt, drop_torn_tail=drop_torn_tail
        )
