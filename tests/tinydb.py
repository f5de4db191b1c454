"""A tiny database and the histories it produces, for the property tests: plans of
transactions, a serial or concurrent execution that records them, and the same
execution on a database that misbehaves (faulty, or reading a stale snapshot)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
from histgen import check_text
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

WORKLOADS = ("list-append", "rw-register")
FAULTS = st.sampled_from([True, "snapshot"])  # the two misbehaving databases
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- a tiny database and the histories it produces ------------------------------


@dataclass
class Planned:
    """A transaction to run: (kind, key) micro-ops and how it ends."""

    mops: list[tuple[str, Any]]
    outcome: str = "ok"  # ok, fail, info
    info_applies: bool = False


@dataclass
class Db:
    """Dict of lists (list-append) or of registers; `faulty` misbehaves (see concurrent_history)."""

    workload: str
    rng: random.Random
    faulty: bool | str = False
    state: dict[Any, Any] = field(default_factory=dict)
    versions: dict[Any, list[Any]] = field(default_factory=dict)  # every version of each key
    counter: dict[Any, int] = field(default_factory=dict)
    snapshots: list[dict[Any, Any]] = field(default_factory=lambda: [{}])  # every committed state

    def snapshot(self) -> dict[Any, Any]:
        """The current state, or now and then an older one (a stale snapshot)."""
        if self.rng.random() < 0.3:
            return self.rng.choice(self.snapshots)
        return dict(self.state)

    def apply_snapshot(self, mops: list[list[Any]], snap: dict[Any, Any]) -> list[list[Any]]:
        """Snapshot isolation without first-committer-wins: reads from the snapshot
        (and the transaction's own writes), writes on top of the current state."""
        la = self.workload == "list-append"
        view = dict(snap)
        done = []
        for f, k, v in mops:
            if f == "r":
                seen = view.get(k, [] if la else None)
                done.append(["r", k, list(seen) if la else seen])
            else:
                view[k] = [*view.get(k, []), v] if la else v
                self.state[k] = [*self.state.get(k, []), v] if la else v
                done.append([f, k, v])
        self.snapshots.append(dict(self.state))
        return done

    def fresh(self, k: Any) -> int:
        self.counter[k] = self.counter.get(k, 0) + 1
        return self.counter[k]

    def plan_values(self, p: Planned) -> list[list[Any]]:
        """Micro-ops with write values chosen (unique per key) and reads unset."""
        out = []
        for kind, k in p.mops:
            if kind == "r":
                out.append(["r", k, None])
            else:
                out.append(["append" if self.workload == "list-append" else "w", k, self.fresh(k)])
        return out

    def apply(self, mops: list[list[Any]], own: dict[Any, Any] | None = None) -> list[list[Any]]:
        """Run micro-ops now; `own` carries a transaction's writes across partial applies."""
        done = []
        own = {} if own is None else own
        for f, k, v in mops:
            if f == "r":
                if self.faulty and k not in own and self.rng.random() < 0.5:
                    vs = self.versions.get(k, [])
                    cur = self.rng.choice([None, *vs]) if vs else None
                    seen = [] if cur is None and self.workload == "list-append" else cur
                else:
                    seen = self.state.get(k, [] if self.workload == "list-append" else None)
                done.append(["r", k, list(seen) if isinstance(seen, list) else seen])
            else:
                new = [*self.state.get(k, []), v] if self.workload == "list-append" else v
                self.state[k] = new
                self.versions.setdefault(k, []).append(new)
                own[k] = new
                done.append([f, k, v])
        return done


@st.composite
def plans(draw, keys=(0, 1, 2), max_txns=10, outcomes=("ok",) * 6 + ("fail", "info")):
    n = draw(st.integers(1, max_txns))
    out = []
    for _ in range(n):
        mops = draw(
            st.lists(
                st.tuples(st.sampled_from(["r", "w"]), st.sampled_from(keys)),
                min_size=1,
                max_size=4,
            )
        )
        out.append(Planned(mops, draw(st.sampled_from(outcomes)), draw(st.booleans())))
    return out


class Recorder:
    """Ops with processes: a process retires after an info (as in Jepsen)."""

    def __init__(self, slots: int) -> None:
        self.ops: list[dict[str, Any]] = []
        self.proc = list(range(slots))
        self.next_proc = slots

    def emit(self, typ: str, slot: int, value: list[list[Any]]) -> None:
        self.ops.append(
            {
                "index": len(self.ops),
                "type": typ,
                "process": self.proc[slot],
                "f": "txn",
                "value": value,
            }
        )
        if typ == "info":
            self.proc[slot] = self.next_proc
            self.next_proc += 1

    def text(self) -> str:
        return "\n".join(orjson.dumps(op).decode() for op in self.ops) + "\n"


def run(db: Db, rec: Recorder, slot: int, p: Planned, state: dict) -> str:
    """One step of a transaction's life; returns 'invoked', 'applied' or 'done'."""
    if "mops" not in state:
        state["mops"] = db.plan_values(p)
        if db.faulty == "snapshot":
            state["snap"] = db.snapshot()
        rec.emit("invoke", slot, [[f, k, None if f == "r" else v] for f, k, v in state["mops"]])
        return "invoked"
    if "result" not in state:
        takes_effect = p.outcome == "ok" or (p.outcome == "info" and p.info_applies)
        if db.faulty == "snapshot":
            state["result"] = (
                db.apply_snapshot(state["mops"], state["snap"]) if takes_effect else None
            )
        elif db.faulty:
            # No isolation: one micro-op per step, interleaved with other transactions;
            # reads may see stale versions; some failed transactions' writes stay visible.
            if not takes_effect and "leaks" not in state:
                state["leaks"] = p.outcome == "fail" and db.rng.random() < 0.2
            pos = state.setdefault("pos", 0)
            done = state.setdefault("done", [])
            if takes_effect or state["leaks"]:
                done += db.apply(state["mops"][pos : pos + 1], state.setdefault("own", {}))
            state["pos"] = pos + 1
            if state["pos"] < len(state["mops"]):
                return "applying"
            state["result"] = done if takes_effect else None
        else:
            state["result"] = db.apply(state["mops"]) if takes_effect else None
        return "applied"
    if p.outcome == "ok":
        rec.emit("ok", slot, state["result"])
    elif p.outcome == "fail":
        rec.emit("fail", slot, [[f, k, None if f == "r" else v] for f, k, v in state["mops"]])
    else:
        rec.emit("info", slot, [[f, k, None if f == "r" else v] for f, k, v in state["mops"]])
    return "done"


def serial_history(workload: str, txns: list[Planned], procs: list[int]) -> str:
    db = Db(workload, random.Random(0))
    rec = Recorder(max(procs) + 1)
    for p, slot in zip(txns, procs, strict=False):
        state: dict = {}
        while run(db, rec, slot, p, state) != "done":
            pass
    return rec.text()


def concurrent_history(
    workload: str, txns: list[Planned], slots: int, seed: int, faulty: bool | str = False
) -> str:
    """Each slot runs its share of txns one at a time; a random scheduler interleaves
    invocations, the moments transactions take effect, and completions.

    faulty=True: no isolation (micro-ops interleave, stale reads, leaked aborts);
    faulty="snapshot": snapshot isolation without first-committer-wins, on
    snapshots that are now and then stale."""
    rng = random.Random(seed)
    db = Db(workload, rng, faulty=faulty)
    rec = Recorder(slots)
    queues: list[list[Planned]] = [[] for _ in range(slots)]
    for p in txns:
        queues[rng.randrange(slots) if slots > 1 else 0].append(p)
    current: list[tuple[Planned, dict] | None] = [None] * slots
    while any(queues) or any(current):
        slot = rng.choice([s for s in range(slots) if queues[s] or current[s]])
        if current[slot] is None:
            current[slot] = (queues[slot].pop(0), {})
        p, state = current[slot]
        if run(db, rec, slot, p, state) == "done":
            current[slot] = None
    return rec.text()


REGISTER_SOURCES = ({}, {"wfr_keys": True}, {"sequential_keys": True}, {"linearizable_keys": True})


def verdict_is_valid(text: str, *model_names: str, **options: Any) -> None:
    r = check_text(text, *model_names, **options)
    if r.valid == "unknown":
        assert r.anomaly_types == ["empty-transaction-graph"], r.anomaly_types
    else:
        assert r.valid is True, (r.anomaly_types, text)


def dumps(x: Any) -> bytes:
    """JSON text of any value, big integers included (orjson refuses those)."""
    return json.dumps(x).encode()


def to_edn(x: Any) -> str:
    if x is None:
        return "nil"
    if x is True:
        return "true"
    if x is False:
        return "false"
    if isinstance(x, int | float):
        return repr(x)
    if isinstance(x, str):
        if x in ("invoke", "ok", "fail", "info", "append", "r", "w", "txn") or (
            x.isidentifier() and x
        ):
            return ":" + x
        return json.dumps(x)
    if isinstance(x, list):
        return "[" + " ".join(to_edn(e) for e in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{to_edn(k)} {to_edn(v)}" for k, v in x.items()) + "}"
    raise TypeError(x)
