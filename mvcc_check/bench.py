"""`make bench`: the checker against the cost of merely reading the history.

Histories are produced by the built-in engine (snapshot isolation, so real
anomalies are present) and cached under .bench-cache/. Each measurement runs
in a fresh process; wall time and peak resident memory come from os.wait4.
The reference is loading the same JSON Lines file with orjson, the garbage
collector out of the way. Figures are ratios measured in one run, so a noisy
shared machine moves both sides together.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(".bench-cache")
ORJSON_REFERENCE = "import gc, sys, orjson\ngc.disable()\nops = [orjson.loads(l) for l in open(sys.argv[1], 'rb')]\n"


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    returncode: int


def measure(argv: list[str]) -> Measure:
    """Run a command to completion; wall seconds and peak RSS of that process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        err = p.stderr.read().decode() if p.stderr else ""
        raise SystemExit(f"bench: {' '.join(argv)} failed ({p.returncode}): {err.strip()[-500:]}")
    return Measure(dt, usage.ru_maxrss / 1024, p.returncode)


def history_file(workload: str, txns: int, level: str = "snapshot-isolation", clients: int = 24, keys: int = 32,
                 writes_per_key: int = 64) -> Path:
    """Generate (once) an engine history of `txns` transactions: 4 micro-ops each, keys
    retired after `writes_per_key` appends (Elle-style), which gives lines about the
    size of the histories the targets in issue 5 were stated for (~540 bytes a txn)."""
    from mvcc_check.engine.scheduler import run_engine
    from mvcc_check.history.recorder import HistoryRecorder
    from mvcc_check.workload import WorkloadSpec

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{workload}-{level}-{txns}-c{clients}-k{keys}-w{writes_per_key}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    spec = WorkloadSpec(workload=workload, txns=txns, clients=clients, keys=keys, mops_per_txn=4,
                        min_mops_per_txn=4, max_writes_per_key=writes_per_key, seed=7)
    t0 = time.perf_counter()
    with HistoryRecorder(str(tmp), keep=False) as rec:
        run_engine(level, spec, recorder=rec)
    tmp.rename(path)
    print(f"  (generated {path} in {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return path


def check_cmd(path: Path, model: str) -> list[str]:
    return [sys.executable, "-m", "mvcc_check.cli", "check", "-m", model, "-o", "json", str(path)]


def bench_check(workload: str, sizes: list[int], model: str = "snapshot-isolation") -> list[dict]:
    rows = []
    for n in sizes:
        path = history_file(workload, n)
        ref = measure([sys.executable, "-c", ORJSON_REFERENCE, str(path)])
        full = measure(check_cmd(path, model))
        rows.append({
            "workload": workload, "txns": n, "file_mb": path.stat().st_size / 2**20,
            "orjson_s": ref.seconds, "orjson_mb": ref.peak_mb,
            "check_s": full.seconds, "check_mb": full.peak_mb,
            "ratio": full.seconds / ref.seconds, "txns_per_s": n / full.seconds,
            "verdict": "invalid" if full.returncode == 1 else "valid",
        })
    return rows


def print_check_table(rows: list[dict]) -> None:
    print(f"{'workload':<12} {'txns':>9} {'file MB':>8} {'orjson s':>9} {'orjson MB':>10} "
          f"{'check s':>8} {'check MB':>9} {'check/orjson':>13} {'txns/s':>9}  verdict")
    for r in rows:
        print(f"{r['workload']:<12} {r['txns']:>9,} {r['file_mb']:>8.1f} {r['orjson_s']:>9.2f} {r['orjson_mb']:>10.0f} "
              f"{r['check_s']:>8.2f} {r['check_mb']:>9.0f} {r['ratio']:>13.2f} {r['txns_per_s']:>9,.0f}  {r['verdict']}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="mvcc-check-bench")
    ap.add_argument("--sizes", default="100000", help="comma-separated transaction counts")
    ap.add_argument("--workloads", default="list-append,rw-register")
    ap.add_argument("--skip-engine", action="store_true")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"mvcc-check benchmark on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("\n== check vs. reading the file (orjson, gc off), one fresh process each ==")
    rows = []
    for w in args.workloads.split(","):
        rows += bench_check(w, sizes)
    print_check_table(rows)
    huge = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "elle" / "huge-scc.edn"
    if huge.exists():
        m = measure([sys.executable, "-m", "mvcc_check.cli", "check", str(huge)])
        print(f"\nElle's huge-scc.edn (Elle: cycle-search-timeout): definite answer in {m.seconds:.2f} s, {m.peak_mb:.0f} MB")
    if not args.skip_engine:
        from mvcc_check.engine.bench import TARGET_TXNS_PER_S, engine_throughput

        print(f"\n== built-in engine: 4-mop list-append, 16 clients, one core (target {TARGET_TXNS_PER_S:,}/s) ==")
        for b in engine_throughput(txns=20_000, repeat=1):
            print(f"{b.level:<20} {b.committed_per_s:>10,.0f} committed/s  ({b.committed:,} of {b.txns:,}, "
                  f"{b.aborted:,} aborted, longest chain {b.longest_chain})")


if __name__ == "__main__":
    main()
