"""`[r k]`, a read written with two elements, reads as `[r k nil]` in every format.

Elle destructures a micro-op as `[f k v]`, so `[:r :x]` is a read of x with no value
(elle#21, and Elle's own list-append test `wr-process-test` writes it literally).
Only a read may drop its value: an append or a write without one is still an error.
"""

from __future__ import annotations

import json

import pytest

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.errors import HistoryError

# Elle's wr-process-test: T1 reads x (no value yet) and appends y 1, T2 reads y, T2 appends x 1.
EDN = (
    "{:index 0, :type :invoke, :process 1, :value [[:r :x] [:append :y 1]]}\n"
    "{:index 1, :type :ok, :process 1, :value [[:r :x [1]] [:append :y 1]]}\n"
    "{:index 2, :type :invoke, :process 2, :value [[:r :y]]}\n"
    "{:index 3, :type :ok, :process 2, :value [[:r :y [1]]]}\n"
    "{:index 4, :type :invoke, :process 2, :value [[:append :x 1]]}\n"
    "{:index 5, :type :ok, :process 2, :value [[:append :x 1]]}\n"
)
OPS = [
    {"index": 0, "type": "invoke", "process": 1, "value": [["r", "x"], ["append", "y", 1]]},
    {"index": 1, "type": "ok", "process": 1, "value": [["r", "x", [1]], ["append", "y", 1]]},
    {"index": 2, "type": "invoke", "process": 2, "value": [["r", "y"]]},
    {"index": 3, "type": "ok", "process": 2, "value": [["r", "y", [1]]]},
    {"index": 4, "type": "invoke", "process": 2, "value": [["append", "x", 1]]},
    {"index": 5, "type": "ok", "process": 2, "value": [["append", "x", 1]]},
]
TEXTS = {
    "edn": EDN,
    "json": json.dumps(OPS),
    "jsonl": "".join(json.dumps(op) + "\n" for op in OPS),
}


@pytest.mark.parametrize("fmt", sorted(TEXTS))
def test_two_element_read_is_a_read_of_nil(fmt):
    history = parse_history_text(TEXTS[fmt], source=f"h.{fmt}", format=fmt)
    assert [list(m) for m in history.ops[0].value] == [["r", "x", None], ["append", "y", 1]]
    assert [list(m) for m in history.ops[2].value] == [["r", "y", None]]
    # Elle's expectation: T1 read x = [1] from T3, T2 read y = [1] from T1, and T3 follows T2 on
    # process 2: a wr, process, wr cycle, G1c-process.
    result = check(history, CheckOptions(models=("strong-session-snapshot-isolation",)))
    assert result.valid is False
    assert result.anomaly_types == ["G1c-process"]
    assert result.not_ == ["strong-session-read-committed"]


@pytest.mark.parametrize("fmt", sorted(TEXTS))
@pytest.mark.parametrize("mop", [["append", "x"], ["w", "x"], ["r"]])
def test_only_a_read_may_leave_out_its_value(fmt, mop):
    ops = [{"index": 0, "type": "ok", "process": 0, "value": [mop]}]
    text = {
        "edn": "{:type :ok, :process 0, :value [[" + " ".join(f":{e}" for e in mop) + "]]}\n",
        "json": json.dumps(ops),
        "jsonl": json.dumps(ops[0]) + "\n",
    }[fmt]
    with pytest.raises(HistoryError, match="elements, expected 3"):
        parse_history_text(text, source=f"h.{fmt}", format=fmt)
