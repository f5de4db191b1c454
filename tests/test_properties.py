"""Property tests for the checker (hypothesis).

- Histories produced by a serial execution, or by a concurrent one whose
  results come from a serial order that respects real time, are valid.
- A known mutation, planted on fresh keys next to a random valid history,
  yields exactly the anomaly it creates.
- Malformed input only ever raises the clean input error.
- Every cycle reported on histories from a faulty database is a real cycle of
  the type it claims, and no *-cycle-exists fallback is ever needed.
- Differential checks: the exact and exhaustive cycle searches agree, the
  forked two-process search agrees with one process, JSON Lines / JSON / EDN
  agree, and verdicts are monotone in the model hierarchy.

Each test runs in a second or two; the file in about 25 s.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from histgen import check_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.analysis import models
from mvcc_check.errors import MvccCheckError
from mvcc_check.report import render_text

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


@FAST
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(),
    procs=st.lists(st.integers(0, 3), min_size=10, max_size=10),
)
def test_serial_execution_is_strict_serializable(workload, txns, procs):
    text = serial_history(workload, txns, procs)
    verdict_is_valid(text, "strict-serializable")
    verdict_is_valid(text, "strong-session-serializable")
    if workload == "rw-register":
        # A serial execution satisfies every version-order assumption Elle offers.
        for sources in REGISTER_SOURCES[1:]:
            verdict_is_valid(text, "strict-serializable", **sources)


@FAST
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=14),
    slots=st.integers(1, 4),
    seed=st.integers(0, 2**32),
)
def test_concurrent_serializable_execution_is_valid(workload, txns, slots, seed):
    text = concurrent_history(workload, txns, slots, seed)
    verdict_is_valid(text, "serializable")
    # The serial order is each transaction's moment of effect, inside its
    # invocation-completion interval: it respects real time too.
    verdict_is_valid(text, "strict-serializable")
    if workload == "rw-register":
        # Writes after reads follow them, each process sees versions in order,
        # and each key is linearizable: every version source holds.
        for sources in REGISTER_SOURCES[1:]:
            verdict_is_valid(text, "strict-serializable", **sources)


def test_generators_do_overlap_transactions():
    """Guard against a scheduler that never interleaves (the property would be vacuous)."""
    txns = [Planned([("w", 0), ("r", 1)]) for _ in range(12)]
    text = concurrent_history("list-append", txns, 3, seed=7)
    open_count = 0
    max_open = 0
    for line in text.splitlines():
        op = orjson.loads(line)
        open_count += 1 if op["type"] == "invoke" else -1
        max_open = max(max_open, open_count)
    assert max_open >= 2


# -- mutations planted next to a random valid background -------------------------
#
# The background is a serial execution over keys 0..2; the mutation uses its own
# keys ("g", "h"), so the two share no data edges. Background data and realtime
# edges all point forward in time, so every cycle must use one of the
# mutation's own backward edges: the expected anomaly types are exact.


@st.composite
def background(draw, workload):
    txns = draw(plans(max_txns=8))
    procs = draw(st.lists(st.integers(0, 3), min_size=8, max_size=8))
    return serial_history(workload, txns, procs)


def mix(background_text: str, gadget: list[dict[str, Any]], cuts: list[int]) -> str:
    """Interleave the gadget's ops (in order) into the background at sorted cut points."""
    bg = [orjson.loads(line) for line in background_text.splitlines()]
    # Cut only between background transactions so background stays serial.
    boundaries = [i + 1 for i, op in enumerate(bg) if op["type"] != "invoke"]
    boundaries = [0, *boundaries]
    where = sorted(boundaries[c % len(boundaries)] for c in cuts[: len(gadget)])
    out: list[dict[str, Any]] = []
    gi = 0
    for i in range(len(bg) + 1):
        while gi < len(gadget) and where[gi] == i:
            out.append(dict(gadget[gi]))
            gi += 1
        if i < len(bg):
            out.append(bg[i])
    for i, op in enumerate(out):
        op["index"] = i
    return "\n".join(orjson.dumps(op).decode() for op in out) + "\n"


def G(typ: str, process: int, *mops: list[Any]) -> dict[str, Any]:  # noqa: N802 - a gadget op
    return {"type": typ, "process": 1000 + process, "f": "txn", "value": [list(m) for m in mops]}


