"""The HTML report as a person sees it: real headless Chromium opens index.html
from file://, takes a screenshot, and dumps the DOM it built.

Under CI=true a missing chromium or dot fails these tests (tests/conftest.py)."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

from click.testing import CliRunner
from histgen import History, txn

from mvcc_check.cli import main

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=120,
        check=True,
    )


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def test_the_report_renders_in_chromium(tmp_path, chromium, graphviz_dot):
    stale = tmp_path / "stale.jsonl"
    stale.write_text(History().serial(txn("ax1"), txn("ax2"), txn("rx1"), txn("rx12")).text())
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        ["check", str(ROOT / "histories" / "write-skew.edn"), str(stale), "--report", str(out)],
    )
    assert r.exit_code == 1, r.output
    url = (out / "index.html").as_uri()

    shot = tmp_path / "shot.png"
    chromium_run(chromium, tmp_path / "p1", f"--screenshot={shot}", "--window-size=1280,1600", url)
    assert png_size(shot) == (1280, 1600)
    # a page of text and pictures compresses far worse than a blank or error page (~10 KB)
    assert shot.stat().st_size > 60_000

    dom = chromium_run(chromium, tmp_path / "p2", "--dump-dom", url).stdout.decode()
    assert "<title>mvcc-check check report</title>" in dom
    verdicts = re.search(r'<table class="verdicts".*?</table>', dom, flags=re.S).group(0)
    assert verdicts.count("INVALID") == 2
    for name in ("G2-item", "G-single-item-realtime"):
        assert re.search(rf'<span class="kind">{name}</span>', dom), name
    # per history: the hierarchy, and per example a cycle and a timeline
    assert len(re.findall(r'<svg[^>]*class="hierarchy"', dom)) == 2
    assert len(re.findall(r'<figure class="cycle"><svg', dom)) == 2
    assert len(re.findall(r'<svg[^>]*class="timeline"', dom)) == 2
    assert dom.count('class="model boundary"') >= 2  # the `not` boundary, marked
