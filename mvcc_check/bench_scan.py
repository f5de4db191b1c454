"""Time the JSON Lines scanner against merely loading the file with orjson.

    python -m mvcc_check.bench_scan FILE... [--runs N]

Each figure is one fresh process, Python start included (wall seconds, CPU
seconds, peak RSS from wait4); the three loaders run side by side, round after
round, and the fastest round of each is shown with the ratio to orjson's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

LOADERS = {
    "orjson": "import gc, orjson, sys; gc.disable(); x = [orjson.loads(l) for l in open(sys.argv[1], 'rb')]",
    "load_columns": "import gc, sys; gc.disable()\nfrom mvcc_check.history.load import load_columns\nc = load_columns(sys.argv[1])",
    "load_columns 1 thread": "import gc, sys; gc.disable()\nfrom mvcc_check.history.scan import scan_jsonl\nc = scan_jsonl(sys.argv[1], threads=1)",
}


def run_once(code: str, path: str) -> tuple[float, float, int]:
    """(wall s, cpu s, peak RSS bytes) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, path])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{code!r} failed on {path}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"{'file':<58} {'loader':<22} {'wall s':>7} {'cpu s':>6} {'peak MB':>8} {'x orjson':>8}")
    for path in args.files:
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.runs):
            for name, code in LOADERS.items():
                r = run_once(code, path)
                if name not in best or r[0] < best[name][0]:
                    best[name] = r
        base = best["orjson"][0]
        for name, (wall, cpu, rss) in best.items():
            print(
                f"{os.path.basename(path)[:58]:<58} {name:<22} {wall:7.2f} {cpu:6.2f} "
                f"{rss / 1e6:8.0f} {wall / base:8.2f}"
            )
        print(f"  (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