def pair(process: int, *mops: list[Any], outcome: str = "ok") -> list[dict[str, Any]]:
    inv = [[f, k, None if f == "r" else v] for f, k, v in mops]
    done = list(mops) if outcome == "ok" else inv
    return [G("invoke", process, *inv), G(outcome, process, *done)]


cuts = st.lists(st.integers(0, 10_000), min_size=12, max_size=12)


@FAST
@given(bg=background("list-append"), cut=cuts)
def test_stale_read_is_g_single_item_realtime(bg, cut):
    gadget = [
        *pair(1, ["append", "g", 1]),
        *pair(2, ["append", "g", 2]),
        *pair(3, ["r", "g", [1]]),  # invoked after the append of 2 completed: stale
        *pair(4, ["r", "g", [1, 2]]),
    ]
    text = mix(bg, gadget, cut)
    r = check_text(text, "strict-serializable")
    assert r.anomaly_types == ["G-single-item-realtime"]
    steps = [s["type"] for s in r.anomalies["G-single-item-realtime"][0]["steps"]]
    assert steps.count("rw") == 1 and "realtime" in steps
    assert check_text(text, "serializable").valid is True


@FAST
@given(bg=background("rw-register"), cut=cuts)
def test_stale_register_read_is_cyclic_versions_under_linearizable_keys(bg, cut):
    # Real time orders 1 < 2 (the writes) and 2 < 1 (the later read of 1).
    gadget = [*pair(1, ["w", "g", 1]), *pair(2, ["w", "g", 2]), *pair(3, ["r", "g", 1])]
    text = mix(bg, gadget, cut)
    r = check_text(text, "strict-serializable", linearizable_keys=True)
    assert r.anomaly_types == ["cyclic-versions"]
    assert r.anomalies["cyclic-versions"] == [{"key": "g", "scc": [1, 2]}]
    # Without a version source Elle's inference does not see a register's stale read;
    assert check_text(text, "strict-serializable", complete=False).valid is True
    # the complete search does: in real time either order of the writes fails.
    r = check_text(text, "strict-serializable")
    assert r.valid is False
    assert all(x.get("complete-search") for k in r.anomaly_types for x in r.anomalies[k])


@FAST
@given(workload=st.sampled_from(WORKLOADS), cut=cuts, data=st.data())
def test_aborted_write_made_visible_is_g1a(workload, cut, data):
    bg = data.draw(background(workload))
    if workload == "list-append":
        write, read = ["append", "g", 1], ["r", "g", [1]]
        after = ["r", "h", []]
    else:
        write, read = ["w", "g", 1], ["r", "g", 1]
        after = ["r", "h", None]
    gadget = [*pair(1, write, outcome="fail"), *pair(2, read), *pair(3, after)]
    text = mix(bg, gadget, cut)
    r = check_text(text, "strict-serializable")
    assert r.anomaly_types == ["G1a"]
    (g1a,) = r.anomalies["G1a"]
    assert g1a["writer"]["type"] == "fail" and g1a["element"] == 1


@FAST
@given(workload=st.sampled_from(WORKLOADS), cut=cuts, data=st.data())
def test_intermediate_read_is_g1b(workload, cut, data):
    bg = data.draw(background(workload))
    if workload == "list-append":
        gadget = [*pair(1, ["append", "g", 1], ["append", "g", 2]), *pair(2, ["r", "g", [1]])]
        # The read also misses the writer's second append: rw back to the writer (as in Elle).
        expected = ["G-single-item", "G1b"]
    else:
        gadget = [*pair(1, ["w", "g", 1], ["w", "g", 2]), *pair(2, ["r", "g", 1])]
        expected = ["G1b"]  # no version order between 1 and 2 is known: no rw edge
    text = mix(bg, gadget, cut)
    r = check_text(text, "strict-serializable")
    assert r.anomaly_types == expected
    (g1b,) = r.anomalies["G1b"]
    assert g1b["element"] == 1


