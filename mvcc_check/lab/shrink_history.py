"""Shrink a recorded history to the smallest sub-history that still shows an anomaly.

A sub-history keeps whole transactions (an invocation with its completion) in
their original order, so each process's order and the real-time order of what
is kept are the original ones, and every op keeps its original index (the
explanation quotes ops the user can find in the original file). Candidates are
judged by the checker itself: each is written as JSON Lines, read back with
`parse_history_text` and judged with `check`, exactly as `mvcc-check check`
would judge it on its own.

The search is Zeller and Hildebrandt's ddmin (delta debugging, TSE 2002): it
tries parts of the transaction set, then their complements, refining the
partition when neither shows the anomaly, and ends 1-minimal: removing any one
transaction that is left loses the anomaly. It starts from the transactions of
the checker's own example of the anomaly when those alone still show it (the
usual case, and a few checks instead of a few dozen; the smallest example that
does), else from the whole history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import orjson

from mvcc_check.analysis.checker import CheckOptions, Result, Verdict, check
from mvcc_check.errors import MvccCheckError
from mvcc_check.history.ops import Op
from mvcc_check.history.readers import History, parse_history_text
from mvcc_check.lab.shrink_run import PREFERRED  # which anomaly to keep: textbook ones first

Progress = Callable[[int, int], None]
"""Told (transactions in the current candidate, checks so far) after each check."""


@dataclass(frozen=True)
class ShrinkResult:
    """The smallest sub-history found and its verdict."""

    anomaly: str
    ops: list[Op]  # the sub-history, in original order
    result: Result  # the checker's verdict on it alone
    original_txns: int
    original_ops: int
    txns: int
    checks: int  # candidate sub-histories judged
    from_example: bool  # ddmin started from the checker's example
    seconds: float


def pick_anomaly(result: Result, wanted: str | None = None) -> str | None:
    """The anomaly to keep: `wanted` if the result shows it as forbidden, else the
    first forbidden one in PREFERRED's order (then by name); None if there is none."""
    if result.verdict is not Verdict.INVALID:
        return None
    shown = result.anomaly_types
    if wanted is not None:
        return wanted if wanted in shown else None
    ranked = sorted(shown, key=lambda a: (PREFERRED.index(a) if a in PREFERRED else 99, a))
    return ranked[0] if ranked else None


def transactions(ops: Sequence[Op]) -> list[tuple[int, ...]]:
    """Each transaction's op positions: an invocation and the completion that follows it
    on its process, or a lone op (a completion without invocation, an invocation that
    never completed). In order of each transaction's first op."""
    units: list[list[int]] = []
    pending: dict[object, int] = {}
    for i, op in enumerate(ops):
        if op.type == "invoke":
            pending[op.process] = len(units)  # an earlier open one stays a lone invocation
            units.append([i])
            continue
        u = pending.pop(op.process, None)
        if u is None:
            units.append([i])
        else:
            units[u].append(i)
    return [tuple(u) for u in units]


def op_line(op: Op) -> bytes:
    """The op as one JSON Lines record, index and time as recorded."""
    doc = op.to_json()
    if op.time is None:
        del doc["time"]
    return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS) + b"\n"


class Judge:
    """The test of delta debugging: does this set of transactions still show the anomaly?"""

    def __init__(
        self,
        history: History,
        options: CheckOptions,
        anomaly: str,
        progress: Progress | None = None,
        label: str | None = None,
    ) -> None:
        self.ops = history.ops
        self.source = label or f"{history.source} (sub-history)"
        self.units = transactions(history.ops)
        self.lines = [op_line(op) for op in history.ops]
        self.options = options
        self.anomaly = anomaly
        self.checks = 0
        self.progress = progress
        self.last: tuple[tuple[int, ...], Result] | None = None

    def positions(self, chosen: Sequence[int]) -> list[int]:
        return sorted(i for u in chosen for i in self.units[u])

    def verdict(self, chosen: Sequence[int]) -> Result | None:
        """The checker's verdict on the sub-history of `chosen` transactions (None if it
        cannot be read back, which never happens for whole transactions)."""
        data = b"".join(self.lines[i] for i in self.positions(chosen))
        self.checks += 1
        try:
            result = check(parse_history_text(data, self.source, "jsonl"), self.options)
        except MvccCheckError:
            return None
        finally:
            if self.progress is not None:
                self.progress(len(chosen), self.checks)
        return result

    def __call__(self, chosen: Sequence[int]) -> bool:
        result = self.verdict(chosen)
        shows = (
            result is not None
            and result.verdict is Verdict.INVALID
            and self.anomaly in result.anomaly_types
        )
        if shows:
            self.last = (tuple(chosen), result)
        return shows


