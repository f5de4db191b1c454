"""Load any history file as columns: the one entry point of the bulk path.

JSON Lines goes through the C scanner (`scan.py`); EDN and elle-cli JSON
through the exact readers, whose ops are kept for explanations. Standard
input (`-`) and pipes are spooled to a temporary file first, so that every
op can be re-read by its byte offset.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import stat
import sys
import tempfile

from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import Columns, columns_from_ops
from mvcc_check.history.readers import (
    FORMATS,
    ReadProgress,
    detect_format,
    load_history,
    parse_history_text,
)
from mvcc_check.history.scan import scan_jsonl


def load_columns(
    path: str, format: str | None = None, progress: ReadProgress | None = None
) -> Columns:
    """The columns of the history at `path` (`-`: standard input)."""
    real = spool(path)
    try:
        with open(real, "rb") as f:
            head = f.read(256)
    except OSError as e:
        raise HistoryError(path, None, f"cannot open: {e.strerror}") from None
    fmt = format or detect_format(path, head)
    if fmt == "jsonl":
        return scan_jsonl(real, source=path, progress=progress)
    if fmt not in FORMATS or real == path:
        history = load_history(path, fmt, progress)
    else:  # a spooled pipe: read it whole, named as given
        with open(real, "rb") as f:
            history = parse_history_text(f.read(), source=path, format=fmt)
    return columns_from_ops(history.ops, source=path, format=fmt, ignored=history.ignored)


def spool(path: str) -> str:
    """A path that can be read twice and at offsets: `path` itself for a regular
    file; standard input (`-`) or a pipe copied to a temporary file, removed at exit."""
    if path != "-":
        try:
            if stat.S_ISREG(os.stat(path).st_mode):
                return path
        except OSError:
            return path  # let the reader report it
    fd, tmp = tempfile.mkstemp(prefix="mvcc-check-", suffix=".history")
    atexit.register(_remove, tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            if path == "-":
                shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
            else:
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
    except OSError as e:
        raise HistoryError(path, None, f"cannot read: {e.strerror}") from None
    return tmp


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