@FAST
@given(workload=st.sampled_from(WORKLOADS), observed=st.booleans(), cut=cuts, data=st.data())
def test_two_readers_of_one_version_both_appending_is_lost_update(workload, observed, cut, data):
    bg = data.draw(background(workload))
    if workload == "list-append":
        base, r0, w1, w2 = (
            ["append", "g", 0],
            ["r", "g", [0]],
            ["append", "g", 1],
            ["append", "g", 2],
        )
        final = ["r", "g", [0, 1, 2]]
    else:
        base, r0, w1, w2 = ["w", "g", 0], ["r", "g", 0], ["w", "g", 1], ["w", "g", 2]
        final = ["r", "g", 2]
    inv = lambda *m: [[f, k, None if f == "r" else v] for f, k, v in m]  # noqa: E731
    gadget = [
        *pair(1, base),
        G("invoke", 2, *inv(r0, w1)),
        G("invoke", 3, *inv(r0, w2)),  # both read 0 while the other is running
        G("ok", 2, r0, w1),
        G("ok", 3, r0, w2),
    ]
    if observed:
        gadget += pair(4, final)
    text = mix(bg, gadget, cut)
    opts: dict[str, Any] = {"wfr_keys": True} if workload == "rw-register" else {}
    r = check_text(text, "serializable", **opts)
    (lu,) = r.anomalies["lost-update"]
    assert lu["key"] == "g" and len(lu["txns"]) == 2
    if workload == "list-append" and observed:
        # The read [0 1 2] orders 1 before 2: ww 1 -> 2 and rw 2's writer -> 1's writer.
        assert r.anomaly_types == ["G-single-item", "lost-update"]
    else:
        # Both appends follow 0 in an unknown order: each reader anti-depends on the other.
        assert r.anomaly_types == ["G2-item", "lost-update"]
        steps = [s["type"] for s in r.anomalies["G2-item"][0]["steps"]]
        assert steps == ["rw", "rw"]


# -- malformed input -------------------------------------------------------------


def dumps(x: Any) -> bytes:
    """JSON text of any value, big integers included (orjson refuses those)."""
    return json.dumps(x).encode()


def must_be_clean(data: bytes | str, fmt: str | None) -> None:
    try:
        history = parse_history_text(data, source="fuzz.txt", format=fmt)
        for opts in (
            CheckOptions(models=("strict-serializable",)),
            CheckOptions(models=("read-committed",)),
        ):
            check(history, opts)
    except MvccCheckError as e:
        text = str(e)
        assert "\n" not in text.strip(), text
        assert text.startswith("fuzz.txt"), text


def test_regressions_found_by_fuzzing():
    # An unhashable op type or micro-op kind raised TypeError (set membership).
    must_be_clean(b'[{"type": []}]', "json")
    must_be_clean(b'{"type": "ok", "process": 0, "value": [[["r"], "x", 1]]}', "jsonl")
    must_be_clean("{:type :ok, :process 0, :value [[{:a 1} :x 1]]}", "edn")
    # The EDN one-op-per-line fast path raised ValueError on a map with an odd number of forms.
    must_be_clean("{:type}", "edn")
    must_be_clean("{:type :ok, :process 0, :value []}\n{:type :ok :process}", "edn")
    # A list-append read holding lists or maps raised TypeError (duplicate check).
    with pytest.raises(MvccCheckError, match="list elements must be scalars"):
        check_text('{"type": "ok", "process": 0, "value": [["r", "x", [[1]]]]}\n')


formats = st.sampled_from([None, "json", "jsonl", "edn"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=12,
)
any_value = st.one_of(
    scalars,
    st.sampled_from(["invoke", "ok", "fail", "info", "append", "r", "w", "txn", ":ok", ""]),
    st.lists(scalars, max_size=3),
    json_values,
)
mop = st.one_of(
    st.lists(any_value, max_size=4),
    st.tuples(st.sampled_from(["append", "r", "w", "x"]), any_value, any_value).map(list),
    st.tuples(st.sampled_from(["append", "r", "w"]), st.integers(0, 2), st.integers(0, 3)).map(
        list
    ),
    st.tuples(st.just("r"), st.integers(0, 2), st.lists(st.integers(0, 3), max_size=3)).map(list),
    any_value,
)
op_maps = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(["invoke", "ok", "fail", "info"]), any_value),
        "process": st.one_of(st.integers(0, 3), any_value),
        "f": any_value,
        "value": st.one_of(st.lists(mop, max_size=4), any_value),
        "index": st.one_of(st.integers(0, 20), any_value),
        "time": st.one_of(st.integers(0, 100), any_value),
    },
)


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


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300), fmt=formats)
def test_random_bytes_give_only_clean_errors(data, fmt):
    must_be_clean(data, fmt)


