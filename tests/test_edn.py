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


# -- lines of the usual shape, rewritten as JSON in C (`_scan.edn_lines`) ------------

TRICKY = (
    [
        "007", "+5", "-0", "-", "1N", "2.5", "1/2", "123456789012345678", "1234567890123456789",
        '"plain"', '"a\\\\b"', '"q\\"t"', '"é"', "nilx", "truex", ":a/b", ":a.b", "::x", ":a'b",
        "#{1}", "{:k 1}", "(1 2)", "sym", "\\\\c", ":x[1]", "[1][2]", '"a""b"', ":k,", "true,",
        "[nil:x]", "[1:x]", "[:a:b]", '["s":k]', "[true[1]]", "[-1-2]",
    ]
)  # fmt: skip
_tricky = st.sampled_from(TRICKY)
_edn_value = st.recursive(
    st.one_of(scalar, scalar, scalar, _tricky),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + " ".join(xs) + "]"),
    max_leaves=10,
)
_edn_key = st.one_of(keyword, st.sampled_from([":type", ":index", ":x_y", "1", '"s"', ":"]))
_edn_line = st.tuples(
    st.lists(st.tuples(_edn_key, _edn_value), max_size=6),
    st.sampled_from([", ", " ", ",", "\t", " , "]),
    st.sampled_from(["", " ", "\r", ", ", " ;c", "}"]),
).map(lambda t: "{" + t[1].join(f"{k} {v}" for k, v in t[0]) + "}" + t[2])


def _rewrite_agrees(lines: list[str]) -> None:
    """edn_lines rewrites each line as the exact reader's value, types included, or
    lists it as a miss, with its span; lines stay line for line."""
    import orjson

    from mvcc_check.history import _scan

    data = "\n".join(lines).encode()
    json, misses = _scan.edn_lines(data, 0, len(data))
    out = json.split(b"\n")
    assert len(out) == len(lines) + 1 and out[-1] == b""  # (each line ended by a newline)
    missed = {i: data[lo:hi] for i, lo, hi in misses}
    for i, line in enumerate(lines):
        if i in missed:
            assert out[i] == b"" and missed[i] == line.encode()
            continue
        assert _typed(orjson.loads(out[i])) == _typed(loads_all(line)[0]), line


def test_c_rewrite_of_each_tricky_token_in_a_plain_line():
    """Each token edn.py reads otherwise than JSON would, alone in a plain op map."""
    lines = []
    for tok in TRICKY:
        lines += [f"{{:type :ok, :k {tok}}}", f"{{:v [{tok}], :type :ok}}", f"{{:k [1 {tok} 2]}}"]
    _rewrite_agrees(lines)


def _typed(x):
    """x with every scalar tagged by its type: 1 and True, 1 and 1.0 differ."""
    if isinstance(x, dict):
        return {k: _typed(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_typed(e) for e in x]
    return (type(x).__name__, x)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_edn_line, op_map, st.just("")), min_size=1, max_size=6))
def test_c_rewrite_reads_as_the_exact_reader_reads_it(lines):
    _rewrite_agrees(lines)
