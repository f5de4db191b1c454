"""`mvcc-check elle-cli`: elle-cli's flags, output and exit codes, tried on elle-cli's own
conformance cases (../shared/conformance/elle-cli) through its command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_conformance import (
    CASES,
    DIFFERENCES,
    ELLE_CLI,
    STATED,
    VERDICT_DIFFERENCES,
    _comparable,
    _require_data,
)

from mvcc_check.cli import main

WITH_HISTORY = [c for c in CASES if c.get("history") or c.get("history_candidate")]


def _argv(case: dict) -> list[str]:
    """The case's options as elle-cli flags (-m, -c, -a, -s), plus mvcc-check's version-order
    flags where the case sets them (elle-cli's command line has no way to)."""
    o = case["options"]
    argv = ["-m", case["workload"], "-c", ",".join(o.get("consistency-models", []))]
    argv += ["-a", ",".join(o.get("anomalies", [])), "-s", str(o["cycle-search-timeout"])]
    for flag in ("wfr-keys", "sequential-keys", "linearizable-keys"):
        if o.get(flag):
            argv.append(f"--{flag}")
    return argv


def _expected(case: dict) -> tuple[bool | str, list[str] | None]:
    """valid? and the comparable anomaly types the case expects of us."""
    name = case["case"]
    if case.get("expected"):
        exp = json.loads((ELLE_CLI / case["expected"]).read_text())
        types = DIFFERENCES[name][0] if name in DIFFERENCES else exp.get("anomaly-types")
        return VERDICT_DIFFERENCES.get(name, exp)["valid?"], _comparable(types)
    valid, types, _why = STATED[name]
    return valid, _comparable(types)


def _elle_cli(*args: str):
    return CliRunner().invoke(main, ["elle-cli", *args])


@pytest.mark.parametrize("case", WITH_HISTORY, ids=[c["case"] for c in WITH_HISTORY])
def test_conformance_case_through_elle_cli_flags(case):
    _require_data()
    path = str(ELLE_CLI / (case.get("history") or case["history_candidate"]))
    valid, types = _expected(case)
    text = _elle_cli(*_argv(case), path)
    shown = valid if isinstance(valid, str) else str(valid).lower()
    assert text.stdout == f"{path} \t {shown}\n"
    assert text.exit_code == (1 if valid is False else 0), text.output
    doc = json.loads(_elle_cli(*_argv(case), "-v", "json", path).stdout)
    assert doc["valid?"] == valid
    assert _comparable(doc.get("anomaly-types")) == types
    assert doc["mvcc-check"]["options"]["model"] == case["workload"]


def test_several_files_one_line_each_exit_1_if_any_invalid():
    _require_data()
    valid = str(ELLE_CLI / "list-append-valid-different-keys.json")
    invalid = str(ELLE_CLI / "paper-example.json")
    r = _elle_cli("--model", "list-append", valid, invalid)
    assert r.stdout == f"{valid} \t true\n{invalid} \t false\n"
    assert r.exit_code == 1
    r = _elle_cli("--model=list-append", valid, valid)
    assert r.exit_code == 0


def test_unknown_verdict_exits_0_as_elle_cli():
    _require_data()
    path = str(ELLE_CLI / "rw-register-valid-read-nil.json")
    r = _elle_cli("-m", "rw-register", path)
    assert r.stdout == f"{path} \t unknown\n" and r.exit_code == 0


def test_verbose_and_old_v_flag_print_json_per_file():
    _require_data()
    path = str(ELLE_CLI / "paper-example.json")
    for flags in (["--verbose"], ["-v"], ["-v", "json"], ["--output", "json"]):
        r = _elle_cli("-m", "list-append", *flags, path, path)
        docs = [json.loads(d) for d in r.stdout.replace("}\n{", "}\n\x00{").split("\x00")]
        assert [d["valid?"] for d in docs] == [False, False], flags
        assert docs[0]["anomaly-types"] == ["G-single-item"]
        assert docs[0]["mvcc-check"]["command"] == "elle-cli"
        assert r.exit_code == 1


def test_consistency_models_and_anomalies_are_comma_separated():
    _require_data()
    path = str(ELLE_CLI / "rw-register-anomaly-g2-item.json")
    r = _elle_cli("-m", "rw-register", "-c", "snapshot-isolation", "-v", "json", path)
    assert json.loads(r.stdout)["valid?"] is True  # write skew is allowed by SI
    r = _elle_cli("-m", "rw-register", "-c", "snapshot-isolation,serializable", path)
    assert r.exit_code == 1
    r = _elle_cli("-m", "rw-register", "-c", "snapshot-isolation", "-a", "G0,G2-item", path)
    assert r.exit_code == 1  # -a forbids a further anomaly, as Elle's :anomalies


@pytest.mark.parametrize("fmt", ["json", "edn"])
def test_format_flag(fmt, tmp_path):
    _require_data()
    src = ELLE_CLI / "paper-example.json"
    if fmt == "json":
        path = tmp_path / "history.txt"
        path.write_bytes(src.read_bytes())
    else:
        path = tmp_path / "history.txt"
        path.write_text((ELLE_CLI.parent / "elle" / "paper-example.edn").read_text())
    r = _elle_cli("-m", "list-append", "-f", fmt, str(path))
    assert r.stdout == f"{path} \t false\n", r.output


@pytest.mark.parametrize(
    "model", ["bank", "long-fork", "set", "set-full", "counter", "cas-register", "mutex"]
)
def test_other_elle_cli_models_are_refused_in_one_line(model):
    r = _elle_cli("-m", model, "history.edn")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert model in lines[0] and "list-append, rw-register" in lines[0]


def test_missing_model_and_bad_consistency_model_are_one_line_exit_2():
    for args in (["x.json"], ["-m", "list-append", "-c", "no-such-model", "x.json"]):
        r = _elle_cli(*args)
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.output


def test_missing_file_is_one_line_and_the_others_are_judged():
    _require_data()
    path = str(ELLE_CLI / "paper-example.json")
    r = _elle_cli("-m", "list-append", "no-such-file.json", path)
    assert r.stdout == f"{path} \t false\n"
    assert "no-such-file.json" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.exit_code == 2


def test_plot_directory_gets_the_report(tmp_path):
    """-d DIR writes what `check --report DIR` writes; stdout keeps elle-cli's lines."""
    _require_data()
    out = tmp_path / "plots"
    path = str(ELLE_CLI / "paper-example.json")
    r = _elle_cli("-m", "list-append", "-d", str(out), "-p", "png", path)
    assert r.exit_code == 1 and r.stdout == f"{path} \t false\n"
    assert (out / "index.html").is_file()
    svgs = list(out.rglob("*.svg"))
    assert svgs and all(p.read_text().lstrip().startswith(("<svg", "<?xml")) for p in svgs)
    assert "G-single-item" in (out / "index.html").read_text()


def test_ignored_elle_cli_options_are_accepted():
    _require_data()
    path = str(ELLE_CLI / "paper-example.json")
    r = _elle_cli(
        "-m", "list-append", "-t", "5000", "-b", "65536", "-g", "0", "-n", "-o", "100", path
    )
    assert r.stdout == f"{path} \t false\n" and r.exit_code == 1


def test_as_a_real_process():
    _require_data()
    valid = str(ELLE_CLI / "rw-register-valid-single-write-read.json")
    invalid = str(ELLE_CLI / "rw-register-anomaly-g2-item.json")
    p = subprocess.run(
        [sys.executable, "-m", "mvcc_check.cli", "elle-cli", "-m", "rw-register", valid, invalid],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    )
    assert p.stdout == f"{valid} \t true\n{invalid} \t false\n"
    assert p.returncode == 1 and p.stderr == ""