@settings(max_examples=150, deadline=None)
@given(doc=json_values, fmt=formats, lines=st.booleans())
def test_random_json_values_give_only_clean_errors(doc, fmt, lines):
    data = b"\n".join(dumps(d) for d in doc) if lines and isinstance(doc, list) else dumps(doc)
    must_be_clean(data, fmt)


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(op_maps, max_size=8), how=st.sampled_from(["json", "jsonl", "edn", "edn-vector"])
)
def test_random_op_maps_give_only_clean_errors(ops, how):
    if how == "json":
        must_be_clean(dumps(ops), "json")
    elif how == "jsonl":
        must_be_clean(b"\n".join(dumps(op) for op in ops), "jsonl")
    elif how == "edn":
        must_be_clean("\n".join(to_edn(op) for op in ops), "edn")
    else:
        must_be_clean(to_edn(ops), "edn")


weird_keys = st.one_of(
    st.integers(0, 2), st.sampled_from(["x", "y"]), st.lists(st.integers(0, 1), max_size=2)
)
payload_mop = st.one_of(
    st.tuples(st.sampled_from(["append", "r", "w"]), weird_keys, any_value).map(list),
    st.tuples(st.sampled_from(["append", "w"]), weird_keys, st.integers(0, 3)).map(list),
    st.tuples(
        st.just("r"), weird_keys, st.lists(st.integers(0, 3) | st.booleans(), max_size=3)
    ).map(list),
    st.tuples(st.just("r"), weird_keys, st.none() | st.integers(0, 3)).map(list),
)
shaped_txns = st.lists(
    st.tuples(
        st.integers(0, 2),  # process
        st.sampled_from(
            ["ok", "ok", "fail", "info", "none"]
        ),  # completion ("none": never completes)
        st.lists(payload_mop, min_size=0, max_size=4),
        st.booleans(),  # whether the invocation hides read values
    ),
    max_size=8,
)


def _well_formed_ops(txns) -> list[dict]:
    """Op maps for shaped_txns: each process invokes, then completes (unless "none")."""
    ops = []
    open_: set[int] = set()
    for process, outcome, mops, hide in txns:
        if process in open_:
            continue
        inv = [[f, k, None if (hide and f == "r") else v] for f, k, v in mops]
        ops.append({"type": "invoke", "process": process, "f": "txn", "value": inv})
        if outcome == "none":
            open_.add(process)
        else:
            ops.append({"type": outcome, "process": process, "f": "txn", "value": mops})
    return ops


@settings(max_examples=300, deadline=None)
@given(
    txns=shaped_txns,
    workload=st.sampled_from([None, *WORKLOADS]),
    fmt=st.sampled_from(["jsonl", "edn"]),
)
def test_well_formed_ops_with_random_payloads_give_only_clean_errors(txns, workload, fmt):
    """Op shapes right, pairing right, micro-op payloads anything: reaches the inference."""
    ops = _well_formed_ops(txns)
    if fmt == "jsonl":
        data: bytes | str = b"\n".join(dumps(op) for op in ops)
    else:
        data = "\n".join(to_edn(op) for op in ops)
    try:
        history = parse_history_text(data, source="fuzz.txt", format=fmt)
        for model in ("strict-serializable", "strong-session-serializable", "read-committed"):
            check(history, CheckOptions(models=(model,), workload=workload, wfr_keys=True))
    except MvccCheckError as e:
        assert str(e).startswith("fuzz.txt") and "\n" not in str(e).strip()


def _verdict_or_error(history, **options) -> object:
    try:
        r = check(history, CheckOptions(**options))
    except MvccCheckError as e:
        return str(e)
    return r.workload, r.valid, r.anomaly_types


@settings(max_examples=300, deadline=None)
@given(txns=shaped_txns)
def test_guessing_the_workload_changes_nothing(txns):
    """check() guesses the workload from the first telling micro-op and falls back to
    the whole-history rule when that inference fails: same verdict or error as
    deciding from the whole history first."""
    from mvcc_check.analysis.checker import columns_of, detect_workload
    from mvcc_check.history.pairing import pair_columns

    data = b"\n".join(dumps(op) for op in _well_formed_ops(txns))
    try:
        history = parse_history_text(data, source="guess.jsonl", format="jsonl")
        decided = detect_workload(pair_columns(columns_of(history)))
    except MvccCheckError as e:
        with pytest.raises(MvccCheckError) as raised:
            check(parse_history_text(data, source="guess.jsonl", format="jsonl"))
        assert str(raised.value) == str(e)
        return
    assert _verdict_or_error(history) == _verdict_or_error(history, workload=decided)


