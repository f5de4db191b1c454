"""A peer's test suite: elle-cli's and Elle's histories with Elle's expected results.

The data lives in ../shared/conformance/ (another project's files, read in
place, never copied); MVCC_CHECK_CONFORMANCE overrides the path. Without the
folder the tests skip, except under CI (CI=true), where they fail.

elle-cli: every case with a history runs. Where Elle produced a result we match
`valid?` and `anomaly-types` (Elle's bookkeeping `*-cycle-exists` and
`empty-transaction-graph` aside) and `not` / `also-not`; where we differ on
purpose the difference is listed in DIFFERENCES and explained in
docs/elle-differences.md. Where no result exists, STATED gives the verdict
we hold right, with the reason.

elle-tests (Elle's own unit tests, transcribed with their options and asserted
results): every case must match what Elle's test asserts, or be a difference listed
in ELLE_TEST_DIFFERENCES (explained in the docs), or a known gap in ELLE_TEST_GAPS;
a listed case that starts to match Elle fails too, so that its entry goes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mvcc_check import CheckOptions, TransactionOrder, check, load_history, parse_history_text
from mvcc_check.errors import HistoryError

ROOT = Path(
    os.environ.get(
        "MVCC_CHECK_CONFORMANCE", Path(__file__).resolve().parents[2] / "shared" / "conformance"
    )
)
ELLE_CLI = ROOT / "elle-cli"
ELLE = ROOT / "elle"


def _require_data() -> None:
    if not (ELLE_CLI / "manifest.json").exists():
        msg = f"conformance data not found at {ROOT} (set MVCC_CHECK_CONFORMANCE)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; under CI its absence is a failure")
        pytest.skip(msg)


def _manifest() -> list[dict]:
    path = ELLE_CLI / "manifest.json"
    if not path.exists():
        return [{"case": "manifest-missing"}]
    return json.loads(path.read_text())


BOOKKEEPING = ("empty-transaction-graph",)


def _comparable(types) -> list[str]:
    return sorted(
        t for t in types or [] if not t.endswith("-cycle-exists") and t not in BOOKKEEPING
    )


GARBAGE = (
    "a garbage read (Kingsbury & Alvaro 2020, section 6.1), which every model forbids and Elle "
    "does not flag (docs/elle-differences.md, section 11)"
)

# Deliberate differences: case -> (our anomaly types, reason). See docs/elle-differences.md.
DIFFERENCES: dict[str, tuple[list[str], str]] = {
    "list-append-anomaly-g2-item": (
        ["G-single-item-realtime", "G2-item"],
        "the second txn began after the first committed yet missed its write: a named G-single-item-realtime "
        "where Elle only reports strong-snapshot-isolation-cycle-exists",
    ),
    "rw-register-anomaly-g2-item": (
        ["G-single-item-realtime", "G2-item"],
        "as list-append-anomaly-g2-item",
    ),
    "rw-register-model-strong-snapshot": (
        ["G-single-item-realtime"],
        "as list-append-anomaly-g2-item",
    ),
    "list-append-anomaly-lost-update": (
        ["G-single-item-realtime", "G2-item", "lost-update"],
        "the second updater began after the first committed and read the state before it",
    ),
    "list-append-anomaly-incompatible-order": (
        ["G0-realtime", "incompatible-order"],
        "the ww + realtime cycle Elle proves with strong-PL-1-cycle-exists is named G0-realtime, which implies "
        "Elle's G1c-realtime",
    ),
    "rw-register": (["garbage-read"], "x = 3 is read, but only x = 2 was written: " + GARBAGE),
    "rw-register-anomaly-internal": (
        ["garbage-read", "internal"],
        "the txn wrote x = 2 and read x = 3, which nobody wrote: " + GARBAGE,
    ),
    "rw-register-keys-linearizable-anomaly": (
        ["cyclic-versions", "garbage-read"],
        "x = 2 is read, but only x = 1 was written: " + GARBAGE,
    ),
}

# A garbage read rules out every model, so valid? and not / also-not differ from Elle's too.
GARBAGE_BOUNDARY = [
    "1SR",
    "monotonic-reads",
    "monotonic-writes",
    "read-uncommitted",
    "read-your-writes",
    "view-serializable",
    "writes-follow-reads",
]  # fmt: skip
VERDICT_DIFFERENCES: dict[str, dict] = {
    name: {"valid?": False, "not": GARBAGE_BOUNDARY}
    for name in (
        "rw-register",
        "rw-register-anomaly-internal",
        "rw-register-keys-linearizable-anomaly",
    )
}

# Cases with a history but no result from Elle: the verdict we hold right.
STATED: dict[str, tuple[bool | str, list[str], str]] = {
    "list-append-valid-single-append-read": (True, [], "a read after a committed append sees it"),
    "list-append-valid-multiple-appends": (True, [], "reads agree with the append order"),
    "list-append-valid-different-keys": (True, [], "no conflicts"),
    "list-append-valid-append-only": (
        True,
        [],
        "appends only; realtime order gives the graph its edges",
    ),
    "list-append-valid-multiple-processes": (True, [], "reads agree with the append order"),
    "list-append-valid-info-read": (True, [], "an indeterminate read tells nothing"),
    "list-append-anomaly-partial-read-single-txn": (
        False,
        ["G-single-item", "G1b", "internal"],
        "same history as the internal case: the txn saw an intermediate state, then a different one",
    ),
    "list-append-anomaly-append-too-many-partial-read": (
        False,
        ["G-single-item", "G1b"],
        "[1 2] is an intermediate state of the txn that appended 1 2 3; the unseen 3 follows the read",
    ),
    "list-append-model-snapshot-isolation": (
        False,
        ["G-single-item"],
        "the paper's example: G-single is forbidden by snapshot isolation",
    ),
    "list-append-model-read-committed": (True, [], "G-single is allowed by read committed"),
    "list-append-model-read-uncommitted": (True, [], "G-single is allowed by read uncommitted"),
    "rw-register-valid-single-write-read": (True, [], "a read after a committed write sees it"),
    "rw-register-valid-different-keys": (True, [], "no conflicts"),
    "rw-register-valid-overwrite-read": (True, [], "the read sees the last write"),
    "rw-register-valid-read-nil": (
        "unknown",
        ["empty-transaction-graph"],
        "one transaction alone: nothing is ordered, so nothing is tested (Elle's rule)",
    ),
    "rw-register-valid-write-only": (True, [], "writes only"),
    "rw-register-keys-sequential-valid": (True, [], "every process sees versions in order"),
    "rw-register-keys-linearizable-valid": (True, [], "every read sees the latest completed write"),
    "rw-register-keys-wfr-valid": (
        False,
        ["garbage-read"],
        "writes follow reads consistently, but process 2 reads x = 5, which nobody wrote: "
        + GARBAGE,
    ),
    "rw-register-transaction-order-valid": (
        True,
        [],
        "writes 1, 2 then a read of 2 by another process, committed in that order (the "
        "transaction-order option): consistent",
    ),
    "rw-register-model-snapshot-isolation": (
        True,
        [],
        "write skew (G2-item) is allowed by snapshot isolation",
    ),
    "rw-register-partial-info": (True, [], "indeterminate reads tell nothing"),
    "rw-register-valid-repeat-read": (True, [], "two reads of one key agree"),
}


def _options(case: dict) -> CheckOptions:
    o = case["options"]
    return CheckOptions(
        models=tuple(o.get("consistency-models", ["strict-serializable"])),
        workload=case["workload"],
        wfr_keys=bool(o.get("wfr-keys")),
        sequential_keys=bool(o.get("sequential-keys")),
        linearizable_keys=bool(o.get("linearizable-keys")),
        transaction_order=_transaction_order(case),
    )


def _transaction_order(case: dict) -> TransactionOrder | None:
    """The case's transaction-order option (op index -> position; string keys in the manifests)."""
    given = case["options"].get("transaction-order")
    if given is None:
        return None
    return TransactionOrder.from_pairs(list(given.items()), f"{case['case']} transaction-order")


