"""Issue 15: bad input never breaks the contract, and what is ignored is said.

Each test names the issue's item it holds to. The contract: unusable input is
exit 2 with one line on stderr naming the file, the place (`line N`, `op index
N`) and the problem; a verdict is 0, 1 or 3; a bug in mvcc-check is exit 4.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mvcc_check.cli import main
from mvcc_check.history.readers import load_history, parse_history_text

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "histories"
MVCC_CHECK = [sys.executable, "-m", "mvcc_check.cli"]


def run(*args: str | Path):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def one_line_error(r, name: str, place: str) -> str:
    """The single stderr line of an exit-2 result, which names the file and the place."""
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert name in lines[0] and place in lines[0], lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    return lines[0]


def put(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


APPEND_THEN_READ = (
    '{"type":"invoke","process":0,"value":[["append","x",1]]}\n'
    '{"type":"ok","process":0,"value":[["append","x",1]]}\n'
    '{"type":"invoke","process":1,"value":[["r","x",null]]}\n'
    '{"type":"ok","process":1,"value":[["r","x",[1]]]}\n'
)


# --- 1. integers beyond 64 bits in JSON output -------------------------------


def test_json_output_holds_integers_beyond_64_bits_exactly(tmp_path):
    big = 18446744073709551616
    p = put(
        tmp_path,
        "big.jsonl",
        '{"type":"fail","process":0,"value":[["append","x",1]]}\n'
        f'{{"type":"ok","process":{big},"index":{big * 3},"time":{big},'
        f'"value":[["r","x",[1]],["append",{big},{big + 1}]]}}\n',
    )
    r = run(p, "-o", "json")
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    op = doc["anomalies"]["G1a"][0]["op"]
    assert op["process"] == big and op["index"] == big * 3 and op["time"] == big
    assert op["value"][1] == ["append", big, big + 1]


# --- 2. inputs that used to be internal errors -------------------------------


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("deep.jsonl", '{"type":"ok","process":0,"value":[["r","x",' + "[" * 1000 + "]" * 1000 + "]]}\n", "nested"),
        ("deep.json", '[{"type":"ok","process":0,"value":[["r","x",' + "[" * 1000 + "]" * 1000 + "]]}]", "nested"),
        ("deep.edn", "{:type :ok :process 0 :value [[:r :x " + "[" * 1000 + "]" * 1000 + "]]}\n", "nested"),
        ("ratio.edn", "{:type :ok :process 0 :value [[:append :x 1/0]]}\n", "zero denominator"),
        ("zero.edn", "{:type :ok :process 0 :value [[:append :x 0/0]]}\n", "zero denominator"),
        ("time.edn", "{:type :ok :process 0 :time 1e400 :value [[:append :x 1]]}\n", "out of range"),
        ("digits.edn", "{:type :ok :process 0 :value [[:append :x " + "1" * 5000 + "]]}\n", "4300 digits"),
        ("digits.jsonl", '{"type":"ok","process":0,"value":[["append","x",' + "1" * 5000 + "]]}\n", "out of range"),
    ],
)  # fmt: skip
def test_unreadable_values_are_bad_input_not_internal_errors(tmp_path, name, text, why):
    line = one_line_error(run(put(tmp_path, name, text)), name, "line 1")
    assert why in line and "internal" not in line


def test_nesting_well_within_the_limit_is_read_in_every_format(tmp_path):
    deep = "[" * 60 + "]" * 60
    for name, text in (
        ("ok.jsonl", f'{{"type":"ok","process":0,"value":[["append",{deep},1]]}}\n'),
        ("ok.edn", f"{{:type :ok :process 0 :value [[:append {deep} 1]]}}\n"),
    ):
        r = run(put(tmp_path, name, text), "-o", "json")
        assert r.exit_code == 3, r.stderr  # one transaction: nothing to order
        assert json.loads(r.stdout)["stats"]["txns"] == 1


def test_an_edn_set_used_as_a_key_is_valid_edn(tmp_path):
    text = (
        "{:type :invoke :process 0 :value [[:append #{:a} 1]]}\n"
        "{:type :ok :process 0 :value [[:append #{:a} 1]]}\n"
        "{:type :invoke :process 1 :value [[:r #{:a} nil]]}\n"
        "{:type :ok :process 1 :value [[:r #{:a} [1]]]}\n"
    )
    r = run(put(tmp_path, "set.edn", text), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["valid?"] is True


# --- 3. standard input and pipes, in every format ----------------------------


@pytest.mark.parametrize("name", ["serial.jsonl", "write-skew.edn", "read-skew.json"])
@pytest.mark.parametrize("arg", ["-", "/dev/stdin"])
def test_a_piped_history_is_read_in_every_format(name, arg):
    data = (HISTORIES / name).read_bytes()
    direct = subprocess.run(
        [*MVCC_CHECK, "check", "-o", "json", str(HISTORIES / name)], capture_output=True
    )
    piped = subprocess.run(  # through a real pipe (not a file redirect): not seekable
        f"cat {HISTORIES / name} | {sys.executable} -m mvcc_check.cli check -o json {arg}",
        shell=True,
        capture_output=True,
    )
    assert piped.returncode == direct.returncode, piped.stderr
    assert piped.stderr == b""
    got, want = json.loads(piped.stdout), json.loads(direct.stdout)
    assert got.pop("history") == ("<stdin>" if arg == "-" else arg)
    want.pop("history")
    assert got == want
    assert data  # (the file is not empty: the comparison means something)


def test_stdin_errors_name_stdin():
    r = subprocess.run(
        [*MVCC_CHECK, "check", "-"], input=b'{"type": "ok"}\n', capture_output=True, check=False
    )
    assert r.returncode == 2
    assert r.stderr.decode().strip().startswith("mvcc-check: <stdin>: line 1: ")


# --- 4. internal errors: exit 4, one line, asking for a report ---------------


def _crashing_check(extra_env: dict[str, str], *args: str):
    """The real console script, with check() made to fail as a bug would."""
    code = (
        "import mvcc_check.commands.check as c\n"
        "def boom(*a, **k): raise KeyError('simulated bug')\n"
        "c.check = boom\n"
        "from mvcc_check.cli import run_cli\n"
        "run_cli()\n"
    )
    env = {**os.environ, **extra_env}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )


def test_an_internal_error_exits_4_with_one_line_asking_for_a_report():
    r = _crashing_check({}, "check", str(HISTORIES / "serial.jsonl"))
    assert r.returncode == 4
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" in lines[0] and "please report" in lines[0]
    assert "Traceback" not in r.stderr and "simulated bug" in lines[0]


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"MVCC_CHECK_DEBUG": "1"}, ["check"]),
        ({}, ["--debug", "check"]),
        ({}, ["check", "--debug"]),
    ],
)
def test_the_traceback_is_shown_only_when_asked_for(env, args):
    r = _crashing_check(env, *args, str(HISTORIES / "serial.jsonl"))
    assert r.returncode == 4
    assert "Traceback" in r.stderr and "KeyError" in r.stderr


def test_an_internal_error_wins_over_every_verdict_and_the_others_are_still_checked(tmp_path):
    from mvcc_check.report.verdict import overall_exit_code

    assert overall_exit_code([0, 1, 2, 3, 4]) == 4
    assert overall_exit_code([0, 1, 3]) == 1


def test_exit_code_4_is_documented_in_help_and_readme():
    r = CliRunner().invoke(main, ["--help"])
    assert "4 internal error" in " ".join(r.output.split())
    r = CliRunner().invoke(main, ["check", "--help"])
    assert "4 internal error" in " ".join(r.output.split())
    readme = (ROOT / "README.md").read_text()
    assert "| 4 | internal error" in readme


# --- 5. ignored ops are counted and said --------------------------------------

LOST_UPDATE_WITH_STRING_PROCESS = (
    '{"type":"invoke","process":0,"f":"txn","value":[["append","x",1]]}\n'
    '{"type":"ok","process":0,"f":"txn","value":[["append","x",1]]}\n'
    '{"type":"invoke","process":1,"f":"txn","value":[["r","x",null],["append","x",2]]}\n'
    '{"type":"invoke","process":"2","f":"txn","value":[["r","x",null],["append","x",3]]}\n'
    '{"type":"ok","process":1,"f":"txn","value":[["r","x",[1]],["append","x",2]]}\n'
    '{"type":"ok","process":"2","f":"txn","value":[["r","x",[1]],["append","x",3]]}\n'
    '{"type":"info","process":"nemesis","f":"kill","value":null}\n'
    '{"type":"ok","process":3,"f":"txn","value":[["r","x",[1,2,3]]]}\n'
)


def test_ignored_ops_are_counted_with_the_reason_and_a_client_like_one_is_named(tmp_path):
    p = put(tmp_path, "lu.jsonl", LOST_UPDATE_WITH_STRING_PROCESS)
    r = run(p, "-q")
    assert r.stderr == ""
    assert "ignored 3 ops: process is not an integer" in r.stdout
    assert "line 4 looks like a client transaction" in r.stdout
    r = run(p, "-q", "-o", "json")
    assert r.stderr == ""
    stats = json.loads(r.stdout)["stats"]
    assert stats["ignored"] == 3
    assert list(stats["ignored-why"].values()) == [3]
    assert stats["ignored-client-like"] == "line 4"


def test_a_nemesis_alone_is_counted_but_not_called_client_like(tmp_path):
    text = (
        APPEND_THEN_READ + '{"type":"info","process":"nemesis","f":"start","value":"partition"}\n'
    )
    r = run(put(tmp_path, "n.jsonl", text), "-o", "json")
    stats = json.loads(r.stdout)["stats"]
    assert stats["ignored"] == 1 and "ignored-client-like" not in stats
    r = run(tmp_path / "n.jsonl")
    assert "ignored 1 op:" in r.stdout and "looks like a client" not in r.stdout


def test_ignored_ops_are_found_by_the_typed_and_the_general_reader_alike():
    typed = parse_history_text(
        LOST_UPDATE_WITH_STRING_PROCESS.replace(',"value":null', ',"value":[]')
    )
    general = parse_history_text(LOST_UPDATE_WITH_STRING_PROCESS)
    for h in (typed, general):
        assert h.ignored == 3 and h.client_like == "line 4"


def test_quiet_keeps_stderr_empty_unless_the_input_is_unusable(tmp_path):
    good = put(tmp_path, "lu.jsonl", LOST_UPDATE_WITH_STRING_PROCESS)
    assert run(good, "-q").stderr == ""
    bad = put(tmp_path, "bad.jsonl", '{"type": "nope"}\n')
    assert run(good, bad, "-q").stderr.count("\n") == 1


# --- 6. unknown anomaly names ------------------------------------------------


def test_an_unknown_anomaly_is_an_error_listing_the_known_ones():
    r = run(HISTORIES / "serial.jsonl", "--anomaly", "lost-updates")
    assert r.exit_code == 2
    assert "unknown anomaly 'lost-updates'" in r.stderr
    assert "did you mean lost-update?" in r.stderr and "G-single-item" in r.stderr
    assert run(HISTORIES / "serial.jsonl", "--anomaly", "lost-update").exit_code == 0


# --- 7. invalid UTF-8, EDN control bytes, tags without a value ---------------


@pytest.mark.parametrize(
    ("name", "data", "place"),
    [
        ("u.jsonl", b'{"type":"ok","process":0,"value":[]}\n{"type":"ok","process":0,"f\xff":1,"value":[]}\n', "line 2"),
        ("u.json", b'[{"type":"ok","process":0,"value":[]},\n {"type":"ok","f\xff":1,"value":[]}]', "line 2"),
        ("u.edn", b'{:type :ok :process 0 :value []}\n{:type :ok :process 0 :f "\xff" :value []}\n', "line 2"),
    ],
)  # fmt: skip
def test_invalid_utf8_anywhere_is_an_error_naming_the_place(tmp_path, name, data, place):
    line = one_line_error(run(put(tmp_path, name, data)), name, place)
    assert "UTF-8" in line


def test_edn_control_bytes_are_refused_not_read_as_symbols(tmp_path):
    text = "{:type :ok :process 0 :value [[:append :x 1]]}\n{:type :ok :process 1 :value [[:r :x [\x001]]]}\n"
    line = one_line_error(run(put(tmp_path, "nul.edn", text)), "nul.edn", "line 2")
    assert "control character U+0000" in line


@pytest.mark.parametrize("tail", ["#foo", "#foo\n", "#_", "[#foo]"])
def test_an_edn_tag_or_discard_without_a_value_is_refused(tmp_path, tail):
    text = "{:type :ok :process 0 :value [[:append :x 1]]}\n" + tail
    line = one_line_error(run(put(tmp_path, "tag.edn", text)), "tag.edn", "line 2")
    assert "with no value after it" in line


def test_an_edn_tag_with_its_value_is_kept(tmp_path):
    text = "{:type :ok :process 0 :value [[:append :x #my/int 1]]}\n"
    h = parse_history_text(text, "t.edn")
    assert h.ops[0].value == [["append", "x", 1]]


# --- 8. format from the content, BOM, empty histories -------------------------


def _ops_of(path: Path) -> list:
    return [
        (op.type, op.process, op.index, list(map(list, op.value)))
        for op in load_history(str(path)).ops
    ]


def test_format_follows_the_content_when_the_extension_disagrees(tmp_path):
    ops = [json.loads(line) for line in (HISTORIES / "serial.jsonl").read_text().splitlines()]
    want = _ops_of(HISTORIES / "serial.jsonl")
    for name, text in (
        ("wrapped.json", json.dumps({"history": ops}, indent=2)),
        ("array.jsonl", json.dumps(ops)),
        ("lines.json", (HISTORIES / "serial.jsonl").read_text()),
        ("edn.json", (HISTORIES / "write-skew.edn").read_text()),
        ("noext", json.dumps({"history": ops})),
    ):
        p = put(tmp_path, name, text)
        r = run(p)
        assert r.exit_code in (0, 1), (name, r.stderr)
        if name != "edn.json":
            assert _ops_of(p) == want, name


@pytest.mark.parametrize("name", ["serial.jsonl", "write-skew.edn", "read-skew.json"])
def test_a_byte_order_mark_is_accepted_in_every_format(tmp_path, name):
    p = put(tmp_path, name, b"\xef\xbb\xbf" + (HISTORIES / name).read_bytes())
    assert _ops_of(p) == _ops_of(HISTORIES / name)
    assert run(p).exit_code == run(HISTORIES / name).exit_code


@pytest.mark.parametrize(
    ("name", "text"),
    [("e.jsonl", ""), ("e.json", ""), ("e.edn", ""), ("b.json", "  \n"), ("a.json", "[]"),
     ("w.json", '{"history": []}'), ("v.edn", "[]\n"), ("bom.jsonl", "\ufeff")],
)  # fmt: skip
def test_every_empty_history_is_treated_alike(tmp_path, name, text):
    r = run(put(tmp_path, name, text))
    assert r.exit_code == 3, (name, r.stderr)
    assert r.stderr == ""
    assert "the history holds no ops" in r.stdout


# --- Also: failed and indeterminate transactions' read values are no evidence --


def test_reads_of_failed_and_indeterminate_transactions_never_judge_a_history(tmp_path):
    # A failed txn reporting an impossible list read, and an info one with a scalar:
    # neither committed, so neither can make a verdict or make the history unusable.
    garbage = (
        '{"type":"invoke","process":5,"value":[["r","x",null],["append","y",9]]}\n'
        '{"type":"fail","process":5,"value":[["r","x",[7,7,7]],["append","y",9]]}\n'
        '{"type":"invoke","process":6,"value":[["r","x",null]]}\n'
        '{"type":"info","process":6,"value":[["r","x",42]]}\n'
    )
    clean = APPEND_THEN_READ
    a = run(put(tmp_path, "garbage.jsonl", clean + garbage), "-o", "json")
    b = run(put(tmp_path, "clean.jsonl", clean), "-o", "json")
    assert a.exit_code == b.exit_code == 0, a.stderr
    assert json.loads(a.stdout)["valid?"] is True
    # A malformed micro-op in a failed completion is still refused: well-formedness holds.
    bad = clean + '{"type":"fail","process":7,"value":[["r"]]}\n'
    one_line_error(run(put(tmp_path, "bad.jsonl", bad)), "bad.jsonl", "line 5")


def test_failed_writes_still_count_for_aborted_reads():
    text = (
        '{"type":"invoke","process":0,"value":[["append","x",1]]}\n'
        '{"type":"fail","process":0,"value":[["append","x",1]]}\n'
        '{"type":"invoke","process":1,"value":[["r","x",null]]}\n'
        '{"type":"ok","process":1,"value":[["r","x",[1]]]}\n'
    )
    from mvcc_check import CheckOptions, check

    result = check(parse_history_text(text, "g1a.jsonl"), CheckOptions(models=("read-committed",)))
    assert result.valid is False and "G1a" in result.anomaly_types


# --- 9. messages quote values shortly ----------------------------------------


def test_a_huge_value_gives_a_short_error_line(tmp_path):
    text = '{"type":"ok","process":0,"value":[["bogus","x","' + "v" * 100_000 + '"]]}\n'
    line = one_line_error(run(put(tmp_path, "long.jsonl", text)), "long.jsonl", "line 1")
    assert len(line) < 400
    text = '{"type":"' + "t" * 100_000 + '","process":0,"value":[]}\n'
    line = one_line_error(run(put(tmp_path, "longtype.jsonl", text)), "longtype.jsonl", "line 1")
    assert len(line) < 400


# --- 10. directories and unopenable files are like a missing file ------------


def test_directories_and_unopenable_files_are_one_line_each_and_the_rest_is_checked(tmp_path):
    unopenable = tmp_path / "a-file" / "below-it.jsonl"  # a path through a file: ENOTDIR
    (tmp_path / "a-file").write_text("x")
    r = run(tmp_path, tmp_path / "missing.jsonl", unopenable, HISTORIES / "serial.jsonl")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, r.stderr
    assert "a directory, not a history file" in lines[0]
    assert "no such file" in lines[1] and "cannot open" in lines[2]
    assert "serial.jsonl: VALID" in r.stdout  # the good one was still checked
    assert "Usage" not in r.stderr


# --- 11. every location in one vocabulary ------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "place"),
    [
        ("trunc.json", b'[{"type":"ok","process":0,"value":[]},\n {"type":"ok"', "line 2"),
        ("malformed.json", b'[{"type":"ok","process":0,"value":[]},\n {"type": ok}]', "line 2"),
        ("scalar.json", b"42", "line 1"),
        ("elem.json", b'[{"type":"ok","process":0,"value":[]}, 7]', "op index 1"),
        ("edn-vector.edn", b"[{:type :ok :process 0 :value []}\n {:type :bad}]", "op index 1"),
        ("jsonl.jsonl", b'{"type":"ok","process":0,"value":[]}\n{"type":"ok","process":0}\n', "line 2"),
    ],
)  # fmt: skip
def test_every_error_names_a_line_or_an_op_index(tmp_path, name, data, place):
    line = one_line_error(run(put(tmp_path, name, data)), name, place)
    assert "(byte " not in line  # bytes become columns of the line named


# --- 12. a torn last line -----------------------------------------------------


@pytest.mark.parametrize("name", ["serial.jsonl", "write-skew.edn"])
def test_a_torn_last_line_says_the_recording_was_interrupted_and_can_be_dropped(tmp_path, name):
    whole = (HISTORIES / name).read_bytes()
    p = put(tmp_path, name, whole[:-20])  # killed in the middle of writing the last op
    nlines = whole.count(b"\n")
    line = one_line_error(run(p), name, f"line {nlines}")
    assert "interrupted" in line and "--drop-torn-tail" in line
    r = run(p, "--drop-torn-tail", "-o", "json")
    assert r.exit_code in (0, 1, 3), r.stderr
    stats = json.loads(r.stdout)["stats"]
    assert stats["torn-tail-dropped"] == f"line {nlines}"
    assert stats["ops"] == len(load_history(str(HISTORIES / name)).ops) - 1
    assert "dropped the torn last line" in run(p, "--drop-torn-tail").stdout


def test_a_complete_last_line_without_a_newline_is_kept(tmp_path):
    whole = (HISTORIES / "serial.jsonl").read_bytes().rstrip(b"\n")
    h = load_history(str(put(tmp_path, "s.jsonl", whole)), drop_torn_tail=True)
    assert h.torn_tail is None and len(h.ops) == whole.count(b"\n") + 1


def test_a_bad_line_in_the_middle_is_not_called_torn(tmp_path):
    lines = (HISTORIES / "serial.jsonl").read_text().splitlines(keepends=True)
    lines[2] = lines[2][:-10] + "\n"
    line = one_line_error(run(put(tmp_path, "mid.jsonl", "".join(lines))), "mid.jsonl", "line 3")
    assert "interrupted" not in line
    assert run(tmp_path / "mid.jsonl", "--drop-torn-tail").exit_code == 2


def test_what_a_failed_transaction_read_does_not_decide_the_workload(tmp_path):
    # A register history whose failed txn reports a list read: no evidence of list-append.
    text = (
        '{"type":"invoke","process":0,"value":[["r",0,null],["w",0,0]]}\n'
        '{"type":"ok","process":0,"value":[["r",0,null],["w",0,0]]}\n'
        '{"type":"invoke","process":0,"value":[["r",0,null]]}\n'
        '{"type":"fail","process":0,"value":[["r",0,[0]]]}\n'
    )
    p = put(tmp_path, "reg.jsonl", text)
    for extra in ([], ["-w", "rw-register"]):
        r = run(p, "-o", "json", *extra)
        assert r.exit_code == 3, r.stderr  # one committed txn: nothing to order
        assert json.loads(r.stdout)["workload"] == "rw-register"