def _parsed_or_error(data: bytes) -> object:
    try:
        h = parse_history_text(data, source="chunks.jsonl", format="jsonl")
    except MvccCheckError as e:
        return str(e)
    return [(op.to_json(), op.line) for op in h.ops], h.ignored


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(op_maps, max_size=8) | shaped_txns.map(_well_formed_ops),
    blank=st.lists(st.integers(0, 8), max_size=2),
    trailing_newline=st.booleans(),
    chunk=st.sampled_from([1, 2, 7, 40, 200]),
)
def test_jsonl_chunk_size_changes_nothing(ops, blank, trailing_newline, chunk):
    """JSON Lines are decoded in chunks ending at a newline; any chunk size (even
    one byte, or lines longer than a chunk) reads the same ops, lines and errors."""
    from mvcc_check.history import readers

    lines = [dumps(op) for op in ops]
    for at in blank:
        lines.insert(min(at, len(lines)), b"")
    data = b"\n".join(lines) + (b"\n" if trailing_newline else b"")
    whole = _parsed_or_error(data)
    saved = readers.CHUNK_BYTES
    try:
        readers.CHUNK_BYTES = chunk
        assert _parsed_or_error(data) == whole
    finally:
        readers.CHUNK_BYTES = saved


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_are_read_exactly_in_every_format(value):
    """No reader may round an integer (orjson, used for speed, turns them into floats)."""
    op = {
        "type": "ok",
        "process": 0,
        "f": "txn",
        "value": [["append", 1, value], ["r", 1, [value]]],
    }
    odd = {
        "type": "ok",
        "process": 1,
        "f": "txn",
        "value": [["append", [1], 5]],
    }  # forces the general path
    texts = {
        "jsonl": dumps(op),
        "json": b"[" + dumps(op) + b"]",
        "edn": to_edn(op),
        "jsonl-general": dumps(op) + b"\n" + dumps(odd),
        "edn-exact": to_edn([op]),
    }
    for how, text in texts.items():
        h = parse_history_text(text, source="big", format=how.split("-")[0])
        assert h.ops[0].value[0][2] == value and type(h.ops[0].value[0][2]) is int, how
        assert list(h.ops[0].value[1][2]) == [value], how


edn_tokens = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "#{",
        "#_",
        "#inst",
        '"',
        '"s"',
        "\\",
        "\\a",
        "\\newline",
        ":type",
        ":ok",
        ":invoke",
        ":fail",
        ":info",
        ":process",
        ":value",
        ":append",
        ":r",
        ":w",
        ":x",
        "0",
        "1",
        "-2",
        "3N",
        "1.5",
        "1/2",
        "1e5",
        "nil",
        "true",
        "false",
        " ",
        "\n",
        ",",
        ";c\n",
        ":index",
        ":f",
        ":txn",
        "sym",
        "#jepsen.history.Op",
        '"\\u00e9"',
        '"\\q"',
        "9999999999999999999999",
    ]  # fmt: skip
)


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(edn_tokens, max_size=40))
def test_random_edn_ish_text_gives_only_clean_errors(tokens):
    must_be_clean(" ".join(tokens), "edn")
    must_be_clean("".join(tokens), None)


# -- every reported cycle is a real cycle of its type -------------------------------


