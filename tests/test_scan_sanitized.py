"""The C scanner under AddressSanitizer and UBSan, and a short libFuzzer run
(issue 9, item 6). Each builds into a temp dir with the machine's compilers
(gcc, Debian's clang); `make fuzz` runs the fuzzer for longer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from scancheck import mutants

ROOT = Path(__file__).parent.parent
CORE = ROOT / "mvcc_check" / "history"
FUZZ = ROOT / "fuzz" / "scan_fuzz.c"
SAN = ["-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


def _compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but {name} is not installed", pytrace=False)
        pytest.skip(f"{name} is not installed")
    return path


def _corpus(tmp_path: Path, n: int) -> list[str]:
    files = [str(p) for p in sorted((ROOT / "histories").glob("*.jsonl"))]
    files += [str(p) for p in sorted((ROOT / "histories").glob("*.edn"))]
    for i, data in enumerate(mutants(seed=9, n=n)):
        p = tmp_path / f"m{i}.jsonl"
        p.write_bytes(data)
        files.append(str(p))
    return files


def test_core_under_asan_and_ubsan(tmp_path):
    """The standalone driver: whole and split-and-merged scans agree, ids in range."""
    exe = tmp_path / "scan_main"
    cc = _compiler("clang")
    subprocess.run([cc, *SAN, "-DSCAN_MAIN", str(FUZZ), "-o", str(exe)], check=True)
    files = _corpus(tmp_path, 400)
    out = subprocess.run([str(exe), *files], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


FUZZ_ASAN_OPTIONS = "allocator_release_to_os_interval_ms=200:quarantine_size_mb=64"
FUZZ_LIMITS = ["-rss_limit_mb=4096", "-malloc_limit_mb=2048"]


def test_short_fuzz_run(tmp_path):
    """A few seconds of libFuzzer over the shipped histories: no crash, no leak."""
    cc = _compiler("clang")
    exe = tmp_path / "scan_fuzz"
    flags = ["-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"]
    subprocess.run([cc, *flags, str(FUZZ), "-o", str(exe)], check=True)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in [*(ROOT / "histories").glob("*.jsonl"), *(ROOT / "histories").glob("*.edn")]:
        shutil.copy(p, corpus)
    args = ["-max_total_time=5", "-max_len=4096", f"-dict={ROOT / 'fuzz' / 'scan.dict'}"]
    # The process's resident size, not the scanner's heap, ran past libFuzzer's 2 GB
    # limit on the loaded machines (live heap 24 MB, ASan's quarantine 160 MB): ASan
    # keeps freed memory. It is told to give it back; a single allocation over 2 GB
    # still fails the run, and so does any leak.
    env = {**os.environ, "ASAN_OPTIONS": FUZZ_ASAN_OPTIONS}
    out = subprocess.run(
        [str(exe), *args, *FUZZ_LIMITS, f"-artifact_prefix={tmp_path}/", str(corpus)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Done" in out.stderr


_RUN = """
import importlib.util, re, sys
spec = importlib.util.spec_from_file_location("mvcc_check.history._scan", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
sys.modules["mvcc_check.history._scan"] = mod
sys.path.insert(0, sys.argv[2])
from scancheck import differences, exact, quotes_agree, scanned
from mvcc_check.history import reread, scan
assert scan._scan is mod and reread._scan is mod
bad = 0
for path in sys.argv[3:]:
    ref = exact(path)
    for threads in (1, 2):
        got = scanned(path, threads)
        d = differences(got, ref)
        if not d and not isinstance(got, str) and not quotes_agree(got, ref):
            d = ["quotes differ"]
        if d:
            bad += 1
            print(path, threads, d[:2])
    data = open(path, "rb").read()  # the EDN rewrite too, over the same bytes
    json, misses = mod.edn_lines(data, 0, len(data))
    if json.count(b"\\n") != data.count(b"\\n") + 1:
        bad += 1
        print(path, "edn lines", json.count(b"\\n"), data.count(b"\\n") + 1)
print("checked", len(sys.argv) - 3, "bad", bad)
sys.exit(1 if bad else 0)
"""


def test_extension_under_asan(tmp_path):
    """The extension itself (glue, merge, fallback adds, quotes, the EDN rewrite) built
    with ASan and UBSan, run by Python over generated and mutated inputs against the
    exact reader."""
    cc = _compiler("gcc")
    so = tmp_path / "_scan.so"
    inc = sysconfig.get_paths()["include"]
    cmd = [cc, *SAN, "-shared", "-fPIC", f"-I{inc}", str(CORE / "_scan.c"), "-o", str(so)]
    subprocess.run(cmd, check=True)
    libs = [
        subprocess.run(
            [cc, f"-print-file-name={lib}"], capture_output=True, text=True
        ).stdout.strip()
        for lib in ("libasan.so", "libubsan.so")
    ]
    files = []
    for i, data in enumerate(mutants(seed=5, n=150)):
        p = tmp_path / f"m{i}.jsonl"
        # load_history splits lines at a bare \r, the scanner does not (test_scan.py)
        p.write_bytes(data.replace(b"\r\n", b"\n").replace(b"\r", b""))
        files.append(str(p))
    env = dict(os.environ, LD_PRELOAD=" ".join(libs), ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(so), str(Path(__file__).parent), *files],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-3000:])
    assert f"checked {len(files)} bad 0" in out.stdout
