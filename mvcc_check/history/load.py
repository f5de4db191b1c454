"""Load any history file as columns: the one entry point of the bulk path.

JSON Lines goes through the C scanner (`scan.py`), and so does EDN written one
op map per line, translated line for line into a temporary JSON Lines file
first (`edn_jsonl.py`); other EDN and elle-cli JSON go through the exact
readers, whose ops are kept for explanations. Input is
opened as `load_history` opens it (`source.opened`: a BOM skipped, standard
input and pipes spooled); a spooled JSON Lines input is kept in a temporary
file, removed at exit, so that every op can be re-read by its byte offset.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile

from mvcc_check.history.columns import Columns, columns_from_ops
from mvcc_check.history.edn_jsonl import edn_as_jsonl
from mvcc_check.history.readers import ReadProgress, parse_history_text
from mvcc_check.history.scan import scan_jsonl
from mvcc_check.history.source import HEAD_BYTES, STDIN, Input, detect_format, opened


def load_columns(
    path: str,
    format: str | None = None,
    progress: ReadProgress | None = None,
    drop_torn_tail: bool = False,
    threads: int | None = None,
) -> Columns:
    """The columns of the history at `path` (`-`: standard input), or the
    HistoryError `load_history` gives for it; `threads`: the scanner's (default:
    two for big files on two cores)."""
    with opened(path) as src:
        head = src.file.read(HEAD_BYTES)
        fmt = format or detect_format(path, head)
        if fmt == "jsonl":
            real = _keep(src) if src.spooled or path == STDIN else src.path
            return scan_jsonl(
                real,
                source=src.name,
                progress=progress,
                drop_torn_tail=drop_torn_tail,
                threads=threads,
            )
        data = head + src.file.read()
        if fmt == "edn":  # one op map per line, as Jepsen writes it: through the scanner
            translated = edn_as_jsonl(data)
            if translated is not None:
                cols = scan_jsonl(translated, source=src.name, progress=progress, threads=threads)
                cols.format = "edn"
                return cols
        history = parse_history_text(
            data, source=src.name, format=fmt, drop_torn_tail=drop_torn_tail
        )
    cols = columns_from_ops(history.ops, source=src.name, format=fmt, ignored=history.ignored)
    cols.ignored_why = history.ignored_why
    cols.client_like = history.client_like
    cols.torn_tail = history.torn_tail
    return cols


def _keep(src: Input) -> str:
    """A copy of the input that lives until exit: a spool (which `opened`
    removes) or standard input redirected from a file (which has no path)."""
    fd, tmp = tempfile.mkstemp(prefix="mvcc-check-", suffix=".history")
    atexit.register(_remove, tmp)
    with os.fdopen(fd, "wb") as out:
        if src.spooled:
            try:
                os.unlink(tmp)
                os.link(src.path, tmp)  # no copy when both are in one file system
                return tmp
            except OSError:
                pass
        src.file.seek(0)
        shutil.copyfileobj(src.file, out, 1 << 20)
    return tmp


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