CASES = [
    c
    for c in _manifest()
    if c.get("history") or c.get("history_candidate") or c["case"] == "manifest-missing"
]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_elle_cli_case(case):
    _require_data()
    history = ELLE_CLI / (case.get("history") or case["history_candidate"])
    result = check(load_history(str(history)), _options(case))
    name = case["case"]
    if case.get("expected"):
        expected = json.loads((ELLE_CLI / case["expected"]).read_text())
        verdict = VERDICT_DIFFERENCES.get(name, {})
        assert result.valid == verdict.get("valid?", expected["valid?"])
        if name in DIFFERENCES:
            assert _comparable(result.anomaly_types) == DIFFERENCES[name][0]
        else:
            assert _comparable(result.anomaly_types) == _comparable(expected.get("anomaly-types"))
        if "not" in verdict:
            assert result.not_ == verdict["not"]
        elif expected.get("not") is not None:
            assert result.not_ == sorted(expected["not"])
            assert result.also_not == sorted(expected["also-not"])
    else:
        valid, types, _why = STATED[name]
        assert result.valid == valid
        assert result.anomaly_types == types


def test_every_case_without_a_result_has_a_stated_verdict():
    _require_data()
    missing = [c["case"] for c in CASES if not c.get("expected") and c["case"] not in STATED]
    assert missing == []


