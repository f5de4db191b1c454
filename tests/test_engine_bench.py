from mvcc_check.engine.bench import engine_throughput


def test_bench_reports_each_level():
    out = engine_throughput(levels=("read-committed", "serializable"), txns=400, repeat=1)
    assert [b.level for b in out] == ["read-committed", "serializable"]
    for b in out:
        assert 0 < b.committed <= 400
        assert b.committed_per_s > 0
