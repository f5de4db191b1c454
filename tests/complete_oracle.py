"""An exhaustive judge for small histories, independent of the checker: the
oracle of tests/test_complete_oracle.py.

It knows nothing of dependency graphs. For each choice of which indeterminate
transactions committed, it enumerates every order of the committed ones
(serializable family) or every commit order with every snapshot point per
transaction (snapshot-isolation family), keeps those the model's process or
real-time order allows, and asks whether one explains every read of the ok
transactions. The generator simulates a sloppy database (reads of stale or
unfinished state) so that valid and invalid histories both occur.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

import orjson

SERIAL = ("serializable", "repeatable-read", "strong-session-serializable", "strict-serializable")
SNAPSHOT = ("snapshot-isolation", "strong-session-snapshot-isolation", "strong-snapshot-isolation")
MODELS = SERIAL + SNAPSHOT


@dataclass
class Txn:
    process: int
    mops: list[list[Any]]  # as completed (reads with the values seen)
    status: str  # ok, fail, info
    invoked: int = 0  # event positions
    completed: int | None = None  # None: info (never completed)


# ---------------------------------------------------------------- generation


def generate(rng: random.Random, workload: str) -> list[Txn]:
    """A small random history: 2 to 5 transactions over keys x, y and z, on 1 to 3
    processes (sequential per process; an info transaction ends its process)."""
    n = rng.randint(2, 5)
    n_proc = rng.randint(1, min(3, n))
    keys = ["x", "y", "z"][: rng.randint(1, 3)]
    counter = itertools.count(1)
    txns: list[Txn] = []
    writes = rng.choice([0.5, 0.7])  # more writes: more of them no read orders
    shared = workload == "list-append" and rng.random() < 0.4
    for _ in range(n):
        mops: list[list[Any]] = []
        for _ in range(rng.randint(1, 3)):
            k = rng.choice(keys)
            if rng.random() < writes:
                mops.append(["append" if workload == "list-append" else "w", k, next(counter)])
            else:
                mops.append(["r", k, None])
        if shared and rng.random() < 0.8:  # blind appends to one key: orders no read fixes
            mops.insert(rng.randint(0, len(mops)), ["append", "z", next(counter)])
        status = rng.choices(["ok", "fail", "info"], [0.7, 0.15, 0.15])[0]
        txns.append(Txn(rng.randrange(n_proc), mops, status))
    # Per process, info only last: later txns of a process after an info move on.
    seen_info: set[int] = set()
    for t in txns:
        while t.process in seen_info:
            t.process += 10
        if t.status == "info":
            seen_info.add(t.process)
    _schedule(rng, txns)
    _fill_reads(rng, txns, workload)
    return txns


def _schedule(rng: random.Random, txns: list[Txn]) -> None:
    """Invocation and completion positions: each process runs its txns in turn, the
    processes interleave at random."""
    by_proc: dict[int, list[Txn]] = {}
    for t in txns:
        by_proc.setdefault(t.process, []).append(t)
    queues = {p: [(t, e) for t in ts for e in ("inv", "cmp")] for p, ts in by_proc.items()}
    pos = 0
    while any(queues.values()):
        p = rng.choice([p for p, q in queues.items() if q])
        t, e = queues[p].pop(0)
        if e == "inv":
            t.invoked = pos
        elif t.status != "info":
            t.completed = pos
        pos += 1


def _fill_reads(rng: random.Random, txns: list[Txn], workload: str) -> None:
    """Reads see a state a sloppy database might show: the writes of a random subset
    of the txns (fail and info ones included, now and then), in commit order, then
    the txn's own; and once in a while a value nobody wrote."""
    order = sorted(txns, key=lambda t: t.completed if t.completed is not None else 1e9)
    seen = rng.choice([0.3, 0.6])
    for t in txns:
        if t.status != "ok":
            continue
        visible = [u for u in order if u is not t and rng.random() < seen]
        visible = [u for u in visible if u.status == "ok" or rng.random() < 0.3]
        state = _apply({}, visible, workload)
        own: dict[str, Any] = {}
        for m in t.mops:
            f, k, v = m
            if f == "r":
                cur = own.get(k, state.get(k, [] if workload == "list-append" else None))
                if rng.random() < 0.05:
                    cur = [*cur, 99] if workload == "list-append" else 99
                m[2] = list(cur) if workload == "list-append" else cur
            elif f == "append":
                own[k] = [*own.get(k, state.get(k, [])), v]
            else:
                own[k] = v


def _apply(state: dict[str, Any], txns: list[Txn], workload: str) -> dict[str, Any]:
    out = dict(state)
    for u in txns:
        for f, k, v in u.mops:
            if f == "append":
                out[k] = [*out.get(k, []), v]
            elif f == "w":
                out[k] = v
    return out