def test_cases_without_history_are_the_documented_ones():
    _require_data()
    none = sorted(
        c["case"] for c in _manifest() if not c.get("history") and not c.get("history_candidate")
    )
    assert none == ["list-append-valid-empty", "rw-register-valid-empty"]


def test_empty_history_is_undecided():
    """The two cases upstream without a file: an empty history. Nothing ran, nothing is ordered."""
    result = check(parse_history_text("", source="empty.jsonl", format="jsonl"))
    assert result.valid == "unknown"
    assert result.anomaly_types == ["empty-transaction-graph"]


def test_elle_paper_example():
    _require_data()
    result = check(load_history(str(ELLE / "paper-example.edn")))
    assert result.valid is False
    assert result.anomaly_types == ["G-single-item"]  # Elle's G-single on item (key) edges


def test_elle_si_without_g_single():
    _require_data()
    result = check(
        load_history(str(ELLE / "si-without-g-single.edn")),
        CheckOptions(models=("snapshot-isolation", "repeatable-read")),
    )
    assert result.valid is False
    assert result.anomaly_types == ["G2-item"]
    assert result.not_ == ["repeatable-read"]


def test_elle_huge_scc_is_decided():
    """Elle's search times out here (cycle-search-timeout); ours must decide."""
    _require_data()
    result = check(load_history(str(ELLE / "huge-scc.edn")))
    assert result.valid is False
    assert "cycle-search-timeout" not in result.anomaly_types
    assert result.anomaly_types == ["G-single-item-realtime"]
    assert result.not_ == ["strong-snapshot-isolation"]
    cycle = result.anomalies["G-single-item-realtime"][0]
    assert [s["type"] for s in cycle["steps"]] == ["rw", "realtime"]


# --- Elle's own unit tests (../shared/conformance/elle-tests/, see its SOURCE.md) ---------------

ELLE_TESTS = ROOT / "elle-tests"


def _elle_tests_manifest() -> list[dict]:
    path = ELLE_TESTS / "manifest.json"
    if not path.exists():
        return [{"case": "manifest-missing"}]
    return json.loads(path.read_text())


