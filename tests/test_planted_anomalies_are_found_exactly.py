"""A known mutation, planted on fresh keys next to a random valid history, yields
exactly the anomaly it creates (property tests)."""

from __future__ import annotations

from typing import Any

import orjson
from histgen import check_text
from hypothesis import given
from hypothesis import strategies as st
from tinydb import (
    FAST,
    WORKLOADS,
    plans,
    serial_history,
)

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
