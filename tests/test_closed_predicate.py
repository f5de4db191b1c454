"""The closed-predicate workload against Elle's own tests (test/elle/closed_predicate_test.clj).

Each history is Elle's, transcribed; the expected anomaly types are Elle's, except
where we differ on purpose (docs/elle-differences.md):
- a transaction's predicate read that misses the transaction's own write is
  `internal` (Elle's histories g1c-predicate-read-seen and g2-predicate-read-unseen
  write x and then read every row without x);
- cycles Elle only proves exist (strong-snapshot-isolation-cycle-exists) or does
  not find we find and name (G-single-realtime: in failure-to-observe, the read
  that missed key 5 saw it unborn, Elle's reading, yet began after init completed).
"""

from __future__ import annotations

import json

import pytest

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.analysis.checker import Verdict
from mvcc_check.errors import HistoryError

SEQ = "{{:process {p}, :type :invoke, :f :txn, :value {inv}}}\n{{:process {p}, :type :ok, :f :txn, :value {ok}}}\n"


def txn(p: int, inv: str, ok: str) -> str:
    return SEQ.format(p=p, inv=inv, ok=ok)


INIT_XY0 = (
    "{:process 0, :type :invoke, :f :init, :value {:x 0, :y 0}}\n"
    "{:process 0, :type :ok, :f :init, :value {:x 0, :y 0}}\n"
)

CASES = {
    # name: (EDN history, anomaly types we report, Elle's anomaly types)
    "g1c-predicate-read-seen": (
        txn(0, "[[:w :x 1] [:rp :true nil]]", "[[:w :x 1] [:rp :true {:y 2}]]")
        + txn(1, "[[:w :y 2] [:rp :true nil]]", "[[:w :y 2] [:rp :true {:x 1}]]"),
        ["G1c", "internal"],
        ["G1c"],
    ),
    "g2-predicate-read-unseen": (
        txn(0, "[[:w :x 1] [:rp :true nil]]", "[[:w :x 1] [:rp :true {}]]")
        + txn(1, "[[:w :y 2] [:rp :true nil]]", "[[:w :y 2] [:rp :true {}]]"),
        ["G-single-realtime", "G2", "internal"],
        ["G2", "strong-snapshot-isolation-cycle-exists"],
    ),
    "g1c-predicate-read-unseen-universe-delete": (
        INIT_XY0
        + txn(0, "[[:delete :x] [:rp :true nil]]", "[[:delete :x] [:rp :true {}]]")
        + txn(1, "[[:delete :y] [:rp :true nil]]", "[[:delete :y] [:rp :true {}]]"),
        ["G1c"],
        ["G1c"],
    ),
    "g1c-predicate-read-unseen-universe-write": (
        INIT_XY0
        + txn(0, "[[:rp [:= 0] nil] [:w :x 1]]", "[[:rp [:= 0] {:x 0}] [:w :x 1]]")
        + txn(1, "[[:rp [:= 0] nil] [:w :y 1]]", "[[:rp [:= 0] {:y 0}] [:w :y 1]]"),
        ["G1c"],
        ["G1c"],
    ),
    "g2-predicate-read-unseen-universe-write": (
        INIT_XY0
        + txn(0, "[[:rp [:= 1] nil] [:w :x 1]]", "[[:rp [:= 1] {}] [:w :x 1]]")
        + txn(1, "[[:rp [:= 1] nil] [:w :y 1]]", "[[:rp [:= 1] {}] [:w :y 1]]"),
        ["G-single-realtime", "G2"],
        ["G2", "strong-snapshot-isolation-cycle-exists"],
    ),
    "wr-g1c-item": (
        "{:process 0, :type :invoke, :f :init, :value {:x 0 :z 0}}\n"
        "{:process 0, :type :ok, :f :init, :value {:x 0 :z 0}}\n"
        + txn(0, "[[:r :z nil] [:delete :x]]", "[[:r :z 3] [:delete :x]]")
        + txn(1, "[[:r :x nil] [:insert :y 2]]", "[[:r :x nil] [:insert :y 2]]")
        + txn(2, "[[:r :y nil] [:w :z 3]]", "[[:r :y 2] [:w :z 3]]"),
        ["G1c"],
        ["G1c"],
    ),
    "ww-wr-rw-item": (
        "{:process 0, :type :invoke, :f :init, :value {:x 0 :z 0}}\n"
        "{:process 0, :type :ok, :f :init, :value {:x 0 :z 0}}\n"
        + txn(0, "[[:delete :x] [:insert :y 1]]", "[[:delete :x] [:insert :y 1]]")
        + txn(1, "[[:r :y nil] [:r :z nil]]", "[[:r :y 1] [:r :z nil]]"),
        ["G-single-item"],
        ["G-single-item"],
    ),
    "failure-to-observe": (
        "{:index 0, :type :invoke, :process 0, :f :init, :value {5 3}}\n"
        "{:index 5, :type :ok, :process 0, :f :init, :value {5 3}}\n"
        "{:index 8, :type :invoke, :process 1, :f :txn, :value [[:rp [:mod 2 1] nil] [:rp [:= 3] nil]]}\n"
        "{:index 52, :type :ok, :process 1, :f :txn, :value [[:rp [:mod 2 1] {}] [:rp [:= 3] {}]]}\n",
        ["G-single-realtime", "predicate-read-miss"],
        ["predicate-read-miss"],
    ),
    "init-g-single-pred": (
        "{:index 1, :type :invoke, :process 4, :f :init, :value {7 1}}\n"
        "{:index 4, :type :ok, :process 4, :f :init, :value {7 1}}\n"
        "{:index 72, :type :invoke, :process 7, :f :txn, :value [[:rp [:mod 2 0] nil] [:r 7 nil]]}\n"
        "{:index 82, :type :ok, :process 7, :f :txn, :value [[:rp [:mod 2 0] {}] [:r 7 nil]]}\n",
        ["G-single-item"],
        ["G-single-item"],
    ),
    "g1c-multi-key-delete": (
        "{:type :invoke, :process 2, :f :init, :value {26 0, 31 0, 38 0}}\n"
        "{:type :ok, :process 2, :f :init, :value {26 0, 38 0}}\n"
        "{:type :invoke, :process 2, :f :txn, :value [[:delete 38] [:w 31 8] [:delete 26] [:w 40 9]]}\n"
        "{:type :ok, :process 2, :f :txn, :value [[:delete 38 nil] [:w 31 8] [:delete 26 nil] [:w 40 9]]}\n"
        "{:type :invoke, :process 3, :f :txn, :value [[:rp :true nil]]}\n"
        "{:type :ok, :process 3, :f :txn, :value [[:rp :true {31 0, 38 0}]]}\n",
        ["G-single"],
        ["G-single"],
    ),
}