# Deliberate differences: case -> (what we give instead of Elle's expected keys, reason). Each is
# explained in docs/elle-differences.md under the case's name. "error": the input is refused
# (exit 2) with a message holding this text.
ELLE_TEST_DIFFERENCES: dict[str, tuple[dict, str]] = {
    "la-duplicated-elements": (
        {"anomaly-types": ["G0", "duplicate-elements"]},
        "x read as [1 2 1] puts 1 both before and after 2: a ww cycle (G0), which implies Elle's G1c",
    ),
    "la-g-nonadjacent": (
        {"anomaly-types": ["G-nonadjacent-item", "G-single-item-realtime"]},
        "the last txn began after the first completed yet read x empty: a named two-step "
        "G-single-item-realtime, which Elle's search cannot take because the step between is also rw",
    ),
    "la-lost-update": (
        {"anomaly-types": ["G-single-item-realtime", "G2-item", "lost-update"]},
        "as list-append-anomaly-lost-update: the second updater began after the first completed",
    ),
    "la-unfindable-g-single": (
        {"anomaly-types": ["G-single-item"], "not": ["consistent-view", "repeatable-read"]},
        "Elle's G-single search times out; ours decides it and names the 1000-step cycle, "
        "so `not` is the weaker (more precise) consistent-view",
    ),
    "rw-g1b-anomalies-g0": (
        {"valid?": True, "anomaly-types": [], "not": []},
        "we draw the wr edge from the intermediate write the read saw, so the graph is not empty; "
        "G1b is not forbidden by the requested G0, so the history is valid",
    ),
    "la-future-read-external": (
        {"valid?": False, "anomaly-types": ["future-read", "garbage-read"]},
        "x read as [0 1 2] when only 1 was appended: " + GARBAGE,
    ),
    "rw-read-unwritten-linearizable-keys": (
        {"valid?": False, "anomaly-types": ["garbage-read"]},
        "x = 2 read, only x = 1 written: " + GARBAGE,
    ),
    "rw-read-read-linearizable-keys": (
        {
            "valid?": False,
            "anomaly-types": ["cyclic-versions", "garbage-read"],
            "not": GARBAGE_BOUNDARY,
        },
        "x = 2 read, only x = 1 written: " + GARBAGE,
    ),
    "rw-g2-item-read-committed-linearizable-keys": (
        {"valid?": False, "anomaly-types": ["garbage-read"]},
        "x = 1 and y = 1 read, only x = 2 and y = 2 written: " + GARBAGE,
    ),
    "rw-internal": (
        {"valid?": False, "anomaly-types": ["internal"], "not": GARBAGE_BOUNDARY},
        "x read as 1 then 2 and nothing written: "
        + GARBAGE
        + " (not asked for, but it moves `not`)",
    ),
    "rw-wfr-off-serializable": (
        {"valid?": False, "anomaly-types": ["garbage-read"]},
        "y = 1 read, only y = 2 written: " + GARBAGE,
    ),
    "rw-wfr-on-serializable": (
        {
            "valid?": False,
            "anomaly-types": ["G-single-item", "garbage-read"],
            "not": GARBAGE_BOUNDARY,
        },
        "y = 1 read, only y = 2 written: " + GARBAGE,
    ),
    "rw-lost-update": (
        {
            "valid?": False,
            "anomaly-types": ["garbage-read", "lost-update"],
            "not": GARBAGE_BOUNDARY,
        },
        "x = 0 read, only x = 1 and x = 2 written: " + GARBAGE,
    ),
    "rw-scc-sort-bug": (
        {
            "valid?": False,
            "anomaly-types": ["G1c-realtime", "cyclic-versions", "garbage-read"],
            "not": GARBAGE_BOUNDARY,
        },  # fmt: skip
        "x = 1 read, only x = 3 and x = 4 written: " + GARBAGE,
    ),
    "rw-initial-state-serializable": (
        {"error": "process 0 invoked a new op while its op at line 2 had not completed"},
        "two overlapping transactions on one process: we refuse to guess the pairing",
    ),
}

# Known gaps, not differences on purpose: what we give today. The test fails if a case starts to
# match Elle, so that the entry is removed with the work that closes it.
ELLE_TEST_GAPS: dict[str, tuple[dict, str]] = {}

ELLE_TEST_OPTIONS = {
    "consistency-models",
    "anomalies",
    "wfr-keys?",
    "sequential-keys?",
    "linearizable-keys?",
    "transaction-order",
}


def _elle_test_options(case: dict) -> CheckOptions:
    o = case["options"]
    unknown = set(o) - ELLE_TEST_OPTIONS
    assert not unknown, f"{case['case']}: options the test does not pass on: {unknown}"
    models = o.get("consistency-models", ["strict-serializable"])
    return CheckOptions(
        models=tuple(models or ()),
        workload=case["workload"],
        anomalies=tuple(o.get("anomalies", ())),
        wfr_keys=bool(o.get("wfr-keys?")),
        sequential_keys=bool(o.get("sequential-keys?")),
        linearizable_keys=bool(o.get("linearizable-keys?")),
        transaction_order=_transaction_order(case),
    )


