"""EDN histories through the C scanner: each line rewritten as a JSON Lines line.

Jepsen writes `history.edn` one op map per line. Read exactly, an EDN history
costs a Python object per op, micro-op and read element, and about ten times the
time of the same history in JSON Lines. Here the file is translated line for
line, in C where a line has the usual shape (`_scan.edn_lines`, edn_core.h:
keywords read as strings, as the exact reader reads them), by the exact reader
where not, into a temporary JSON Lines file with the same line numbers, which
the scanner reads; explanations re-read their ops from it. Whatever the translation cannot carry exactly (a form over several
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

from mvcc_check.history import _scan
from mvcc_check.history.edn import EdnError, check_characters, loads_all
from mvcc_check.history.ops import OP_TYPES, looks_like_client

CHUNK_BYTES = 32 << 20  # translated at once, cut at a newline


def edn_as_jsonl(data: bytes) -> str | None:
    """The path of a temporary JSON Lines file holding the EDN history `data` line for
    line (removed at exit), or None when the translation does not apply."""
    try:
        check_characters(data.decode())
    except (UnicodeDecodeError, EdnError):
        return None
    fd, path = tempfile.mkstemp(prefix="mvcc-check-", suffix=".edn.jsonl")
    try:
        with os.fdopen(fd, "wb") as out:
            start = 0
            while True:
                cut = (
                    data.find(b"\n", start + CHUNK_BYTES) if len(data) - start > CHUNK_BYTES else -1
                )
                end = len(data) if cut < 0 else cut  # (the newline at the cut separates chunks)
                chunk = _translated(data, start, end)
                if chunk is None:
                    _remove(path)
                    return None
                out.write(chunk)
                if cut < 0:
                    break
                start = cut + 1
    except BaseException:
        _remove(path)
        raise
    atexit.register(_remove, path)
    return path


def _translated(data: bytes, start: int, end: int) -> bytes | None:
    """The JSON Lines text of the EDN lines data[start:end] (each blank or one op map),
    or None. Lines of the usual shape are rewritten in C (`_scan.edn_lines`); the
    others are read exactly, one by one."""
    json, misses = _scan.edn_lines(data, start, end)
    fixed: dict[int, bytes] = {}
    for i, lo, hi in misses:
        line = data[lo:hi].decode()
        if not line.strip() or line.lstrip().startswith(";"):  # (a comment reads as blank)
            continue
        try:
            forms = loads_all(line)
        except (EdnError, RecursionError):
            return None
        if len(forms) != 1 or type(forms[0]) is not dict:
            return None
        try:
            fixed[i] = orjson.dumps(forms[0])
        except TypeError:  # a set, a map with non-string keys, an integer beyond 64 bits
            stand_in = _ignored_stand_in(forms[0])
            if stand_in is None:
                return None
            fixed[i] = stand_in
    if not fixed:
        return json
    lines = json.split(b"\n")
    for i, text in fixed.items():
        lines[i] = text
    return b"\n".join(lines)


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
