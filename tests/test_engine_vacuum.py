"""Vacuum never removes a version a live snapshot can see, and keeps chains short."""

from hypothesis import given, settings
from hypothesis import strategies as st

from mvcc_check.engine import BLOCKED, LEVEL_NAMES, Abort, Engine, run_engine
from mvcc_check.workload import WorkloadSpec

KEYS = ("a", "b", "c")


def check_visibility(e, archive, live):
    """What every live transaction (and a new one) sees must be what it would see with no vacuum."""
    pruned = e.chains
    fresh = e.begin()
    try:
        for t in [*live, fresh]:
            for k in KEYS:
                actual = e.visible(t, k)
                e.chains = archive
                try:
                    expected = e.visible(t, k)
                finally:
                    e.chains = pruned
                assert actual is expected, (t, k, actual, expected)
    finally:
        e.abort(fresh)


@settings(max_examples=200, deadline=None)
@given(
    level=st.sampled_from(LEVEL_NAMES),
    vacuum_every=st.sampled_from([1, 3, 1_000_000]),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["begin", "read", "write", "commit", "abort", "vacuum"]),
            st.integers(0, 7),
            st.sampled_from(KEYS),
        ),
        max_size=120,
    ),
)
def test_vacuum_never_removes_a_visible_version(level, vacuum_every, steps):
    e = Engine(level, vacuum_every=vacuum_every)
    archive = {k: [] for k in KEYS}  # every version ever created, never pruned
    live = []
    value = 0
    for op, i, k in steps:
        if op == "begin" or not live:
            live.append(e.begin())
            continue
        t = live[i % len(live)]
        try:
            if op == "read":
                if e.read(t, k) is BLOCKED:
                    e.abort(t)
                    live.remove(t)
            elif op == "write":
                value += 1
                new = k not in t.writes
                if e.write(t, k, value) is BLOCKED:
                    e.abort(t)
                    live.remove(t)
                elif new:
                    archive[k].append(e.chains[k][-1])
            elif op == "commit":
                live.remove(t)
                e.commit(t)
            elif op == "abort":
                live.remove(t)
                e.abort(t)
            else:
                e.vacuum()
        except Abort:
            if t in live:
                live.remove(t)
        check_visibility(e, archive, live)
    for t in list(live):
        e.abort(t)
    e.vacuum()
    check_visibility(e, archive, [])
    for chain in e.chains.values():
        assert len(chain) <= 1  # with no live snapshot only the newest committed version stays


def test_chains_stay_short_in_long_runs():
    spec = WorkloadSpec(txns=3000, clients=8, keys=4, seed=3)
    for level in LEVEL_NAMES:
        stats = run_engine(level, spec).stats
        assert stats["versions_reclaimed"] > 0.8 * stats["versions_created"], (level, stats)
        assert stats["longest_chain"] <= 40, (level, stats)


def test_the_visibility_check_catches_an_eager_vacuum():
    # The same check as the property test, on the engine with the eager-vacuum bug.
    e = Engine("snapshot-isolation", bugs=("eager-vacuum",))
    archive = {k: [] for k in KEYS}
    t = e.begin()
    e.write(t, "a", 1)
    archive["a"].append(e.chains["a"][-1])
    e.commit(t)
    old = e.begin()
    for v in (2, 3):
        t = e.begin()
        e.write(t, "a", v)
        archive["a"].append(e.chains["a"][-1])
        e.commit(t)
    e.vacuum()
    try:
        check_visibility(e, archive, [old])
    except AssertionError:
        return
    raise AssertionError("eager vacuum went unnoticed")
