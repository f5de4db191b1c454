from mvcc_check.engine import BUG_NAMES, LEVEL_NAMES
from mvcc_check.engine.bench import engine_throughput
from mvcc_check.lab.engine_runs import MATRIX_SEEDS, matrix_wall_time


def test_bench_reports_each_level():
    out = engine_throughput(levels=("read-committed", "serializable"), txns=400, repeat=1)
    assert [b.level for b in out] == ["read-committed", "serializable"]
    for b in out:
        assert 0 < b.committed <= 400
        assert b.committed_per_s > 0


def test_matrix_wall_time_is_well_under_a_minute():
    seconds, runs = matrix_wall_time()
    assert runs == (len(LEVEL_NAMES) + len(BUG_NAMES)) * MATRIX_SEEDS
    assert seconds < 30
