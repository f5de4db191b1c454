"""`check --transaction-order FILE`: Elle's known commit order for rw-register.

Each key's final writes by the placed transactions follow one another in
commit order; a transaction the order leaves out gives no fact; a bad file is
one line naming it, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from mvcc_check import CheckOptions, OptionError, TransactionOrder, check, parse_history_text
from mvcc_check.cli import main
from mvcc_check.history.txn_order import read_transaction_order

# Elle's unit test "G-single transaction-order": completions only, indices 0 and 1.
G_SINGLE = (
    '{"type": "ok", "process": 0, "index": 0, "value": [["r", "x", null], ["w", "y", 2]]}\n'
    '{"type": "ok", "process": 0, "index": 1, "value": [["w", "x", 3], ["w", "y", 4]]}\n'
)


def run(*args: str | Path):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def _files(tmp_path: Path, history: str, order: str) -> tuple[Path, Path]:
    h, o = tmp_path / "h.jsonl", tmp_path / "order.json"
    h.write_text(history)
    o.write_text(order)
    return h, o


def test_commit_order_makes_the_g_single_and_says_why(tmp_path):
    h, o = _files(tmp_path, G_SINGLE, '{"0": 2, "1": 1}')
    assert run(h, "-m", "serializable").exit_code == 0  # without the order: nothing is ordered
    r = run(h, "-m", "serializable", "--transaction-order", o)
    assert r.exit_code == 1, r.output
    assert "G-single-item" in r.stdout
    assert "T2 wrote 4 to key y and T1 wrote 2 right after it" in r.stdout
    assert "transaction-order says T2 committed before T1: positions 1 and 2" in r.stdout
    doc = json.loads(run(h, "-m", "serializable", "--transaction-order", o, "-o", "json").stdout)
    schema = json.loads((Path(__file__).parents[1] / "docs" / "result.schema.json").read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["mvcc-check"]["options"]["transaction-order"] == str(o)
    steps = doc["anomalies"]["G-single-item"][0]["steps"]
    ww = [s for s in steps if s["type"] == "ww"]
    assert ww[0]["transaction-order"] == {
        "earlier": {"index": 1, "position": 1},
        "later": {"index": 0, "position": 2},
    }


def test_the_other_commit_order_is_consistent(tmp_path):
    h, o = _files(tmp_path, G_SINGLE, '{"0": 1, "1": 2}')
    assert run(h, "-m", "serializable", "--transaction-order", o).exit_code == 0


def test_integer_keys_and_any_integer_positions():
    order = TransactionOrder.from_pairs([(0, -5), ("1", 10**30)], "given")
    result = check(
        parse_history_text(G_SINGLE, source="h.jsonl", format="jsonl"),
        CheckOptions(models=("serializable",), transaction_order=order),
    )
    assert result.valid is True  # T1 (-5) before T2 (10**30): consistent
    order = TransactionOrder.from_pairs([(0, 10**30), ("1", -5)], "given")
    result = check(
        parse_history_text(G_SINGLE, source="h.jsonl", format="jsonl"),
        CheckOptions(models=("serializable",), transaction_order=order),
    )
    assert result.anomaly_types == ["G-single-item"]


def _register(*txns: tuple[str, list]) -> str:
    """Completions only (index = line - 1): (type, micro-ops) each, one process each."""
    return "".join(
        json.dumps({"type": t, "process": i, "index": i, "value": mops}) + "\n"
        for i, (t, mops) in enumerate(txns)
    )


def test_a_transaction_the_order_leaves_out_gives_no_fact(tmp_path):
    """T0 and T1 write y; only T1 is placed, so nothing orders y's versions 1 and 2
    (Elle would sort the unplaced T0 first and find T1 < T0 from x)."""
    history = _register(
        ("ok", [["w", "y", 1]]),
        ("ok", [["r", "y", None], ["w", "y", 2], ["w", "x", 1]]),
        ("ok", [["w", "x", 2], ["r", "y", 1]]),
    )
    h, o = _files(tmp_path, history, '{"1": 0, "2": 1}')
    r = run(h, "-m", "serializable", "--transaction-order", o)
    assert r.exit_code == 0, r.output
    # With T0 placed first, y: 1 < 2, so T2 (read y = 1) < T1, and x: 1 < 2 gives T1 < T2.
    o.write_text('{"0": 0, "1": 1, "2": 2}')
    r = run(h, "-m", "serializable", "--transaction-order", o)
    assert r.exit_code == 1 and "G-single-item" in r.stdout, r.output


def test_an_info_transaction_the_order_places_gets_its_edges(tmp_path):
    """T1 (info, never read) is placed between T0 and T2: x 1 < 2 (T2 read 1, so
    T2 < T1), y 2 < 3 (T1 < T2): a cycle only if the placed info txn gets edges."""
    history = _register(
        ("ok", [["w", "x", 1]]),
        ("info", [["w", "x", 2], ["w", "y", 2]]),
        ("ok", [["r", "x", 1], ["w", "y", 3]]),
    )
    h, o = _files(tmp_path, history, '{"0": 0, "1": 1, "2": 2}')
    r = run(h, "-m", "serializable", "--transaction-order", o)
    assert r.exit_code == 1, r.output
    assert "G-single-item" in r.stdout
    o.write_text('{"0": 0, "2": 2}')  # the info txn not placed: nothing says it committed
    assert run(h, "-m", "serializable", "--transaction-order", o).exit_code == 0


def test_a_failed_transactions_position_is_ignored(tmp_path):
    history = _register(
        ("ok", [["w", "x", 1]]),
        ("fail", [["w", "x", 2], ["w", "y", 2]]),
        ("ok", [["r", "x", 1], ["w", "y", 3]]),
    )
    h, o = _files(tmp_path, history, '{"0": 0, "1": 1, "2": 2}')
    r = run(h, "-m", "serializable", "--transaction-order", o)
    assert r.exit_code == 0, r.output


INVOKED = (
    '{"type": "invoke", "process": 0, "index": 0, "value": [["w", "x", 1]]}\n'
    '{"type": "ok", "process": 0, "index": 1, "value": [["w", "x", 1]]}\n'
    '{"type": "invoke", "process": 1, "index": 2, "value": [["r", "x", null]]}\n'
    '{"type": "ok", "process": 1, "index": 3, "value": [["r", "x", 1]]}\n'
)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{1: 2}", "not JSON"),
        ('[["1", 0]]', "must be a JSON object from op index to position"),
        ('{"1": 1.5}', "the position of op index 1 is 1.5, not an integer"),
        ('{"1": "0"}', "the position of op index 1 is '0', not an integer"),
        ('{"1": true}', "not an integer"),
        ('{"x": 0}', "key 'x' is not an op index"),
        ('{"1": 0, "3": 0}', "position 0 is given twice"),
        ('{"1": 0, "01": 1}', "op index 1 is given twice"),
        ('{"1": 0, "1": 1}', "op index 1 is given twice"),
        ('{"0": 0}', "op index 0 is an invocation in"),
        ('{"1": 0, "9": 1}', "has index 9"),
    ],
)
def test_a_bad_order_file_is_one_line_naming_it(tmp_path, content, problem):
    h, o = _files(tmp_path, INVOKED, content)
    r = run(h, "--transaction-order", o)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(o) in lines[0] and problem in lines[0], lines[0]
    assert "Traceback" not in r.stderr


def test_a_missing_order_file_is_one_line(tmp_path):
    h, _ = _files(tmp_path, INVOKED, "{}")
    r = run(h, "--transaction-order", tmp_path / "nope.json")
    assert r.exit_code == 2
    assert "nope.json" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_list_append_history_refuses_a_transaction_order(tmp_path):
    history = '{"type": "ok", "process": 0, "index": 0, "value": [["append", "x", 1]]}\n'
    h, o = _files(tmp_path, history, '{"0": 0}')
    r = run(h, "--transaction-order", o)
    assert r.exit_code == 2
    assert "applies to rw-register histories" in r.stderr and str(o) in r.stderr


def test_the_reader_keeps_every_pair(tmp_path):
    p = tmp_path / "o.json"
    p.write_text('{"3": 1, "1": 0}')
    order = read_transaction_order(str(p))
    assert order.index == (3, 1) and order.position == (1, 0)
    with pytest.raises(OptionError):
        TransactionOrder.from_pairs([("1", None)])