def _check(text: str, **kw):
    return check(parse_history_text(text, "t.edn", "edn"), CheckOptions(**kw))


@pytest.mark.parametrize("name", sorted(CASES))
def test_elle_closed_predicate_cases(name: str) -> None:
    text, ours, _elle = CASES[name]
    r = _check(text)
    assert r.workload == "closed-predicate"
    assert r.verdict is Verdict.INVALID
    assert r.anomaly_types == ours


def test_boundaries_match_elle() -> None:
    """Elle's `not` for the cases whose anomaly types we share."""
    assert _check(CASES["ww-wr-rw-item"][0]).not_ == ["consistent-view", "repeatable-read"]
    assert _check(CASES["init-g-single-pred"][0]).not_ == ["consistent-view", "repeatable-read"]
    assert _check(CASES["g1c-multi-key-delete"][0]).not_ == ["consistent-view"]
    assert _check(CASES["failure-to-observe"][0], models=("serializable",)).not_ == ["serializable"]
    assert _check(CASES["wr-g1c-item"][0]).not_ == ["read-committed"]


def test_elle_steps_wr_g1c_item() -> None:
    """Elle's wr-g1c-item expects these three wr steps, the dead version included."""
    r = _check(CASES["wr-g1c-item"][0])
    (cycle,) = r.anomalies["G1c"]
    steps = {(s["type"], s["key"], s["value"]) for s in cycle["steps"]}
    assert steps == {("wr", "y", 2), ("wr", "z", 3), ("wr", "x", "elle/dead")}


def test_elle_steps_multi_key_delete() -> None:
    """Elle's g1c-multi-key-delete: an rwp step (38 deleted after the read) and a wrp
    step (26 deleted before it: the read did not return it)."""
    (cycle,) = _check(CASES["g1c-multi-key-delete"][0]).anomalies["G-single"]
    got = {(s["type"], s["key"], s["value"], s.get("value'")) for s in cycle["steps"]}
    assert got == {("rwp", 38, 0, "elle/dead"), ("wrp", 26, "elle/dead", None)}