@dataclass
class Index:
    """What the history says, to check cycle explanations against."""

    by_index: dict[int, dict[str, Any]]
    invoke_of: dict[int, dict[str, Any]]  # completion index -> its invocation
    reads: dict[Any, list[Any]]  # key -> every value an ok txn read
    incompatible: set[Any] = field(default_factory=set)  # keys with incompatible-order reported

    @classmethod
    def of(cls, text: str) -> Index:
        ops = [orjson.loads(line) for line in text.splitlines()]
        by_index = {op["index"]: op for op in ops}
        invoke_of: dict[int, dict[str, Any]] = {}
        open_: dict[int, dict[str, Any]] = {}
        reads: dict[Any, list[Any]] = {}
        for op in ops:
            if op["type"] == "invoke":
                open_[op["process"]] = op
                continue
            inv = open_.pop(op["process"])
            invoke_of[op["index"]] = inv
            if op["type"] == "ok":
                for f, k, v in op["value"]:
                    if f == "r":
                        reads.setdefault(k, []).append(v)
        return cls(by_index, invoke_of, reads)


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def check_step(
    ix: Index, workload: str, step: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> None:
    t = step["type"]
    if t == "realtime":
        assert step["a'"]["index"] == a["index"] and a["type"] == "ok"
        b_inv = step["b"]
        assert b_inv["type"] == "invoke" and b_inv["process"] == b["process"]
        assert b_inv["index"] <= b["index"]
        assert a["index"] < b_inv["index"], "realtime: a must complete before b is invoked"
        return
    if t == "process":
        assert a["process"] == b["process"] == step["process"]
        assert a["index"] < b["index"]
        return
    k, ma, mb = step["key"], a["value"][step["a-mop-index"]], b["value"][step["b-mop-index"]]
    assert _key(ma[1]) == _key(k) and _key(mb[1]) == _key(k)
    write = "append" if workload == "list-append" else "w"
    la = workload == "list-append"
    if t == "ww":
        assert ma[0] == write and mb[0] == write
        assert ma[2] == step["value"] and mb[2] == step["value'"]
        if la:
            v, v2 = step["value"], step["value'"]
            if step.get("unread"):
                # Not in the longest read. Another read may show it only when the
                # reads disagree, and then incompatible-order is reported.
                assert _key(k) in ix.incompatible or not any(v2 in r for r in ix.reads.get(k, []))
                assert any(r and r[-1] == v for r in ix.reads.get(k, []))
            else:
                assert any(
                    v in r and r.index(v) + 1 < len(r) and r[r.index(v) + 1] == v2
                    for r in ix.reads.get(k, [])
                )
    elif t == "wr":
        assert ma[0] == write and mb[0] == "r"
        assert ma[2] == step["value"]
        if la:
            assert mb[2] and mb[2][-1] == step["value"]
        else:
            assert mb[2] == step["value"]
    elif t == "rw":
        assert ma[0] == "r" and mb[0] == write
        assert mb[2] == step["value'"]
        seen = ma[2]
        if la:
            seen = seen or []
            assert (seen[-1] if seen else None) == step["value"]
            v2 = step["value'"]
            if step.get("unread"):
                assert _key(k) in ix.incompatible or not any(v2 in r for r in ix.reads.get(k, []))
            else:
                assert any(r[: len(seen) + 1] == [*seen, v2] for r in ix.reads.get(k, []))
        else:
            assert seen == step["value"]
    else:
        raise AssertionError(f"unknown step type {t}")


def check_cycle(ix: Index, workload: str, name: str, item: dict[str, Any]) -> None:
    ops, steps = item["cycle"], item["steps"]
    assert item["type"] == name
    assert ops[0] == ops[-1] and len(ops) == len(steps) + 1 >= 2
    for op in ops:
        assert op["type"] in ("ok", "info", "invoke")  # never a failed transaction
        orig = ix.by_index[op["index"]]
        assert (orig["type"], orig["process"], orig["value"]) == (
            op["type"],
            op["process"],
            op["value"],
        )
    for i, step in enumerate(steps):
        check_step(ix, workload, step, ops[i], ops[i + 1])
    # Every indeterminate txn on the cycle is proven committed by a committed read of its write.
    proofs = {p["index"]: p for p in item.get("committed", ())}
    for op in ops:
        if op["type"] in ("info", "invoke"):
            proof = proofs[op["index"]]
            if "transaction-order" in proof:  # placed by the given commit order
                continue
            reader = ix.by_index[proof["reader"]["index"]]
            assert reader["type"] == "ok"
            f, k, v = reader["value"][proof["mop-index"]]
            assert f == "r" and k == proof["key"]
            assert proof["value"] in v if isinstance(v, list) else proof["value"] == v
            assert [proof["key"], proof["value"]] in [m[1:] for m in op["value"] if m[0] != "r"]
    kinds = [s["type"] for s in steps]
    rw = [k == "rw" for k in kinds]
    n_rw = sum(rw)
    adjacent = (
        any(rw[i] and rw[(i + 1) % len(rw)] for i in range(len(rw))) if len(rw) > 1 else False
    )
    base = name.removesuffix("-process").removesuffix("-realtime")
    if name.endswith("-process"):
        assert "process" in kinds and "realtime" not in kinds, kinds
    elif name.endswith("-realtime"):
        assert "realtime" in kinds and "process" not in kinds, kinds
    else:
        assert set(kinds) <= {"ww", "wr", "rw"}, kinds
    if base == "G0":
        assert set(kinds) <= {"ww", "process", "realtime"}, kinds
    elif base == "G1c" and item.get("write-cycle"):  # a G0 through info txns (see info_writes)
        assert set(kinds) <= {"ww", "process", "realtime"}, kinds
        assert any(op["type"] in ("info", "invoke") for op in ops), ops
    elif base == "G1c":
        assert n_rw == 0 and "wr" in kinds, kinds
    elif base == "G-single-item":
        assert n_rw == 1, kinds
    elif base == "G-nonadjacent-item":
        assert n_rw >= 2 and not adjacent, kinds
    elif base == "G2-item":
        assert n_rw >= 2 and adjacent, kinds
    else:
        raise AssertionError(f"unexpected cycle type {name}")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=16, keys=(0, 1)),
    slots=st.integers(2, 4),
    seed=st.integers(0, 2**32),
    model=st.sampled_from(
        [
            "strict-serializable",
            "strong-session-serializable",
            "serializable",
            "strong-snapshot-isolation",
            "strong-session-snapshot-isolation",
            "snapshot-isolation",
        ]
    ),
    sources=st.sampled_from(REGISTER_SOURCES),
    faulty=FAULTS,
)
def test_every_reported_cycle_is_real(workload, txns, slots, seed, model, sources, faulty):
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    r = check_text(text, model, **(sources if workload == "rw-register" else {}))
    ix = Index.of(text)
    ix.incompatible = {_key(a["key"]) for a in r.anomalies.get("incompatible-order", [])}
    for name, items in r.anomalies.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and "cycle" in item:
                check_cycle(ix, workload, name, item)
    # The search is exact, so a cycle a model forbids always shows as a named
    # anomaly: Elle's *-cycle-exists fallback must never be needed.
    assert not [a for a in r.all_anomaly_types if a.endswith("-cycle-exists")], r.all_anomaly_types