def _observed(case: dict) -> dict:
    """Our result in the manifest's terms: the keys Elle's expectation names."""
    try:
        result = check(load_history(str(ELLE_TESTS / case["history"])), _elle_test_options(case))
    except HistoryError as e:
        return {"error": str(e)}
    out = {"valid?": result.valid, "anomaly-types": _comparable(result.anomaly_types)}
    out["not"], out["also-not"] = result.not_, result.also_not
    return out


def _disagreements(observed: dict, wanted: dict) -> dict:
    """Each key of `wanted` that `observed` does not match: key -> (observed, wanted)."""
    if "error" in wanted or "error" in observed:
        ok = "error" in wanted and wanted["error"] in observed.get("error", "")
        return {} if ok else {"error": (observed.get("error"), wanted.get("error"))}
    out = {}
    for key, want in wanted.items():
        got = observed[key]
        if key in ("anomaly-types", "not", "also-not"):
            want = _comparable(want) if key == "anomaly-types" else sorted(want)
        if got != want:
            out[key] = (got, want)
    return out


ELLE_TEST_CASES = _elle_tests_manifest()


def _require_elle_tests() -> None:
    if not (ELLE_TESTS / "manifest.json").exists():
        msg = f"Elle's test cases not found at {ELLE_TESTS} (set MVCC_CHECK_CONFORMANCE)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; under CI their absence is a failure")
        pytest.skip(msg)


@pytest.mark.parametrize("case", ELLE_TEST_CASES, ids=[c["case"] for c in ELLE_TEST_CASES])
def test_elle_unit_test_case(case):
    """Elle's expected result, or the listed difference, or the listed gap: nothing else."""
    _require_elle_tests()
    name = case["case"]
    observed = _observed(case)
    elle = _disagreements(observed, case["expected"])
    if name in ELLE_TEST_GAPS:
        assert elle, f"{name} now matches Elle: remove it from ELLE_TEST_GAPS (and the docs)"
        assert _disagreements(observed, ELLE_TEST_GAPS[name][0]) == {}
    elif name in ELLE_TEST_DIFFERENCES:
        assert elle, f"{name} now matches Elle: remove it from ELLE_TEST_DIFFERENCES (and the docs)"
        assert _disagreements(observed, ELLE_TEST_DIFFERENCES[name][0]) == {}
    else:
        assert elle == {}, f"{name} differs from Elle (ours, Elle's): {elle}"


def test_every_listed_elle_test_difference_is_a_case_and_documented():
    _require_elle_tests()
    names = {c["case"] for c in ELLE_TEST_CASES}
    listed = set(ELLE_TEST_DIFFERENCES) | set(ELLE_TEST_GAPS)
    assert listed <= names
    doc = (Path(__file__).resolve().parents[1] / "docs" / "elle-differences.md").read_text()
    assert [n for n in sorted(listed) if f"`{n}`" not in doc] == []


def test_overlapping_txns_on_one_process_agree_with_elle_once_apart():
    """rw-initial-state is refused only for its pairing: with the second transaction on a
    process of its own, the verdict is Elle's (G-single-item under serializable)."""
    _require_elle_tests()
    (case,) = [c for c in ELLE_TEST_CASES if c["case"] == "rw-initial-state-serializable"]
    text = (ELLE_TESTS / case["history"]).read_text()
    moved = [
        line.replace(":process 0", ":process 1") if ":value [[:w :y 1]" in line else line
        for line in text.splitlines()
    ]
    history = parse_history_text("\n".join(moved), source="rw-initial-state.edn", format="edn")
    result = check(history, _elle_test_options(case))
    observed = {"valid?": result.valid, "anomaly-types": _comparable(result.anomaly_types)}
    observed["not"], observed["also-not"] = result.not_, result.also_not
    assert _disagreements(observed, case["expected"]) == {}
