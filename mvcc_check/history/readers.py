"""Read histories from EDN, elle-cli JSON (one array) or JSON Lines (one op per line).

The format is chosen from the file extension (`.edn`, `.json`, `.jsonl` /
`.ndjson`), or by looking at the first characters when the extension says
nothing; `format=` overrides both. JSON Lines files are read as a stream.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from mvcc_check.errors import HistoryError
from mvcc_check.history.edn import EdnError, iter_forms
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


def _ops_from(raws: Iterable[tuple[str, int, Any]], source: str) -> tuple[list[Op], int]:
    ops: list[Op] = []
    ignored = 0
    for position, (where, line, raw) in enumerate(raws):
        op = normalize_op(raw, position, source, where, line)
        if op is None:
            ignored += 1
        else:
            ops.append(op)
    return ops, ignored


def _jsonl_raws(lines: Iterable[bytes], source: str) -> Iterator[tuple[str, int, Any]]:
    loads = orjson.loads
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = loads(line)
        except orjson.JSONDecodeError as e:
            raise HistoryError(source, f"line {lineno}", f"not valid JSON: {e}") from None
        yield f"line {lineno}", lineno, raw


def _json_raws(data: bytes, source: str) -> Iterator[tuple[str, int, Any]]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise HistoryError(source, None, f"not valid JSON: {e}") from None
    if isinstance(doc, dict) and isinstance(doc.get("history"), list):
        doc = doc["history"]
    if not isinstance(doc, list):
        raise HistoryError(source, None, "a JSON history must be an array of op objects")
    for i, raw in enumerate(doc):
        yield f"op {i}", -1, raw


def _edn_raws(text: str, source: str) -> Iterator[tuple[str, int, Any]]:
    try:
        forms = list(iter_forms(text))
    except EdnError as e:
        raise HistoryError(source, f"line {e.line}", f"not valid EDN: {e.why}") from None
    if len(forms) == 1 and isinstance(forms[0][1], list):
        line = forms[0][0]
        for i, raw in enumerate(forms[0][1]):
            yield f"op {i} (vector opened on line {line})", -1, raw
        return
    for line, raw in forms:
        yield f"line {line}", line, raw


def parse_history_text(data: bytes | str, source: str = "<history>", format: str | None = None) -> History:
    """Parse a whole history held in memory."""
    raw = data.encode() if isinstance(data, str) else data
    fmt = format or detect_format(source, raw[:256])
    if fmt not in FORMATS:
        raise HistoryError(source, None, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    with gc_paused():
        if fmt == "jsonl":
            raws: Iterable[tuple[str, int, Any]] = _jsonl_raws(raw.splitlines(), source)
        elif fmt == "json":
            raws = _json_raws(raw, source)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise HistoryError(source, None, f"not UTF-8 text: {e}") from None
            raws = _edn_raws(text, source)
        ops, ignored = _ops_from(raws, source)
    return History(source=source, ops=ops, format=fmt, ignored=ignored)


def load_history(path: str, format: str | None = None) -> History:
    """Read a history file; JSON Lines files are streamed line by line."""
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
                ops, ignored = _ops_from(_jsonl_raws(f, path), path)
            return History(source=path, ops=ops, format=fmt, ignored=ignored)
        return parse_history_text(head + f.read(), source=path, format=fmt)