def ddmin(items: list[int], test: Callable[[list[int]], bool]) -> list[int]:
    """A 1-minimal sublist of `items` for which `test` holds (it must hold for `items`)."""
    n = 2
    while len(items) >= 2:
        size = len(items)
        bounds = [size * k // n for k in range(n + 1)]
        chunks = [items[bounds[k] : bounds[k + 1]] for k in range(n)]
        reduced = next((c for c in chunks if c and test(c)), None)
        if reduced is not None:
            items, n = reduced, 2
            continue
        if n > 2:
            complement = None
            for k in range(n):
                rest = items[: bounds[k]] + items[bounds[k + 1] :]
                if test(rest):
                    complement = rest
                    break
            if complement is not None:
                items, n = complement, max(n - 1, 2)
                continue
        if n >= size:
            break
        n = min(size, 2 * n)
    return items


def example_transactions(judge: Judge, result: Result, limit: int = 50) -> list[list[int]]:
    """The transactions of the checker's examples of the anomaly (the first `limit`),
    smallest first."""
    where = {judge.ops[u[-1]].index: k for k, u in enumerate(judge.units)}
    where.update({judge.ops[u[0]].index: k for k, u in enumerate(judge.units)})
    out = []
    for item in (result.anomalies.get(judge.anomaly) or [])[:limit]:
        indices = _op_indices(item)
        chosen = sorted({where[i] for i in indices if i in where})
        if chosen:
            out.append(chosen)
    return sorted(out, key=len)


def _op_indices(item: object) -> list[int]:
    """Every op index an anomaly record quotes (its cycle's ops, or its op / txns)."""
    found: list[int] = []
    if isinstance(item, dict):
        if isinstance(item.get("index"), int) and "type" in item and "value" in item:
            found.append(item["index"])
        for v in item.values():
            found.extend(_op_indices(v))
    elif isinstance(item, list):
        for v in item:
            found.extend(_op_indices(v))
    return found


def shrink_history(
    history: History,
    options: CheckOptions,
    anomaly: str,
    original: Result,
    progress: Progress | None = None,
    label: str | None = None,
) -> ShrinkResult:
    """The smallest sub-history of `history` that still shows `anomaly` under `options`.

    `original` is the checker's verdict on the whole history, which must show it;
    `label` names the sub-history in its verdict (default: the source, "(sub-history)")."""
    started = time.perf_counter()
    if original.excluded_keys:  # a key the whole history could not judge stays out of every part
        options = replace(options, left_out_keys=tuple(r["key"] for r in original.excluded_keys))
    judge = Judge(history, options, anomaly, progress, label)
    everything = list(range(len(judge.units)))
    start, from_example = everything, False
    for chosen in example_transactions(judge, original):
        if judge(chosen):
            start, from_example = chosen, True
            break
    if not from_example and not judge(everything):
        raise MvccCheckError(
            f"{history.source}: the history written back as JSON Lines no longer shows "
            f"{anomaly}; this is a bug in mvcc-check"
        )
    kept = ddmin(start, judge)
    if judge.last is None or judge.last[0] != tuple(kept):
        judge(kept)
    assert judge.last is not None and judge.last[0] == tuple(kept)
    return ShrinkResult(
        anomaly=anomaly,
        ops=[judge.ops[i] for i in judge.positions(kept)],
        result=judge.last[1],
        original_txns=len(judge.units),
        original_ops=len(history.ops),
        txns=len(kept),
        checks=judge.checks,
        from_example=from_example,
        seconds=time.perf_counter() - started,
    )


def ops_jsonl(ops: Sequence[Op]) -> bytes:
    """A sub-history as JSON Lines, the format `check` reads back."""
    return b"".join(op_line(op) for op in ops)


def ops_json(ops: Sequence[Op]) -> bytes:
    """A sub-history as one JSON array of ops (elle-cli's format)."""
    docs = [orjson.loads(op_line(op)) for op in ops]
    return orjson.dumps(docs, option=orjson.OPT_NON_STR_KEYS) + b"\n"
