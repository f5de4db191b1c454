from hypothesis import given, settings
from hypothesis import strategies as st

from mvcc_check.workload import TxnGenerator, WorkloadSpec, transactions

specs = st.builds(
    WorkloadSpec,
    workload=st.sampled_from(["list-append", "rw-register"]),
    txns=st.integers(0, 200),
    keys=st.integers(1, 10),
    mops_per_txn=st.integers(1, 6),
    read_fraction=st.floats(0, 1),
    key_dist=st.sampled_from(["uniform", "skewed"]),
    max_writes_per_key=st.integers(0, 5),
    seed=st.integers(0, 2**32),
)


@settings(max_examples=60, deadline=None)
@given(specs)
def test_generation_is_deterministic_and_well_formed(spec):
    a = list(transactions(spec))
    b = list(transactions(spec))
    assert a == b
    assert len(a) == spec.txns
    wf = spec.write_f
    seen: set[tuple[int, int]] = set()
    writes: dict[int, int] = {}
    for txn in a:
        assert 1 <= len(txn) <= spec.mops_per_txn
        for f, k, v in txn:
            assert isinstance(k, int)
            if f == "r":
                assert v is None
            else:
                assert f == wf
                assert (k, v) not in seen, "written values are unique per key"
                seen.add((k, v))
                writes[k] = writes.get(k, 0) + 1
    if spec.max_writes_per_key:
        assert all(n <= spec.max_writes_per_key for n in writes.values())
    active = {k for txn in a for _, k, _ in txn}
    if spec.max_writes_per_key == 0:
        assert active <= set(range(spec.keys))


def test_different_seeds_differ_and_keys_retire():
    a = list(transactions(WorkloadSpec(txns=100, max_writes_per_key=4, seed=1)))
    b = list(transactions(WorkloadSpec(txns=100, seed=2)))
    assert a != b
    keys = {k for t in a for _, k, _ in t}
    assert max(keys) >= 8  # some keys were retired and replaced


def test_skewed_prefers_first_keys():
    spec = WorkloadSpec(txns=2000, keys=10, key_dist="skewed", max_writes_per_key=0, seed=3)
    counts = [0] * 10
    for t in TxnGenerator(spec):
        for _, k, _ in t:
            counts[k] += 1
    assert counts[0] > 3 * counts[9]


def test_rejects_bad_specs():
    import pytest

    with pytest.raises(ValueError):
        WorkloadSpec(workload="bank")
    with pytest.raises(ValueError):
        WorkloadSpec(key_dist="zipf")
    with pytest.raises(ValueError):
        WorkloadSpec(mops_per_txn=0)
