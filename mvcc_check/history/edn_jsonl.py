"""EDN histories through the C scanner: each line rewritten as a JSON Lines line.

Jepsen writes `history.edn` one op map per line. Read exactly, an EDN history
costs a Python object per op, micro-op and read element, and about ten times the
time of the same history in JSON Lines. Here the file is translated a chunk of
lines at a time (`edn.fast_forms`: byte substitutions and orjson, keywords read
as strings as the exact reader reads them) into a temporary JSON Lines file with
the same line numbers, which the scanner reads; explanations re-read their ops
from it. Whatever the translation cannot carry exactly (a form over several
lines, a top-level vector of ops, a set or a map with keys that are not
strings or an integer beyond 64 bits in a client op, characters the exact
reader would refuse) gives None, and the caller reads the file exactly, as
before. A nemesis op with such a value, which the checker ignores anyway, is
written as a stand-in the scanner ignores for the same reason.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile

import orjson

from mvcc_check.history.edn import EdnError, check_characters, fast_forms, loads_all
from mvcc_check.history.ops import OP_TYPES, looks_like_client

CHUNK_LINES = 50_000  # lines translated at once: bounds the Python objects alive


def edn_as_jsonl(data: bytes) -> str | None:
    """The path of a temporary JSON Lines file holding the EDN history `data` line for
    line (removed at exit), or None when the translation does not apply."""
    try:
        text = data.decode()
        check_characters(text)
    except (UnicodeDecodeError, EdnError):
        return None
    lines = text.split("\n")
    fd, path = tempfile.mkstemp(prefix="mvcc-check-", suffix=".edn.jsonl")
    try:
        with os.fdopen(fd, "wb") as out:
            for lo in range(0, len(lines), CHUNK_LINES):
                chunk = _translated(lines[lo : lo + CHUNK_LINES])
                if chunk is None:
                    _remove(path)
                    return None
                out.write(chunk)
    except BaseException:
        _remove(path)
        raise
    atexit.register(_remove, path)
    return path


def _translated(lines: list[str]) -> bytes | None:
    """The JSON Lines text of these EDN lines (each blank or one op map), or None."""
    if not any(line.strip() for line in lines):
        return b"\n" * len(lines)
    # A line that is only a comment reads as a blank one (forms here are one line each).
    lines = ["" if line.lstrip().startswith(";") else line for line in lines]
    try:
        forms = fast_forms("\n".join(lines)) or _line_by_line(lines)
    except (EdnError, RecursionError):
        return None
    if forms is None:
        return None
    by_line = dict(forms)
    if len(by_line) != len(forms):
        return None
    out: list[bytes] = []
    for i, line in enumerate(lines, 1):
        value = by_line.pop(i, None)
        if value is None:
            if line.strip():
                return None
            out.append(b"")
            continue
        if type(value) is not dict:
            return None
        try:
            out.append(orjson.dumps(value))
        except TypeError:  # a set, a map with non-string keys, an integer beyond 64 bits
            stand_in = _ignored_stand_in(value)
            if stand_in is None:
                return None
            out.append(stand_in)
    if by_line:
        return None
    return b"\n".join(out) + b"\n"


def _line_by_line(lines: list[str]) -> list[tuple[int, object]] | None:
    """(line, form) of each non-blank line read exactly, if each is one form (the
    chunks with no line plain enough for `fast_forms`, strings everywhere say)."""
    out = []
    for i, line in enumerate(lines, 1):
        if line.strip():
            forms = loads_all(line)
            if len(forms) != 1:
                return None
            out.append((i, forms[0]))
    return out


def _ignored_stand_in(op: dict) -> bytes | None:
    """For an op the checker ignores (its process is not an integer: a nemesis's,
    whose value is often a set or a map), a line the scanner ignores alike: same
    type, same reason, and a client look-alike exactly when the op is one."""
    kind, process = op.get("type"), op.get("process", 0)
    if type(kind) is not str or kind not in OP_TYPES or type(process) is int:
        return None
    return orjson.dumps(
        {"type": kind, "process": "nemesis", "f": "txn" if looks_like_client(op) else None}
    )


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
