from hypothesis import given, settings
from hypothesis import strategies as st

from mvcc_check.history.edn import fast_forms, iter_forms, loads_all


def test_reads_jepsen_op_maps():
    forms = loads_all("{:type :ok, :value [[:append 1 2] [:r 1 [2]]], :process 0} #_ x nil")
    assert forms == [{"type": "ok", "value": [["append", 1, 2], ["r", 1, [2]]], "process": 0}, None]


def test_tagged_records_sets_chars_and_comments():
    forms = loads_all('; c\n#jepsen.history.Op{:index 0, :s #{1 2}, :c \\a, :t "x\\ny"} 1N 2.5 nil')
    assert forms == [{"index": 0, "s": {1, 2}, "c": "a", "t": "x\ny"}, 1, 2.5, None]


keyword = st.sampled_from(
    [":invoke", ":ok", ":fail", ":info", ":append", ":r", ":w", ":txn", ":nemesis", ":a-b"]
)
scalar = st.one_of(st.integers(-(10**6), 10**6).map(str), keyword, st.just("nil"), st.just("true"))
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + " ".join(xs) + "]"),
    max_leaves=12,
)
op_map = st.lists(st.tuples(keyword, value), max_size=6).map(
    lambda kvs: "{" + ", ".join(f"{k} {v}" for k, v in kvs) + "}"
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(op_map, st.just(""), st.just('{:s "str", :v [1 2]}')), min_size=1, max_size=8
    )
)
def test_fast_path_agrees_with_the_exact_reader(lines):
    text = "\n".join(lines)
    fast = fast_forms(text)
    if fast is not None:
        assert fast == list(iter_forms(text))