def test_faulty_database_does_produce_cycles():
    """Guard: the faulty generator reaches the cycle types, so the property above is not vacuous."""
    seen: set[str] = set()
    rng = random.Random(1)
    for seed in range(150):
        txns = [
            Planned([(rng.choice("rw"), rng.choice((0, 1))) for _ in range(rng.randint(1, 4))])
            for _ in range(rng.randint(4, 14))
        ]
        for workload in WORKLOADS:
            text = concurrent_history(workload, txns, 3, seed, faulty=True)
            for model in ("strict-serializable", "strong-session-serializable"):
                r = check_text(text, model)
                seen |= {
                    n
                    for n, items in r.anomalies.items()
                    if isinstance(items, list) and "cycle" in items[0]
                }
    assert {"G0", "G1c", "G-single-item", "G2-item"} <= seen, seen
    assert "G-single-item-realtime" in seen and "G-single-item-process" in seen, seen


# -- the two cycle searches agree --------------------------------------------------
#
# Small components are searched exhaustively from every candidate edge; larger
# ones by exact existence tests (component and reachability arguments) and
# iterative deepening from the anchors those tests yield. Forcing each path on
# the same histories must give the same anomalies and the same cycle lengths.


def _threshold_name() -> str:
    from mvcc_check.analysis.search import shortest as cycles

    names = [
        n for n in dir(cycles) if n.endswith("_COMPONENT") and isinstance(getattr(cycles, n), int)
    ]
    assert len(names) == 1, (
        f"expected one small-component threshold in search/shortest.py, found {names}: update this test"
    )
    return names[0]


def _summary(r) -> dict[str, list[int]]:
    return {
        name: sorted(
            len(item["steps"]) for item in items if isinstance(item, dict) and "steps" in item
        )
        for name, items in r.anomalies.items()
        if isinstance(items, list)
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=24, keys=(0, 1, 2)),
    slots=st.integers(2, 5),
    seed=st.integers(0, 2**32),
    model=st.sampled_from(["strict-serializable", "strong-session-serializable", "serializable"]),
    faulty=FAULTS,
)
def test_exact_and_exhaustive_cycle_searches_agree(workload, txns, slots, seed, model, faulty):
    """Two ways to one answer: exhaustive search of every component, and existence
    from the whole-graph passes (G-single by pruned reachability, G-nonadjacent by the
    two-layer graph) handing anchors to the bounded search. Same anomalies, same
    shortest cycle lengths."""
    from mvcc_check.analysis.search import shortest as cycles

    name = _threshold_name()
    saved = getattr(cycles, name)
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    try:
        setattr(cycles, name, 10**9)
        exhaustive = check_text(text, model)
        setattr(cycles, name, 0)
        whole_graph = check_text(text, model)
    finally:
        setattr(cycles, name, saved)
    assert whole_graph.anomaly_types == exhaustive.anomaly_types
    assert _summary(whole_graph) == _summary(exhaustive)


