"""Where a history's bytes come from, and which format they are in.

One place for the input side of every reader: a path, `-` (standard input)
or a pipe such as /dev/stdin. A non-seekable input is spooled to a temporary
file first, so that every reader (and anything that re-reads ops by byte
offset later) works on a real file. The format is detected from the content,
the extension only deciding when the content does not tell.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from mvcc_check.errors import HistoryError

BOM = b"\xef\xbb\xbf"
STDIN = "-"
STDIN_NAME = "<stdin>"
HEAD_BYTES = 4096


@dataclass
class Input:
    """An opened history: `name` for messages, `path` a real, seekable file holding
    the bytes (the spool for a pipe), `file` open on it at `start` (after a BOM)."""

    name: str
    path: str
    file: IO[bytes]
    start: int
    spooled: bool = False


def display_name(path: str) -> str:
    """The name a message uses for `path` (`-` is standard input)."""
    return STDIN_NAME if path == STDIN else path


def _open_error(path: str, e: OSError) -> HistoryError:
    if isinstance(e, IsADirectoryError):
        why = "cannot read: it is a directory"
    elif isinstance(e, FileNotFoundError):
        why = "cannot open: no such file"
    else:
        why = f"cannot open: {e.strerror or e}"
    return HistoryError(display_name(path), None, why)


@contextmanager
def opened(path: str) -> Iterator[Input]:
    """Open a history for reading; pipes and standard input are spooled to a
    temporary file, removed when the context ends. HistoryError if unreadable."""
    name = display_name(path)
    spool: str | None = None
    try:
        if path == STDIN:
            src: IO[bytes] = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
        else:
            src = open(path, "rb")  # noqa: SIM115 - closed below
        try:
            if stat.S_ISDIR(os.fstat(src.fileno()).st_mode):
                raise IsADirectoryError(path)
            if not _seekable(src):
                fd, spool = tempfile.mkstemp(prefix="mvcc-check-", suffix=".history")
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                src.close()
                src = open(spool, "rb")  # noqa: SIM115 - closed below
            head = src.read(len(BOM))
            start = len(BOM) if head == BOM else 0
            src.seek(start)
        except BaseException:
            src.close()
            raise
    except OSError as e:
        if spool is not None:
            os.unlink(spool)
        raise _open_error(path, e) from None
    try:
        with src:
            yield Input(name, spool or path, src, start, spooled=spool is not None)
    finally:
        if spool is not None:
            os.unlink(spool)


def _seekable(f: IO[bytes]) -> bool:
    """A regular file can be read twice; a pipe, terminal or socket cannot."""
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode) and f.seekable()
    except OSError:
        return False


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes show, or None when they do not tell (empty,
    or a shape every format shares)."""
    text = head[len(BOM) :] if head.startswith(BOM) else head
    text = text.lstrip()
    if not text:
        return None
    first = text[:1]
    if first in (b"#", b";", b":"):
        return "edn"
    if first == b"[":
        rest = text[1:].lstrip()
        if rest.startswith((b"#", b":")):
            return "edn"
        if rest.startswith(b"{"):
            after = rest[1:].lstrip()
            if after.startswith(b":"):
                return "edn"
            if after.startswith(b'"'):
                return "json"
        return None  # `[]`, `[` then nothing yet: EDN or JSON
    if first == b"{":
        after = text[1:].lstrip()
        if after.startswith(b":"):
            return "edn"
        if after.startswith(b'"history"'):
            return "json"  # elle-cli's wrapper object {"history": [...]}
        if after.startswith(b'"'):
            return "jsonl"
        return None
    return None


def format_from_extension(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    return {".edn": "edn", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(ext)


def detect_format(path: str, head: bytes) -> str:
    """The content decides; the extension only when the content does not tell;
    EDN when neither does (Jepsen's own format)."""
    by_content = sniff_format(head)
    if by_content is not None:
        return by_content
    by_ext = format_from_extension(path)
    if by_ext in (None, "jsonl") and head.lstrip(BOM).lstrip().startswith(b"["):
        return "json"  # an array is never JSON Lines
    return by_ext or "edn"
