"""Shrinking recorded histories: ddmin itself, then real recorded histories (the built-in
engine's, and PostgreSQL's) shrunk by `mvcc-check shrink`, each result judged again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mvcc_check import CheckOptions, check, load_history, parse_history_text
from mvcc_check.cli import main
from mvcc_check.lab.shrink_history import ddmin, ops_jsonl, shrink_history, transactions

REPO = Path(__file__).resolve().parents[1]


@given(
    st.integers(2, 300).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1, max_size=5))
    )
)
def test_ddmin_finds_exactly_the_needed_items(case):
    n, needed = case
    calls = []

    def test(items):
        calls.append(len(items))
        return needed <= set(items)

    assert sorted(ddmin(list(range(n)), test)) == sorted(needed)


def test_ddmin_result_is_one_minimal_for_a_non_monotone_test():
    # holds when an even number of the "odd" items are in, and 7 is: many minimal answers
    def test(items):
        s = set(items)
        return 7 in s and len(s & {1, 3, 5}) % 2 == 0

    got = ddmin(list(range(20)), test)
    assert test(got)
    assert all(not test([x for x in got if x != y]) for y in got)


def test_transactions_pair_invocations_with_their_completions():
    text = (
        '{"type":"invoke","process":0,"value":[["append","x",1]]}\n'
        '{"type":"invoke","process":1,"value":[["r","x",null]]}\n'
        '{"type":"ok","process":1,"value":[["r","x",[]]]}\n'
        '{"type":"invoke","process":2,"value":[["append","y",1]]}\n'
        '{"type":"ok","process":0,"value":[["append","x",1]]}\n'
        '{"type":"ok","process":3,"value":[["r","y",[1]]]}\n'
    )
    ops = parse_history_text(text, format="jsonl").ops
    assert transactions(ops) == [(0, 4), (1, 2), (3,), (5,)]


@pytest.fixture(scope="module")
def engine_history(tmp_path_factory) -> Path:
    """A recorded engine run whose first-updater check is broken: lost updates and more."""
    path = tmp_path_factory.mktemp("shrink") / "run.jsonl"
    r = CliRunner().invoke(
        main, ["run", "--bug", "skip-first-updater", "-n", "1500", "--save", str(path)]
    )
    assert r.exit_code == 1, r.output
    return path


def _shows(path: Path, model: str, anomaly: str, drop: int | None = None) -> bool:
    lines = path.read_text().splitlines(keepends=True)
    if drop is not None:
        ops = parse_history_text("".join(lines), format="jsonl").ops
        gone = set(transactions(ops)[drop])
        lines = [line for i, line in enumerate(lines) if i not in gone]
    h = parse_history_text("".join(lines), source=str(path), format="jsonl")
    result = check(h, CheckOptions(models=(model,), anomalies=(anomaly,)))
    return result.valid is False and anomaly in result.anomaly_types


def _assert_shrunk(original: Path, saved: Path, model: str, anomaly: str) -> list[dict]:
    """The saved sub-history: a subset of the original's ops, in order, that shows the
    anomaly on its own and loses it when any one transaction is removed."""
    kept = [json.loads(line) for line in saved.read_text().splitlines()]
    by_index = {op.index: op for op in load_history(str(original)).ops}
    assert [op["index"] for op in kept] == sorted(op["index"] for op in kept)
    for op in kept:
        recorded = by_index[op["index"]].to_json()
        assert (recorded["type"], recorded["process"], recorded["value"]) == (
            op["type"],
            op["process"],
            op["value"],
        )
    assert _shows(saved, model, anomaly)
    units = transactions(load_history(str(saved)).ops)
    for k in range(len(units)):
        assert not _shows(saved, model, anomaly, drop=k), f"transaction {k} was not needed"
    return kept


@pytest.mark.parametrize(
    "model, anomaly", [("snapshot-isolation", "lost-update"), ("serializable", "G2-item")]
)
def test_shrink_command_on_a_recorded_engine_run(engine_history, tmp_path, model, anomaly):
    out = tmp_path / "min.jsonl"
    args = ["shrink", str(engine_history), "-m", model, "--anomaly", anomaly, "--save", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert f"still showing {anomaly}" in r.stdout and "1500 transactions" in r.stdout
    kept = _assert_shrunk(engine_history, out, model, anomaly)
    assert len(kept) <= 8


def test_ddmin_from_the_whole_history_when_the_example_does_not_do(engine_history):
    """The same answer quality without the checker's example to start from."""
    history = load_history(str(engine_history))
    options = CheckOptions(models=("snapshot-isolation",))
    original = check(history, options)
    blind = dataclasses.replace(original, anomalies={})
    shrunk = shrink_history(history, options, "lost-update", blind)
    assert not shrunk.from_example and shrunk.checks > 10
    assert shrunk.txns == 2 and shrunk.result.valid is False
    again = check(parse_history_text(ops_jsonl(shrunk.ops), format="jsonl"), options)
    assert "lost-update" in again.anomaly_types


def test_same_shrink_same_bytes(engine_history, tmp_path):
    outs = []
    for name in ("a.jsonl", "b.jsonl"):
        r = CliRunner().invoke(
            main,
            ["shrink", str(engine_history), "-m", "serializable", "--save", str(tmp_path / name)],
        )
        outs.append(r.stdout.replace(name, "X"))
    assert outs[0] == outs[1]
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_nothing_to_shrink(tmp_path):
    valid = REPO / "histories" / "serial.jsonl"
    r = CliRunner().invoke(main, ["shrink", str(valid), "--save", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 0 and "nothing to shrink" in r.stderr
    assert not (tmp_path / "x.jsonl").exists()
    skew = REPO / "histories" / "write-skew.edn"
    r = CliRunner().invoke(main, ["shrink", str(skew), "-m", "serializable", "--anomaly", "G0"])
    assert r.exit_code == 1 and "G0 is not among the anomalies found (G2-item)" in r.stderr


def test_save_as_json_array_and_refuse_edn(engine_history, tmp_path):
    out = tmp_path / "min.json"
    r = CliRunner().invoke(
        main, ["shrink", str(engine_history), "-m", "serializable", "--save", str(out)]
    )
    assert r.exit_code == 1
    assert isinstance(json.loads(out.read_text()), list)
    r = CliRunner().invoke(main, ["shrink", str(engine_history), "--save", str(tmp_path / "x.edn")])
    assert r.exit_code == 2


@pytest.mark.db
def test_shrink_a_postgresql_repeatable_read_run_to_its_write_skew(pg_server, tmp_path):
    run = tmp_path / "rr.jsonl"
    r = CliRunner().invoke(
        main,
        [
            "test",
            "--db",
            pg_server.url,
            "-i",
            "repeatable-read",
            "--txns",
            "1500",
            "--model",
            "serializable",
            "--save",
            str(run),
        ],
    )
    assert r.exit_code == 1, r.output  # PostgreSQL's repeatable read is snapshot isolation
    out = tmp_path / "rr.min.jsonl"
    r = CliRunner().invoke(main, ["shrink", str(run), "-m", "serializable", "--save", str(out)])
    assert r.exit_code == 1, r.output
    assert "still showing G2-item" in r.stdout
    kept = _assert_shrunk(run, out, "serializable", "G2-item")
    assert len(kept) == 4  # two transactions: the textbook write skew
