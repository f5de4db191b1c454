"""judge(ops): the checker's verdict on ops held in memory (an engine run, a database
run, a Hermitage scenario, a shrink candidate), with no file in between.

The ops are the dicts a producer recorded (`HistoryRecorder.ops`), in recording
order: op i is line i + 1 of the JSON Lines the recorder writes, so a message about
an op names the same line as `mvcc-check check` on the saved file would. Each op is
validated as the readers validate a line (`normalize_op`), non-client ops are
counted as ignored with their reason, and the columns are built from the ops
themselves (`columns_from_ops`), so explanations quote the ops in memory. The
verdict is the one `check` gives for the saved file: the same validation, the
same columns, the same core.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mvcc_check.analysis.checker import CheckOptions, Result, check
from mvcc_check.history.ops import IGNORED_WHY, looks_like_client, normalize_op
from mvcc_check.history.readers import History


def _plain(v: Any) -> Any:
    """A private copy of a value, shaped as JSON would carry it (tuples become lists), so
    the checker never shares or changes the producer's lists."""
    t = type(v)
    if t is list or t is tuple:
        return [_plain(x) for x in v]
    if t is dict:
        return {k: _plain(x) for k, x in v.items()}
    return v


def _copy(raw: Any) -> Any:
    if type(raw) is not dict:
        return raw
    op = dict(raw)
    value = op.get("value")
    if type(value) is list or type(value) is tuple:
        op["value"] = _plain(value)
    return op


def in_memory(ops: Iterable[Mapping[str, Any]], source: str = "<ops>") -> History:
    """The recorded ops as a History, validated and filtered exactly as a reader does."""
    kept = []
    ignored = 0
    client_like = None
    for position, raw in enumerate(ops):
        line = position + 1
        op = normalize_op(_copy(raw), position, source, f"line {line}", line)
        if op is None:
            ignored += 1
            if client_like is None and looks_like_client(raw):
                client_like = f"line {line}"
        else:
            kept.append(op)
    return History(
        source=source,
        ops=kept,
        format="jsonl",
        ignored=ignored,
        ignored_why={IGNORED_WHY: ignored} if ignored else {},
        client_like=client_like,
    )


def judge(
    ops: Iterable[Mapping[str, Any]],
    options: CheckOptions | None = None,
    source: str = "<ops>",
) -> Result:
    """The checker's verdict on recorded ops held in memory (see the module docstring)."""
    return check(in_memory(ops, source), options or CheckOptions())