def test_g2_is_not_g2_item_for_repeatable_read() -> None:
    """Write skew through predicates (G2) is allowed by repeatable read (PL-2.99
    forbids only G2-item) and forbidden by serializable."""
    text = CASES["g2-predicate-read-unseen-universe-write"][0]
    assert _check(text, models=("repeatable-read",)).verdict is Verdict.VALID
    r = _check(text, models=("serializable",))
    assert r.verdict is Verdict.INVALID and r.anomaly_types == ["G2"]
    assert r.not_ == ["serializable"]


def test_item_write_skew_is_g2_item() -> None:
    """The same write skew through item reads is G2-item, forbidden by repeatable read."""
    text = (
        INIT_XY0
        + txn(0, "[[:r :y nil] [:w :x 1]]", "[[:r :y 0] [:w :x 1]]")
        + txn(1, "[[:r :x nil] [:w :y 1]]", "[[:r :x 0] [:w :y 1]]")
    )
    r = _check(text, models=("repeatable-read",))
    assert r.verdict is Verdict.INVALID and r.anomaly_types == ["G2-item"]


JSONL = [
    {"index": 0, "type": "invoke", "process": 0, "f": "init", "value": {"1": 0, "2": 0}},
    {"index": 1, "type": "ok", "process": 0, "f": "init", "value": {"1": 0, "2": 0}},
    {"index": 2, "type": "invoke", "process": 1, "value": [["rp", ["=", 1], None], ["w", 1, 1]]},
    {"index": 3, "type": "invoke", "process": 2, "value": [["rp", ["=", 1], None], ["w", 2, 1]]},
    {"index": 4, "type": "ok", "process": 1, "value": [["rp", ["=", 1], {}], ["w", 1, 1]]},
    {"index": 5, "type": "ok", "process": 2, "value": [["rp", ["=", 1], {}], ["w", 2, 1]]},
]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_map_keys_are_the_integer_keys(tmp_path, fmt: str) -> None:
    """JSON maps have string keys: "1" in a map is the key 1 of the micro-ops."""
    text = json.dumps(JSONL) if fmt == "json" else "".join(json.dumps(o) + "\n" for o in JSONL)
    r = check(parse_history_text(text, "t", fmt), CheckOptions(models=("serializable",)))
    assert r.anomaly_types == ["G2"]


def test_two_changes_of_a_key_are_refused() -> None:
    text = txn(0, "[[:insert :x 1]]", "[[:insert :x 1]]") + txn(1, "[[:w :x 2]]", "[[:w :x 2]]")
    with pytest.raises(HistoryError, match="changed again"):
        _check(text)


def test_bad_predicate_is_refused() -> None:
    with pytest.raises(HistoryError, match="unknown predicate"):
        _check(txn(0, "[[:rp [:< 3] nil]]", "[[:rp [:< 3] {}]]"))


def test_item_workload_refuses_predicate_mops() -> None:
    with pytest.raises(HistoryError, match="closed-predicate"):
        _check(CASES["ww-wr-rw-item"][0], workload="rw-register")


def test_serial_history_is_valid() -> None:
    """Inserts, deletes and predicate reads run one at a time: nothing to report."""
    text = (
        INIT_XY0
        + txn(
            0,
            "[[:rp [:mod 2 0] nil] [:insert :z 4]]",
            "[[:rp [:mod 2 0] {:x 0 :y 0}] [:insert :z 4]]",
        )
        + txn(
            1,
            "[[:rp [:mod 2 0] nil] [:delete :x]]",
            "[[:rp [:mod 2 0] {:x 0 :y 0 :z 4}] [:delete :x]]",
        )
        + txn(2, "[[:rp :true nil] [:r :x nil]]", "[[:rp :true {:y 0 :z 4}] [:r :x nil]]")
    )
    r = _check(text)
    assert r.verdict is Verdict.VALID, r.anomalies


def test_g1a_read_of_failed_insert() -> None:
    text = (
        "{:process 0, :type :invoke, :f :txn, :value [[:insert :x 1]]}\n"
        "{:process 0, :type :fail, :f :txn, :value [[:insert :x 1]]}\n"
        + txn(1, "[[:rp :true nil]]", "[[:rp :true {:x 1}]]")
    )
    r = _check(text, models=("read-committed",))
    assert r.verdict is Verdict.INVALID and "G1a" in r.anomaly_types


