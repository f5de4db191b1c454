import os
import signal
import subprocess
import sys
import textwrap

import orjson
from reference.txns import build_txns

from mvcc_check.history import load_history
from mvcc_check.history.recorder import HistoryRecorder


def test_records_exact_keys_and_indices(tmp_path):
    p = tmp_path / "h.jsonl"
    value = [["append", 1, 1], ["r", 1, None]]
    with HistoryRecorder(p) as rec:
        rec.invoke(0, value, time=0)
        value[1][2] = [1]  # the caller mutates its own list; the record must not change
        rec.ok(0, value, time=5)
        rec.invoke(1, [["r", 2, None]], time=6)
        rec.fail(1, [["r", 2, None]], time=7)
    lines = p.read_bytes().splitlines()
    assert len(lines) == 4
    first = orjson.loads(lines[0])
    assert list(first) == ["type", "process", "f", "value", "index", "time"]
    assert first == {
        "type": "invoke",
        "process": 0,
        "f": "txn",
        "value": [["append", 1, 1], ["r", 1, None]],
        "index": 0,
        "time": 0,
    }
    assert [orjson.loads(x)["index"] for x in lines] == [0, 1, 2, 3]
    assert rec.ops[1]["value"] == [["append", 1, 1], ["r", 1, [1]]]
    assert rec.to_jsonl() == p.read_bytes()
    txns = build_txns(load_history(str(p))).txns
    assert [t.status for t in txns] == ["ok", "fail"]


def test_memory_only_and_default_time():
    rec = HistoryRecorder()
    op = rec.invoke(3, [["w", 1, 1]])
    assert op["time"] >= 0 and op["index"] == 0 and len(rec) == 1
    rec.close()


def test_interrupted_run_leaves_a_readable_file(tmp_path):
    p = tmp_path / "h.jsonl"
    script = textwrap.dedent(f"""
        import sys, time
        from mvcc_check.history.recorder import HistoryRecorder
        with HistoryRecorder({str(p)!r}) as rec:
            i = 0
            while True:
                rec.invoke(i % 4, [["append", i, i], ["r", i, None]])
                rec.ok(i % 4, [["append", i, i], ["r", i, [i]]])
                i += 1
                if i == 50:
                    print("ready", flush=True)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    assert proc.stdout.readline().strip() == b"ready"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    h = load_history(str(p))
    assert len(h.ops) >= 100
    assert [op.index for op in h.ops] == list(range(len(h.ops)))
