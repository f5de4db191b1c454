"""Faults for the timelines: the nemesis ops of a history file, as Jepsen records
them (`"process": "nemesis"` in JSON, `:process :nemesis` in EDN, type info, `f`
the fault, its start and end told apart in `f` or `value`).

The checker ignores these ops, so the history it reads has none; the report finds
them in the file itself, by a byte search for the nemesis marker that parses only
the lines holding it (a million-op file without faults costs one scan)."""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from typing import Any

import orjson

from mvcc_check.history.edn import loads_all

MARKER = b"nemesis"  # one pass over the file finds both spellings
MAX_FAULT_OPS = 10_000
OP_LINE = re.compile(rb"^[ \t]*\{", re.M)  # a line holding an op: its position is its index
STARTS = ("start", "begin", "inject", "kill", "pause", "crash", "partition")
ENDS = ("stop", "end", "heal", "resume", "recover", "restart")


@dataclass(frozen=True)
class Fault:
    """A fault on the time axis: from start to end (end None: a single moment or never healed)."""

    label: str
    start_time: float | None
    start_index: int
    end_time: float | None = None
    end_index: int | None = None
    open: bool = False  # started and not seen to end


def scan_nemesis_ops(path: str) -> list[dict[str, Any]]:
    """The nemesis ops of a JSON Lines or EDN history file, one op a line (others: none)."""
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return _scan(mm)
    except (OSError, ValueError):  # unreadable or empty: no faults to draw
        return []


def _scan(mm: mmap.mmap) -> list[dict[str, Any]]:
    hits = _finds(mm, MARKER)
    out, line_no, counted_to, last_line = [], 0, 0, -1
    for at in hits:
        start = mm.rfind(b"\n", 0, at) + 1
        if start == last_line:
            continue
        last_line = start
        line_no += len(OP_LINE.findall(mm, counted_to, start))
        counted_to = start
        end = mm.find(b"\n", at)
        op = _parse(mm[start : end if end >= 0 else len(mm)])
        if op is not None:
            op.setdefault("index", line_no)
            out.append(op)
        if len(out) >= MAX_FAULT_OPS:
            break
    return out


def _finds(mm: mmap.mmap, marker: bytes):
    i = mm.find(marker)
    while i >= 0:
        yield i
        i = mm.find(marker, i + 1)


def _parse(line: bytes) -> dict[str, Any] | None:
    text = line.strip().rstrip(b",")
    try:
        if text.startswith(b'{"'):
            op = orjson.loads(text)
        else:
            forms = loads_all(text.decode("utf-8", "replace").strip("[] \t"))
            op = forms[0] if forms else None
    except Exception:  # a line that is not one op: not drawn
        return None
    if not isinstance(op, dict) or op.get("process") != "nemesis":
        return None
    out = {"time": op.get("time"), "f": op.get("f"), "value": op.get("value")}
    if isinstance(op.get("index"), int):
        out["index"] = op["index"]
    return out


def _words(op: dict[str, Any]) -> str:
    return f"{op.get('f') or ''} {op.get('value') if op.get('value') is not None else ''}".lower()


def _name(op: dict[str, Any]) -> str:
    f = str(op.get("f") or "fault").lstrip(":")
    for w in (*STARTS[:3], *ENDS[:2]):
        f = f.replace(f"{w}-", "").replace(f"-{w}", "")
    return f


def faults_of(ops: list[dict[str, Any]]) -> list[Fault]:
    """Pair each fault's start with its next end (by name); a lone op is a moment."""
    out: list[Fault] = []
    started: dict[str, dict[str, Any]] = {}
    for op in ops:
        name, words = _name(op), _words(op)
        t = op.get("time")
        t = float(t) if isinstance(t, int | float) and t >= 0 else None
        if any(w in words for w in ENDS):  # an end, of the fault started last under this name
            if name in started:
                s = started.pop(name)
                out.append(Fault(name, s["t"], s["i"], t, op.get("index")))
        elif any(w in words for w in STARTS):  # Jepsen records a start twice: keep the first
            started.setdefault(name, {"t": t, "i": op.get("index")})
        else:
            out.append(Fault(name, t, op.get("index")))
    out += [Fault(n, s["t"], s["i"], open=True) for n, s in started.items()]
    return out
