"""--report DIR and --junit FILE: the files each command writes, as a CI system and
a person read them (the browser test is tests/test_report_browser.py).

Real Graphviz renders the plots; "without dot" runs the same command with a PATH
that has no dot on it."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from histgen import History, serial, txn

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.cli import main
from mvcc_check.report.bundle import Report
from mvcc_check.report.cycle_graph import cycle_graph, to_dot
from mvcc_check.report.files import write_html_report
from mvcc_check.report.invocations import find_invocations
from mvcc_check.report.json_report import result_json
from mvcc_check.report.per_model import EXAMPLES_PER_TYPE
from mvcc_check.report.timeline import timeline_svg

ROOT = Path(__file__).resolve().parent.parent
WRITE_SKEW = ROOT / "histories" / "write-skew.edn"
SVG = "{http://www.w3.org/2000/svg}svg"


def cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def svg_root(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == SVG, root.tag
    return root


def junit_cases(path: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, hist in {
        "skew.jsonl": serial("ax1 ry", "ay1 rx"),
        "stale.jsonl": History().serial(txn("ax1"), txn("ax2"), txn("rx1"), txn("rx12")),
        "valid.jsonl": serial("ax1", "rx1 ax2", "rx12"),
        "empty.jsonl": serial("rx"),
    }.items():
        (tmp_path / name).write_text(hist.text())
        out[name] = tmp_path / name
    bad = serial("ax1", "rx1").text().replace('"ok"', "OK", 1)
    (tmp_path / "bad.jsonl").write_text(bad)
    out["bad.jsonl"] = tmp_path / "bad.jsonl"
    return out


def test_check_writes_the_html_report_plots_and_junit(tmp_path, graphviz_dot):
    out = tmp_path / "out"
    r = cli("check", WRITE_SKEW, "-m", "serializable", "--report", out, "--junit", out / "j.xml")
    assert r.exit_code == 1, r.output
    assert f"report: {out / 'index.html'}" in r.stdout and f"junit: {out / 'j.xml'}" in r.stdout
    plot = out / "write-skew" / "G2-item"
    assert sorted(p.name for p in plot.iterdir()) == ["0.dot", "0.svg"]
    dot = (plot / "0.dot").read_text()
    assert '"T1" -> "T2"' in dot and '"T2" -> "T1"' in dot and "rw bob-off: nil → 1" in dot
    svg = svg_root((plot / "0.svg").read_text())
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "rw alice-off: nil → 1" in texts and "w alice-off 1" in texts
    html = (out / "index.html").read_text()
    assert "INVALID" in html and "G2-item" in html and "(1 found)" in html
    assert len(re.findall(r'<svg[^>]*class="hierarchy"', html)) == 1
    assert len(re.findall(r'<svg[^>]*class="timeline"', html)) == 1
    assert "drawn by Graphviz" in html and 'href="write-skew/G2-item/0.svg"' in html
    assert "op index (the history has no times)" in html  # the EDN file has no :time
    # self-contained: nothing loaded from anywhere
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    case = junit_cases(out / "j.xml")[(str(WRITE_SKEW), "serializable")]
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == "serializable violated: G2-item"
    assert "T1 < T2 because T1 read key bob-off = nil" in failure.text


def test_every_svg_in_the_page_is_well_formed(tmp_path, files, graphviz_dot):
    out = tmp_path / "out"
    assert cli("check", files["stale.jsonl"], files["skew.jsonl"], "--report", out).exit_code == 1
    html = (out / "index.html").read_text()
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) >= 6  # per history: hierarchy, cycle, timeline
    for s in svgs:
        svg_root(s)


def test_junit_has_a_testcase_per_model(tmp_path, files):
    j = tmp_path / "j.xml"
    r = cli(
        "check", files["skew.jsonl"], "-m", "read-committed", "-m", "serializable", "--junit", j
    )
    assert r.exit_code == 1
    cases = junit_cases(j)
    name = str(files["skew.jsonl"])
    assert set(cases) == {(name, "read-committed"), (name, "serializable")}
    assert len(cases[(name, "read-committed")]) == 0  # passed: no child element
    assert cases[(name, "serializable")].find("failure").get("type") == "G2-item"
    suite = ET.parse(j).getroot().find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (name, "2", "1")


def test_junit_error_for_unusable_input_and_skipped_when_undecided(tmp_path, files):
    j = tmp_path / "j.xml"
    hist = [files[n] for n in ("valid.jsonl", "bad.jsonl", "empty.jsonl")]
    r = cli("check", *hist, "-m", "serializable", "--junit", j)
    assert r.exit_code == 2
    cases = junit_cases(j)
    assert len(cases[(str(hist[0]), "serializable")]) == 0
    error = cases[(str(hist[1]), "serializable")].find("error")
    assert error is not None and "line 2" in error.get("message")
    skipped = cases[(str(hist[2]), "serializable")].find("skipped")
    assert skipped is not None and "empty-transaction-graph" in skipped.get("message")
    root = ET.parse(j).getroot()
    assert [root.get(k) for k in ("tests", "failures", "errors", "skipped")] == ["3", "0", "1", "1"]


def test_without_dot_the_dot_files_are_written_and_the_page_draws_its_own(
    tmp_path, files, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    out = tmp_path / "out"
    r = cli("check", files["skew.jsonl"], "-m", "serializable", "--report", out)
    assert r.exit_code == 1
    notes = [line for line in r.stdout.splitlines() if "dot` not found" in line]
    assert len(notes) == 1, r.stdout
    plot = out / "skew" / "G2-item"
    assert sorted(p.name for p in plot.iterdir()) == ["0.dot"]
    html = (out / "index.html").read_text()
    assert "drawn by mvcc-check" in html
    drawn = re.search(r'<svg[^>]*class="cycle".*?</svg>', html, flags=re.S)
    assert drawn is not None
    root = svg_root(drawn.group(0))
    assert len(root.findall(".//{http://www.w3.org/2000/svg}g[@class='txn']")) == 2


def test_timeline_bars_run_from_invocation_to_completion(files):
    text = files["stale.jsonl"].read_bytes()
    result = check(parse_history_text(text, source="s", format="jsonl"), CheckOptions())
    doc = result_json(result)
    ops = [orjson.loads(line) for line in text.splitlines()]
    rec = doc["anomalies"]["G-single-item-realtime"][0]
    wanted = [op["index"] for op in rec["cycle"]]
    inv = find_invocations(ops, wanted)
    for i in wanted:  # serial: each completion's invocation is the op just before it
        assert inv[i]["index"] == i - 1 and inv[i]["type"] == "invoke"
        assert inv[i]["time"] == (i - 1) * 10
    svg = svg_root(timeline_svg(cycle_graph(rec), inv, "t"))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [g.find(f"{ns}rect") for g in svg.iter(f"{ns}g") if g.get("class") == "bar ok"]
    assert len(bars) == len(set(wanted))
    spans = sorted((float(b.get("x")), float(b.get("x")) + float(b.get("width"))) for b in bars)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # one after another
    deps = [g for g in svg.iter(f"{ns}g") if (g.get("class") or "").startswith("dep ")]
    assert {g.get("class") for g in deps} >= {"dep realtime"}
    assert "time since the first bar" in ET.tostring(svg, encoding="unicode")


def test_invocations_are_found_when_indices_are_not_positions():
    ops = [
        {"index": 10, "process": 1, "type": "invoke", "time": 5},
        {"index": 20, "process": 2, "type": "invoke", "time": 6},
        {"index": 30, "process": 2, "type": "ok", "time": 7},
        {"index": 40, "process": 1, "type": "info", "time": 9},
        {"index": 50, "process": 3, "type": "invoke"},
    ]
    inv = find_invocations(ops, [30, 40, 50, 99])
    assert inv[30]["index"] == 20 and inv[40]["index"] == 10 and inv[40]["time"] == 5
    assert 50 not in inv and 99 not in inv  # an invocation has none; 99 is not there


def test_examples_are_capped_counts_complete_and_the_report_is_quick(tmp_path, graphviz_dot):
    pairs = 3000
    ops = []
    for i in range(pairs):  # each pair of transactions is one write skew on its own keys
        a = [["append", f"x{i}", 1], ["r", f"y{i}", None]]
        b = [["append", f"y{i}", 1], ["r", f"x{i}", None]]
        ops += [{"type": "invoke", "process": 2 * i, "value": a}]
        ops += [{"type": "invoke", "process": 2 * i + 1, "value": b}]
        ops += [{"type": "ok", "process": 2 * i, "value": [a[0], ["r", f"y{i}", []]]}]
        ops += [{"type": "ok", "process": 2 * i + 1, "value": [b[0], ["r", f"x{i}", []]]}]
    text = b"".join(orjson.dumps(op) + b"\n" for op in ops)
    history = parse_history_text(text, source="big.jsonl", format="jsonl")
    result = check(history, CheckOptions(models=("serializable",)))
    assert len(result.anomalies["G2-item"]) == pairs
    report = Report("check")
    started = time.perf_counter()
    report.add(result_json(result), history.ops)
    write_html_report(report, tmp_path / "out")
    seconds = time.perf_counter() - started
    assert seconds < 5, seconds
    plots = sorted(p.name for p in (tmp_path / "out" / "big" / "G2-item").iterdir())
    assert plots == sorted(f"{n}.{e}" for n in range(EXAMPLES_PER_TYPE) for e in ("dot", "svg"))
    html = (tmp_path / "out" / "index.html").read_text()
    assert f"({pairs} found)" in html and f"{pairs - EXAMPLES_PER_TYPE} more not shown" in html
    assert len(html) < 1_000_000


def test_json_output_stays_json_and_the_report_line_goes_to_stderr(tmp_path, files):
    out = tmp_path / "out"
    r = cli(
        "check",
        files["skew.jsonl"],
        "-m",
        "serializable",
        "-o",
        "json",
        "--report",
        out,
        "--junit",
        out / "j.xml",
    )
    assert r.exit_code == 1
    assert json.loads(r.stdout)["anomaly-types"] == ["G2-item"]
    assert "report: " in r.stderr and "junit: " in r.stderr


def test_a_report_that_cannot_be_written_is_exit_2(tmp_path, files):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = cli("check", files["valid.jsonl"], "--report", blocker / "sub")
    assert r.exit_code == 2
    assert r.stderr.startswith("mvcc-check: cannot write the report in ")
    assert len(r.stderr.strip().splitlines()) == 1


def test_run_reports_the_engine_run(tmp_path, graphviz_dot):
    out = tmp_path / "out"
    r = cli(
        "run", "--bug", "skip-first-updater", "-n", "200", "--report", out, "--junit", out / "j.xml"
    )
    assert r.exit_code == 1
    html = (out / "index.html").read_text()
    assert "the engine run" in html and "skip-first-updater" in html and "committed txns/s" in html
    assert "aborts by cause" in html and "INVALID" in html
    (case,) = junit_cases(out / "j.xml").values()
    assert case.get("name") == "snapshot-isolation" and case.find("failure") is not None
    assert list(out.glob("*/G-single-item/0.svg"))


def test_matrix_junit_counts_a_caught_bug_as_passed(tmp_path):
    out = tmp_path / "out"
    r = cli("matrix", "--bugs", "--seeds", "1", "--report", out, "--junit", out / "j.xml")
    assert r.exit_code == 0, r.output
    root = ET.parse(out / "j.xml").getroot()
    assert root.get("tests") == "13" and root.get("failures") == "0"
    names = [c.get("name") for c in root.iter("testcase")]
    assert "snapshot-isolation (broken by the deliberate bug)" in names
    assert "serializable" in names
    html = (out / "index.html").read_text()
    assert "the matrix" in html and "no: caught 1/1" in html and "+skip-first-updater" in html


def test_test_and_hermitage_on_sqlite(tmp_path):
    out = tmp_path / "out"
    db = f"sqlite:///{tmp_path / 'x.db'}"
    args = ["-i", "serializable", "--txns", "60", "--seed", "1", "--seed", "2"]
    r = cli("test", "--db", db, *args, "--report", out, "--junit", out / "j.xml")
    assert r.exit_code == 0, r.output
    cases = junit_cases(out / "j.xml")
    assert [name for _, name in cases] == ["serializable", "serializable"]
    html = (out / "index.html").read_text()
    assert "the runs: sqlite" in html and "aborted by" in html
    r = cli("test", "--db", db, *args, "-o", "json")
    for run in (doc["run"] for doc in json.loads(r.stdout)):
        assert sum(run["abort-causes"].values()) == run["aborted"]
        assert all(c.startswith("OperationalError: database is") for c in run["abort-causes"])
    out2 = tmp_path / "out2"
    r = cli(
        "hermitage", "--db", db, "-s", "G0", "-s", "P4", "--report", out2, "--junit", out2 / "j.xml"
    )
    assert r.exit_code == 0, r.output
    cases = junit_cases(out2 / "j.xml")
    assert set(cases) == {
        (f"hermitage {s} serializable", n)
        for s in ("G0", "P4")
        for n in ("serializable", "checker agrees with the scenario")
    }
    html = (out2 / "index.html").read_text()
    assert "Hermitage: sqlite" in html and "prevented by abort" in html
    assert "so-called isolation level" in html and ">✓</span>" in html  # Hermitage's own row


def test_dot_text_escapes_quotes_and_backslashes():
    rec = {
        "cycle": [
            {"index": 1, "process": 0, "type": "ok", "value": [["w", 'k"\\', 1]]},
            {"index": 2, "process": 1, "type": "ok", "value": [["w", 'k"\\', 2]]},
            {"index": 1, "process": 0, "type": "ok", "value": [["w", 'k"\\', 1]]},
        ],
        "steps": [
            {"type": "ww", "key": 'k"\\', "value": 1, "value'": 2},
            {"type": "ww", "key": 'k"\\', "value": 2, "value'": 1},
        ],
    }
    dot = to_dot(cycle_graph(rec))
    assert 'label="ww k\\"\\\\: 1 → 2"' in dot


def test_keys_with_markup_are_escaped_everywhere(tmp_path, graphviz_dot):
    key_a, key_b = '<em>x&"', "y'</svg>"
    ops = [
        {"type": "invoke", "process": 0, "value": [["append", key_a, 1], ["r", key_b, None]]},
        {"type": "invoke", "process": 1, "value": [["append", key_b, 1], ["r", key_a, None]]},
        {"type": "ok", "process": 0, "value": [["append", key_a, 1], ["r", key_b, []]]},
        {"type": "ok", "process": 1, "value": [["append", key_b, 1], ["r", key_a, []]]},
    ]
    path = tmp_path / "markup.jsonl"
    path.write_bytes(b"".join(orjson.dumps(op) + b"\n" for op in ops))
    out = tmp_path / "out"
    assert cli("check", path, "-m", "serializable", "--report", out).exit_code == 1
    html = (out / "index.html").read_text()
    assert "<em>" not in html and "y'</svg>" not in html
    for s in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        svg_root(s)
    svg = svg_root((out / "markup" / "G2-item" / "0.svg").read_text())
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert key_a in texts and key_b in texts


def test_faults_are_drawn_on_the_timeline(tmp_path):
    """Nemesis ops (which the checker ignores) appear on the timeline's time axis."""
    h = History().serial(txn("ax1"), txn("ax2"), txn("rx1"), txn("rx12"))
    lines = h.text().splitlines()
    nemesis = [
        {"type": "info", "process": "nemesis", "f": "start-partition", "time": 5},
        {"type": "info", "process": "nemesis", "f": "start-partition", "value": "n1", "time": 6},
        {"type": "info", "process": "nemesis", "f": "stop-partition", "time": 45},
        {"type": "info", "process": "nemesis", "f": "kill", "time": 33},
        {"type": "info", "process": "nemesis", "f": "pause", "time": 10**9},  # far away
    ]
    text = [lines[0], *(orjson.dumps(op).decode() for op in nemesis[:2]), *lines[1:5]]
    text += [orjson.dumps(nemesis[2]).decode(), *lines[5:], *map(orjson.dumps, nemesis[3:])]
    path = tmp_path / "faults.jsonl"
    path.write_text("\n".join(t if isinstance(t, str) else t.decode() for t in text) + "\n")
    out = tmp_path / "out"
    r = cli("check", path, "--report", out)
    assert r.exit_code == 1, r.output
    html = (out / "index.html").read_text()
    timeline = re.search(r'<svg[^>]*class="timeline".*?</svg>', html, flags=re.S).group(0)
    ns = "{http://www.w3.org/2000/svg}"
    faults = [g for g in svg_root(timeline).iter(f"{ns}g") if g.get("class") == "fault"]
    labels = sorted(g.find(f"{ns}text").text for g in faults)
    assert labels == ["kill", "partition"]  # the pause lies outside this example's span
    span = next(g for g in faults if g.find(f"{ns}text").text == "partition")
    assert span.find(f"{ns}rect") is not None  # a start and an end: a shaded span


def test_an_aborted_read_gets_a_timeline_with_the_failed_writer(tmp_path):
    out = tmp_path / "out"
    r = cli("run", "--bug", "read-aborted", "-n", "200", "--report", out)
    assert r.exit_code == 1
    html = (out / "index.html").read_text()
    section = html[html.index('<span class="kind">G1a</span>') :]
    timeline = re.search(r'<svg[^>]*class="timeline".*?</svg>', section, flags=re.S).group(0)
    root = svg_root(timeline)
    kinds = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert "bar fail" in kinds and "bar ok" in kinds and "dep wr" in kinds


def test_histories_with_one_name_get_their_own_plot_directories(tmp_path, files):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "skew.jsonl").write_text(files["skew.jsonl"].read_text())
    out = tmp_path / "out"
    r = cli(
        "check", files["skew.jsonl"], other / "skew.jsonl", "-m", "serializable", "--report", out
    )
    assert r.exit_code == 1
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["skew", "skew-2"]
    html = (out / "index.html").read_text()
    assert 'href="skew/G2-item/0.dot"' in html and 'href="skew-2/G2-item/0.dot"' in html