def test_predicate_g_single_is_named_beside_an_item_one_in_the_same_component() -> None:
    """T1 -rw-> T2 -wr-> T1 (item) and T3 -rwp-> T2 -wr-> T3 (a phantom: T3's read of odd
    rows missed T2's 5) share T2: both types are named, each once."""
    text = (
        INIT_XY0
        + txn(1, "[[:r :y nil] [:r :z nil]]", "[[:r :y 0] [:r :z 5]]")
        + txn(2, "[[:w :y 1] [:insert :z 5]]", "[[:w :y 1] [:insert :z 5]]")
        + txn(3, "[[:rp [:mod 2 1] nil] [:r :y nil]]", "[[:rp [:mod 2 1] {}] [:r :y 1]]")
    )
    r = _check(text, models=("serializable",))
    assert r.anomaly_types == ["G-single", "G-single-item"]
    assert len(r.anomalies["G-single"]) == 1 and len(r.anomalies["G-single-item"]) == 1


def _saw(mop: list, key, value) -> bool:
    """Whether a committed micro-op saw `key` at `value`: an item read of it, a predicate
    read that returned it, or one that did not return it where `value` fails the
    predicate (the closed universe)."""
    from mvcc_check.history.predicates import matches, parse_predicate

    f, k, v = mop
    if f == "r":
        return k == key and v == value
    if f != "rp":
        return False
    rows = {int(a): b for a, b in (v or {}).items()}
    pred = parse_predicate(tuple(k) if isinstance(k, list) else k)
    if key in rows:
        return rows[key] == value
    return value in ("elle/unborn", "elle/dead") or not matches(pred, value)


# Seeded runs (the engine is deterministic) whose reported cycles hold info txns: one
# proven by a predicate read that returned the row, one by an item read.
PROVEN_RUNS = [
    ("snapshot-isolation", 3, 150, 5, 0.05, "serializable"),
    ("read-uncommitted", 2, 200, 6, 0.1, "strict-serializable"),
]


@pytest.mark.parametrize(("level", "seed", "txns", "clients", "crash", "model"), PROVEN_RUNS)
def test_info_txns_on_predicate_cycles_come_with_a_committed_read_of_their_change(
    level, seed, txns, clients, crash, model
):
    """Crashed clients leave info txns; one on a reported cycle is proven committed by
    a committed read that saw its change (the explainer once had no such proof)."""
    from mvcc_check.engine.scheduler import run_engine
    from mvcc_check.lab.engine_runs import check_ops
    from mvcc_check.report.text import explain_cycle
    from mvcc_check.workload import WorkloadSpec

    spec = WorkloadSpec(workload="closed-predicate", txns=txns, clients=clients, keys=4, seed=seed)
    run = run_engine(level, spec, crash_rate=crash)
    result = check_ops(run.ops, model, "closed-predicate")
    proofs = [
        p
        for items in result.anomalies.values()
        if isinstance(items, list)
        for item in items
        for p in item.get("committed", ())
    ]
    assert proofs  # the run puts an info txn on a reported cycle
    for items in result.anomalies.values():
        for item in items if isinstance(items, list) else ():
            if item.get("committed"):  # said in words, the proving read as a read
                said = [ln for ln in explain_cycle(item) if "outcome was not known" in ln]
                assert len(said) == len(item["committed"])
                assert all(" = {" not in ln for ln in said), said
    by_index = {op["index"]: op for op in run.ops}
    proofs = [
        p
        for items in result.anomalies.values()
        if isinstance(items, list)
        for item in items
        for p in item.get("committed", ())
    ]
    assert proofs  # the runs put info txns on cycles
    for p in proofs:
        info, reader = by_index[p["index"]], by_index[p["reader"]["index"]]
        assert info["type"] == "info" and reader["type"] == "ok"
        changed = {
            m[1]: (m[2] if m[0] != "delete" else "elle/dead")
            for m in info["value"]
            if m[0] in ("w", "insert", "delete")
        }
        assert changed.get(p["key"]) == p["value"]
        assert _saw(reader["value"][p["mop-index"]], p["key"], p["value"])