def to_jsonl(txns: list[Txn]) -> str:
    events = []
    for t in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in t.mops]
        events.append(
            (t.invoked, {"type": "invoke", "process": t.process, "f": "txn", "value": inv})
        )
        if t.completed is not None:
            value = t.mops if t.status == "ok" else inv
            events.append(
                (t.completed, {"type": t.status, "process": t.process, "f": "txn", "value": value})
            )
        else:
            events.append(
                (10_000, {"type": "info", "process": t.process, "f": "txn", "value": inv})
            )
    events.sort(key=lambda e: e[0])
    lines = []
    for i, (_, op) in enumerate(events):
        lines.append(orjson.dumps({**op, "index": i}).decode())
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- judging


def _reads_ok(t: Txn, state: dict[str, Any], workload: str, external_only: bool) -> bool:
    """Whether t's reads are what it sees from `state` and its own writes."""
    empty: Any = [] if workload == "list-append" else None
    own: dict[str, Any] = {}
    touched: set[str] = set()
    for f, k, v in t.mops:
        if f == "r":
            checked = not (external_only and k in touched)
            if checked and own.get(k, state.get(k, empty)) != v:
                return False
            if k not in own:
                own[k] = state.get(k, empty)  # what it saw stays (repeatable within a txn)
        elif f == "append":
            own[k] = [*own.get(k, state.get(k, [])), v]
        else:
            own[k] = v
        touched.add(k)
    return True


def _before(a: Txn, b: Txn, model: str) -> bool:
    """Must committed a precede b (in order, and for snapshots: in b's snapshot)?"""
    if model.startswith("strict") or model == "strong-snapshot-isolation":
        return a.completed is not None and a.completed < b.invoked
    if model.startswith("strong-session"):
        return a.process == b.process and a.completed is not None and a.completed < b.invoked
    return False


def _writes(t: Txn) -> set[str]:
    return {k for f, k, _ in t.mops if f != "r"}


def _serial_ok(committed: list[Txn], workload: str, model: str) -> bool:
    external = model == "repeatable-read"  # no "internal" anomaly in the code's repeatable-read
    for perm in itertools.permutations(committed):
        if any(_before(b, a, model) for i, a in enumerate(perm) for b in perm[i + 1 :]):
            continue
        state: dict[str, Any] = {}
        good = True
        for t in perm:
            if t.status == "ok" and not _reads_ok(t, state, workload, external):
                good = False
                break
            state = _apply(state, [t], workload)
        if good:
            return True
    return False


def _snapshot_ok(committed: list[Txn], workload: str, model: str) -> bool:
    for perm in itertools.permutations(committed):
        if any(_before(b, a, model) for i, a in enumerate(perm) for b in perm[i + 1 :]):
            continue
        # states[i]: after the first i commits
        states = [{}]
        for t in perm:
            states.append(_apply(states[-1], [t], workload))
        choices = []
        for j, t in enumerate(perm):
            # snapshot s: the first s commits are visible (s <= j)
            lo = 0
            for i in range(j):
                if _before(perm[i], t, model) or (_writes(perm[i]) & _writes(t)):
                    lo = max(lo, i + 1)  # in its snapshot (first committer wins)
            options = [
                s
                for s in range(lo, j + 1)
                if t.status != "ok" or _reads_ok(t, states[s], workload, False)
            ]
            if not options:
                break
            choices.append(options)
        else:
            return True
    return False


def judge(txns: list[Txn], workload: str, model: str) -> bool:
    """Is the history valid under the model (some commit choice of the info txns
    and some order explains it)?"""
    ok = [t for t in txns if t.status == "ok"]
    info = [t for t in txns if t.status == "info"]
    serial = model in SERIAL
    for mask in range(1 << len(info)):
        committed = ok + [t for i, t in enumerate(info) if mask >> i & 1]
        committed.sort(key=lambda t: t.invoked)
        if (_serial_ok if serial else _snapshot_ok)(committed, workload, model):
            return True
    return False


# ---------------------------------------------------------------- known gaps


def info_write_observed(txns: list[Txn]) -> bool:
    """Class A of issue 10 (another branch's work): an ok read shows a value an info
    transaction wrote, which proves it committed, with all its writes."""
    written = {(k, v) for t in txns if t.status == "info" for f, k, v in t.mops if f != "r"}
    for t in txns:
        if t.status != "ok":
            continue
        for f, k, v in t.mops:
            if f == "r" and v is not None:
                seen = v if isinstance(v, list) else [v]
                if any((k, x) in written for x in seen):
                    return True
    return False


def garbage_read(txns: list[Txn]) -> bool:
    """Class D of issue 10 (another branch's work): an ok read shows a value that no
    transaction wrote."""
    written = {(k, v) for t in txns for f, k, v in t.mops if f != "r"}
    for t in txns:
        if t.status != "ok":
            continue
        for f, k, v in t.mops:
            if f == "r" and v is not None:
                seen = v if isinstance(v, list) else [v]
                if any((k, x) not in written for x in seen):
                    return True
    return False
