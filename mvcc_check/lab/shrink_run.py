"""Shrink an anomalous engine run to a small one that still shows the anomaly.

Delta debugging over the run's ingredients, each candidate judged by really
running the engine and the checker (the same black-box verdict as `check`):

1. the shortest prefix of the transaction list that still shows the anomaly
   (binary search), then ddmin over the transactions left;
2. the fewest sessions (clients), trying a handful of scheduler seeds for each;
3. dropping single micro-ops, and voluntary rollbacks the anomaly does not
   need (rollbacks are per-transaction flags, so they survive the removal of
   other transactions); steps 1-3 repeat while they make progress, and when
   they stop at a handful of transactions, every pair and triple of them is
   tried on two or three sessions (also with one of them rolling back);
4. keys and values renamed to small numbers in order of appearance;
5. the schedule made explicit (the scheduler's picks), then simplified: the
   shortest prefix of picks that still shows it (after them, sessions run one
   at a time), and picks set to "first runnable session" where possible.

Every step keeps a candidate only if the anomaly type is still reported, so
the result is always a real, reproducible run: `Shrunk.trial`,
`Shrunk.txns`, `Shrunk.rollbacks` and `Shrunk.choices` replay it.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mvcc_check.analysis.anomalies import TEXTBOOK_ORDER
from mvcc_check.analysis.checker import Result
from mvcc_check.engine.scheduler import RunResult, run_engine
from mvcc_check.history.ops import CLOSED_PREDICATE
from mvcc_check.lab.engine_runs import Trial, check_ops

Txns = list[list[list[Any]]]
Item = tuple[list[list[Any]], bool]  # a transaction and whether it rolls back

# Which anomaly to keep when a run shows several: the textbook ones first.
PREFERRED = TEXTBOOK_ORDER


def pick_target(anomaly_types: Sequence[str]) -> str | None:
    for a in PREFERRED:
        if a in anomaly_types:
            return a
    return anomaly_types[0] if anomaly_types else None


@dataclass(frozen=True)
class Shrunk:
    """A small run that still shows `anomaly`, with its trace and verdict."""

    anomaly: str
    model: str
    trial: Trial  # level, bug, spec (clients, seed) of the small run
    txns: Txns
    rollbacks: frozenset[int]  # positions in txns that roll back
    choices: list[int] | None  # the scheduler's picks (None: from the seed)
    run: RunResult  # traced
    result: Result
    checks: int  # candidate runs tried
    original_txns: int
    seconds: float


class _Budget(Exception):  # noqa: N818 - control flow
    pass


def _run(
    tr: Trial, items: Sequence[Item], trace: bool = False, choices: Sequence[int] | None = None
) -> RunResult:
    return run_engine(
        tr.level,
        tr.spec,
        txns=[m for m, _ in items],
        bugs=(tr.bug,) if tr.bug else (),
        crash_rate=tr.crash_rate,
        rollbacks=frozenset(i for i, (_, rb) in enumerate(items) if rb),
        trace=trace,
        choices=choices,
    )


def shrink(
    trial: Trial,
    run: RunResult,
    model: str,
    anomaly: str,
    max_checks: int = 20000,
    max_seconds: float = 60.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> Shrunk:
    """Shrink `run` (a run of `trial`) that shows `anomaly` against `model`.

    The run's voluntary rollbacks become per-transaction flags, so they
    survive the removal of other transactions. Raises ValueError if the
    starting point does not show the anomaly.
    """
    t0 = time.perf_counter()
    checks = 0
    limit = {"checks": max_checks, "seconds": max_seconds}
    rolled = set(run.rolled_back)
    items0: list[Item] = [(m, i in rolled) for i, m in enumerate(run.txns)]
    state: dict[str, Any] = {"trial": trial, "items": items0, "choices": None}

    def shows(tr: Trial, cand: list[Item], choices: list[int] | None = None) -> bool:
        nonlocal checks
        if checks >= limit["checks"] or time.perf_counter() - t0 > limit["seconds"]:
            raise _Budget
        checks += 1
        r = _run(tr, cand, choices=choices)
        result = check_ops(r.ops, model, tr.spec.workload)
        ok = anomaly in result.anomaly_types
        if ok:
            state["trial"], state["items"], state["choices"] = tr, cand, choices
            if on_progress is not None:
                on_progress(checks, len(cand))
        return ok

    if not shows(trial, items0):
        raise ValueError(f"the run does not show {anomaly} under {model}")
    try:
        _prefix(shows, state)
        while True:
            before = (len(state["items"]), state["trial"].spec.clients, _size(state["items"]))
            _ddmin(shows, state)
            _fewer_clients(shows, state)
            _drop_mops(shows, state)
            after = (len(state["items"]), state["trial"].spec.clients, _size(state["items"]))
            if after == before and not _small_subsets(shows, state):
                break
    except _Budget:
        pass
    # The finishing touches get a small budget of their own, used up or not.
    limit["checks"] = checks + 400
    limit["seconds"] = time.perf_counter() - t0 + 10.0
    try:
        if state["trial"].spec.workload != CLOSED_PREDICATE:  # its keys are in maps too
            _rename(shows, state)
        _simplify_schedule(shows, state)
    except _Budget:
        pass
    tr, items, choices = state["trial"], state["items"], state["choices"]
    final = _run(tr, items, trace=True, choices=choices)
    result = check_ops(final.ops, model, tr.spec.workload, source="<shrunk engine run>")
    return Shrunk(
        anomaly=anomaly,
        model=model,
        trial=tr,
        txns=[m for m, _ in items],
        rollbacks=frozenset(i for i, (_, rb) in enumerate(items) if rb),
        choices=choices,
        run=final,
        result=result,
        checks=checks,
        original_txns=len(run.txns),
        seconds=time.perf_counter() - t0,
    )


def _size(items: Sequence[Item]) -> int:
    return sum(len(m) + rb for m, rb in items)


Shows = Callable[[Trial, list[Item]], bool]


def _prefix(shows: Shows, state: dict[str, Any]) -> None:
    tr, items = state["trial"], state["items"]
    lo, hi = 1, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if shows(tr, items[:mid]):
            hi = mid
        else:
            lo = mid + 1


def _ddmin(shows: Shows, state: dict[str, Any]) -> None:
    """Remove chunks of transactions while the anomaly persists (Zeller's ddmin, complements)."""
    n = 2
    while len(state["items"]) >= 2:
        items = state["items"]
        size = -(-len(items) // n)
        reduced = False
        for start in range(0, len(items), size):
            cand = items[:start] + items[start + size :]
            if cand and shows(state["trial"], cand):
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if n >= len(items):
                return
            n = min(len(items), 2 * n)


def _fewer_clients(shows: Shows, state: dict[str, Any]) -> None:
    """Fewer sessions, trying scheduler seeds for each (more when the run is already small)."""
    tr = state["trial"]
    tries = 64 if len(state["items"]) <= 6 else 16
    for clients in range(2, tr.spec.clients):
        for seed in [tr.spec.seed, *range(tries)]:
            spec = dataclasses.replace(tr.spec, clients=clients, seed=seed)
            if shows(dataclasses.replace(tr, spec=spec), state["items"]):
                return


def _small_subsets(shows: Shows, state: dict[str, Any], seeds: int = 32) -> bool:
    """When stuck at a handful of transactions: try every pair (then triple) on 2 sessions."""
    items, tr = state["items"], state["trial"]
    if len(items) > 8:
        return False
    # First as they are, then with one of them rolling back (an aborted writer is
    # what G1a needs, and a rollback is a smaller cause than a deadlock).
    for with_rollback in (False, True):
        for k in range(2, min(3, len(items) - 1) + 1):
            for combo in itertools.combinations(range(len(items)), k):
                base = [items[i] for i in combo]
                if with_rollback:
                    variants = [
                        [(m, rb or j == flip) for j, (m, rb) in enumerate(base)]
                        for flip in range(k)
                        if not base[flip][1]
                    ]
                else:
                    variants = [base]
                for cand in variants:
                    for clients in range(2, k + 1):
                        for seed in range(seeds):
                            spec = dataclasses.replace(tr.spec, clients=clients, seed=seed)
                            if shows(dataclasses.replace(tr, spec=spec), cand):
                                return True
    return False


def _drop_mops(shows: Shows, state: dict[str, Any]) -> None:
    """Drop single micro-ops, and rollbacks the anomaly does not need."""
    i = 0
    while i < len(state["items"]):
        j = len(state["items"][i][0]) - 1
        while j >= 0 and len(state["items"][i][0]) > 1:
            items = state["items"]
            m, rb = items[i]
            shows(state["trial"], [*items[:i], (m[:j] + m[j + 1 :], rb), *items[i + 1 :]])
            j -= 1
        items = state["items"]
        if items[i][1]:
            shows(state["trial"], [*items[:i], (items[i][0], False), *items[i + 1 :]])
        i += 1


def _simplify_schedule(shows: Callable[..., bool], state: dict[str, Any]) -> None:
    """Fewer context switches: the shortest prefix of explicit picks, then picks set to 0.

    After the explicit picks run out the scheduler always runs the first runnable
    client, so a short prefix means the rest runs one session at a time.
    """
    tr, items = state["trial"], state["items"]
    picks = _run(tr, items).schedule
    if not shows(tr, items, list(picks)):
        return
    lo, hi = 0, len(picks)
    while lo < hi:
        mid = (lo + hi) // 2
        if shows(tr, items, picks[:mid]):
            hi = mid
        else:
            lo = mid + 1
    best = list(state["choices"])
    for i in range(len(best)):
        if best[i]:
            cand = best[:i] + [0] + best[i + 1 :]
            if shows(tr, items, cand):
                best = cand
    while best and best[-1] == 0:
        best.pop()
    if best != state["choices"]:
        shows(tr, items, best)


def _rename(shows: Shows, state: dict[str, Any]) -> None:
    """Keys 1, 2, ... and values 1, 2, ... per key, in order of appearance (a bijection)."""
    keys: dict[Any, int] = {}
    values: dict[tuple[Any, Any], int] = {}
    per_key: dict[int, int] = {}
    out: list[Item] = []
    for txn, rb in state["items"]:
        new = []
        for f, k, v in txn:
            nk = keys.setdefault(k, len(keys) + 1)
            if f != "r":
                if (k, v) not in values:
                    per_key[nk] = per_key.get(nk, 0) + 1
                    values[(k, v)] = per_key[nk]
                v = values[(k, v)]
            new.append([f, nk, v])
        out.append((new, rb))
    if out != state["items"]:
        shows(state["trial"], out)