# -- the three input formats give the same verdict ------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=12, keys=(0, 1)),
    slots=st.integers(1, 4),
    seed=st.integers(0, 2**32),
    edn_vector=st.booleans(),
    faulty=FAULTS,
)
def test_formats_agree_and_text_report_renders(workload, txns, slots, seed, edn_vector, faulty):
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    ops = [orjson.loads(line) for line in text.splitlines()]
    edn = to_edn(ops) if edn_vector else "\n".join(to_edn(op) for op in ops)
    results = [
        check(parse_history_text(data, source="h", format=fmt), CheckOptions())
        for data, fmt in ((text, "jsonl"), (dumps(ops), "json"), (edn, "edn"))
    ]
    docs = [orjson.dumps(r.to_json(), option=orjson.OPT_NON_STR_KEYS) for r in results]
    assert docs[0] == docs[1] == docs[2]
    out = io.StringIO()
    render_text(results[0], Console(file=out, width=100), examples=3)
    assert ("VALID" in out.getvalue()) or ("UNDECIDED" in out.getvalue())
    for name in results[0].anomaly_types:
        assert name in out.getvalue()


# -- verdicts are monotone in the model hierarchy ----------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=12, keys=(0, 1)),
    slots=st.integers(2, 4),
    seed=st.integers(0, 2**32),
    faulty=FAULTS,
)
def test_violating_a_model_violates_every_stronger_one(workload, txns, slots, seed, faulty):
    names = models.REQUIRED_MODEL_NAMES
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    verdicts = {m: check_text(text, m) for m in names}
    for weak in names:
        r = verdicts[weak]
        if r.valid is not False:
            continue
        # The model itself is named among those ruled out ...
        assert models.friendly(models.canonical(weak)) in set(r.not_) | set(r.also_not), (
            weak,
            r.not_,
        )
        # ... and every stronger model is violated too.
        for strong in names:
            if strong != weak and models.canonical(weak) in models.implied_models([strong]):
                assert verdicts[strong].valid is False, (strong, weak, r.anomaly_types)


# -- the two-process component search gives the same answer ----------------------------


def side_by_side(a: str, b: str) -> str:
    """Two histories run one after the other on disjoint keys and processes."""
    ops = [orjson.loads(line) for line in a.splitlines()]
    for line in b.splitlines():
        op = orjson.loads(line)
        op["process"] += 1000
        op["value"] = [[f, ("b", k), v] for f, k, v in op["value"]]
        ops.append(op)
    for i, op in enumerate(ops):
        op["index"] = i
    return "\n".join(orjson.dumps(op).decode() for op in ops) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=12, keys=(0, 1)),
    more=plans(max_txns=12, keys=(0, 1)),
    seed=st.integers(0, 2**32),
    model=st.sampled_from(["serializable", "strict-serializable"]),
    faulty=FAULTS,
)
def test_forked_component_search_agrees(workload, txns, more, seed, model, faulty):
    """Big histories split the component searches over two processes; force that path."""
    from mvcc_check.analysis.search import parallel

    text = side_by_side(
        concurrent_history(workload, txns, 3, seed, faulty=faulty),
        concurrent_history(workload, more, 3, seed + 1, faulty=faulty),
    )
    one = check_text(text, model)
    saved = parallel.PARALLEL_MIN_EDGES
    try:
        parallel.PARALLEL_MIN_EDGES = 0
        two = check_text(text, model)
    finally:
        parallel.PARALLEL_MIN_EDGES = saved
    assert orjson.dumps(two.to_json(), option=orjson.OPT_NON_STR_KEYS) == orjson.dumps(
        one.to_json(), option=orjson.OPT_NON_STR_KEYS
    )
    assert two.stats == one.stats
