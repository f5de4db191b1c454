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
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mvcc_check.history.ops import CLOSED_PREDICATE, WORKLOADS

CACHE = Path(".bench-cache")
ORJSON_REFERENCE = "import gc, sys, orjson\ngc.disable()\nops = [orjson.loads(l) for l in open(sys.argv[1], 'rb')]\n"


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    returncode: int


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants, in MB (shared pages
    counted once across them: a forked worker counts for what it adds)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total / 1024


def measure(argv: list[str]) -> Measure:
    """Run a command to completion: wall seconds, and peak memory: the larger of the
    process's own peak RSS (wait4) and the peak of its process tree's summed PSS,
    sampled every 20 ms or, for a large process, every ten sample times (a forked
    worker's memory counts)."""
    import threading

    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        # Every 20 ms, or less often when a sample itself is slow: reading the page
        # tables of a 15 GB process takes long and would slow the process measured.
        wait = 0.02
        while not done.wait(wait):
            t = time.perf_counter()
            peak[0] = max(peak[0], _tree_pss_mb(p.pid))
            wait = max(0.02, 10 * (time.perf_counter() - t))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    done.set()
    sampler.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        err = p.stderr.read().decode() if p.stderr else ""
        raise SystemExit(f"bench: {' '.join(argv)} failed ({p.returncode}): {err.strip()[-500:]}")
    return Measure(dt, max(usage.ru_maxrss / 1024, peak[0]), p.returncode)


def history_file(
    workload: str,
    txns: int,
    level: str = "snapshot-isolation",
    clients: int = 24,
    keys: int = 32,
    writes_per_key: int = 64,
) -> Path:
    """Generate (once) an engine history of `txns` transactions: 4 micro-ops each, keys
    retired after `writes_per_key` appends (Elle-style), which gives lines about the
    size of the histories the targets in issue 5 were stated for (~540 bytes a txn)."""
    from mvcc_check.engine.scheduler import run_engine
    from mvcc_check.history.recorder import HistoryRecorder
    from mvcc_check.workload import WorkloadSpec

    CACHE.mkdir(exist_ok=True)
    path = (
        CACHE
        / f"{workload}-{level.replace('+', '-')}-{txns}-c{clients}-k{keys}-w{writes_per_key}.jsonl"
    )
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    spec = WorkloadSpec(
        workload=workload,
        txns=txns,
        clients=clients,
        keys=keys,
        mops_per_txn=4,
        min_mops_per_txn=4,
        max_writes_per_key=writes_per_key,
        seed=7,
    )
    t0 = time.perf_counter()
    level_name, _, bug = level.partition("+")
    with HistoryRecorder(str(tmp), keep=False) as rec:
        run_engine(level_name, spec, recorder=rec, bugs=(bug,) if bug else ())
    tmp.rename(path)
    print(f"  (generated {path} in {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return path


STAGE_TIMER = """
import gc, json, sys, time
from mvcc_check.console import tune_environment
tune_environment()  # as the CLI runs
gc.disable()
t0 = time.perf_counter()
from mvcc_check import CheckOptions, check
from mvcc_check.history.load import load_columns
marks = {"imports": time.perf_counter() - t0}
t = time.perf_counter()
history = load_columns(sys.argv[1])
stage, since = "reading", t
def progress(message):
    global stage, since
    now = time.perf_counter()
    marks[stage] = now - since
    stage, since = getattr(message, "stage", message), now
check(history, CheckOptions(), progress)
progress("end")
print(json.dumps(marks))
"""
STAGES = ("imports", "reading", "pairing", "inferring", "building", "deciding", "searching")


def stage_times(path: Path) -> dict[str, float]:
    """Seconds per stage of one in-process check (fresh process, default model), by the
    first word of the stage check() reports (building: the graph with realtime edges;
    searching: cycles and the model-level tests)."""
    out = subprocess.run(
        [sys.executable, "-c", STAGE_TIMER, str(path)], capture_output=True, check=True
    )
    return json.loads(out.stdout)


def check_cmd(path: Path, model: str) -> list[str]:
    return [sys.executable, "-m", "mvcc_check", "check", "-m", model, "-o", "json", str(path)]


REPEAT = 3  # each side measured this many times, alternately; the fastest run counts


def best_of(argv: list[str], repeat: int) -> Measure:
    """The fastest of `repeat` runs (a shared machine only ever adds time)."""
    return min((measure(argv) for _ in range(repeat)), key=lambda m: m.seconds)


def print_check_table(rows: list[dict]) -> None:
    print(
        "| workload | txns | file MB | orjson s | orjson MB | check s | check MB | check/orjson | txns/s | verdict |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['workload']} | {r['txns']:,} | {r['file_mb']:.0f} | {r['orjson_s']:.2f} | {r['orjson_mb']:.0f} | "
            f"{r['check_s']:.2f} | {r['check_mb']:.0f} | {r['ratio']:.2f} | {r['txns_per_s']:,.0f} | {r['verdict']} |"
        )


def target_row(
    name: str, figure: float, limit: float, unit: str, lower_is_better: bool = True
) -> str:
    met = figure <= limit if lower_is_better else figure >= limit
    return f"| {name} | {figure:,.2f} {unit} | {'<=' if lower_is_better else '>='} {limit:,} {unit} | {'met' if met else 'NOT met'} |"


def string_keys_file(path: Path) -> Path:
    """The same history with every key a string ("key-7" for 7): the scanner's string path."""
    out = path.with_name(path.stem + "-string-keys.jsonl")
    if out.exists():
        return out
    import orjson

    tmp = out.with_suffix(".tmp")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        for line in src:
            op = orjson.loads(line)
            op["value"] = [[f, f"key-{k}", v] for f, k, v in op["value"]]
            dst.write(orjson.dumps(op) + b"\n")
    tmp.rename(out)
    return out


def edn_file(path: Path) -> Path:
    """The same history written as Jepsen writes history.edn (one op map a line)."""
    out = path.with_suffix(".edn")
    if out.exists():
        return out
    import orjson

    def edn(x: object, kw: bool = False) -> str:
        if x is None:
            return "nil"
        if isinstance(x, str):
            return ":" + x if kw else orjson.dumps(x).decode()
        if isinstance(x, list):
            return "[" + " ".join(edn(e, kw and i == 0) for i, e in enumerate(x)) + "]"
        return str(x).lower() if isinstance(x, bool) else str(x)

    tmp = out.with_suffix(".tmp")
    with open(path, "rb") as src, open(tmp, "w") as dst:
        for line in src:
            op = orjson.loads(line)
            fields = [
                f":{k} {edn(v, kw=k in ('type', 'f'))}" for k, v in op.items() if k != "value"
            ]
            mops = " ".join(edn(m, kw=True) for m in op["value"])
            dst.write("{" + ", ".join(fields) + f", :value [{mops}]" + "}\n")
    tmp.rename(out)
    return out


def bench_edn(n: int) -> None:
    """The same history as EDN and as JSON Lines, checked side by side."""
    jsonl = history_file("list-append", n)
    edn = edn_file(jsonl)
    a, b = (
        best_of(check_cmd(jsonl, "strict-serializable"), REPEAT),
        best_of(check_cmd(edn, "strict-serializable"), REPEAT),
    )
    print(
        f"\nEDN: {n:,} list-append txns as history.edn: check {b.seconds:.2f} s, {b.peak_mb:.0f} MB;"
        f" as JSON Lines: {a.seconds:.2f} s, {a.peak_mb:.0f} MB ({b.seconds / a.seconds:.1f}x)"
    )


def bench_files(
    rows: list[tuple[str, int, Path]], model: str = "strict-serializable"
) -> list[dict]:
    """check against the orjson load of the same file, side by side, for each (label, txns, file)."""
    out = []
    for label, n, path in rows:
        ref = best_of([sys.executable, "-c", ORJSON_REFERENCE, str(path)], REPEAT)
        full = best_of(check_cmd(path, model), REPEAT)
        out.append(
            {
                "workload": label,
                "txns": n,
                "file_mb": path.stat().st_size / 2**20,
                "orjson_s": ref.seconds,
                "orjson_mb": ref.peak_mb,
                "check_s": full.seconds,
                "check_mb": full.peak_mb,
                "ratio": full.seconds / ref.seconds,
                "txns_per_s": n / full.seconds,
                "verdict": {0: "valid", 1: "invalid"}.get(full.returncode, "?"),
            }
        )
    return out


# The item workloads the targets are about (closed-predicate inference is plain Python,
# sized for engine and database runs of hundreds of transactions, not for these).
BENCH_WORKLOADS = tuple(w for w in WORKLOADS if w != CLOSED_PREDICATE)


def print_targets(by: dict, small: int, large: int, huge: dict | None) -> None:
    """The targets of issue 9 (and those kept from issues 2 and 5) against the figures."""
    print("\n| target | figure | limit | |")
    print("|---|---:|---:|---|")
    if large:
        for w in BENCH_WORKLOADS:
            big = by[(w, large)]
            print(target_row(f"{w}: check / orjson at {large:,}", big["ratio"], 0.7, "x"))
            print(target_row(f"{w}: peak memory at {large:,}", big["check_mb"] / 1024, 1.5, "GB"))
    if huge is not None:
        print(target_row(f"list-append: check at {huge['txns']:,}", huge["check_s"], 150, "s"))
        print(
            target_row(
                f"list-append: peak memory at {huge['txns']:,}", huge["check_mb"] / 1024, 12, "GB"
            )
        )
        print(
            target_row(
                f"list-append: time {huge['txns']:,} / time {large:,}", huge["growth"], 11, "x"
            )
        )
    print(
        target_row(
            f"list-append: check / orjson at {small:,}", by[("list-append", small)]["ratio"], 3, "x"
        )
    )


def bench_cycle_heavy(n: int) -> None:
    acyclic = history_file("list-append", n, level="serializable")
    heavy = history_file("list-append", n, level="serializable+skip-dangerous-structure")
    a = measure(check_cmd(acyclic, "strict-serializable"))
    h = measure(check_cmd(heavy, "strict-serializable"))
    print(
        target_row(
            f"cycle-heavy / acyclic check at {n:,} (serializable engine without SSI check)",
            h.seconds / a.seconds,
            3,
            "x",
        )
    )
    huge = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "elle" / "huge-scc.edn"
    if huge.exists():
        m = measure([sys.executable, "-m", "mvcc_check", "check", str(huge)])
        print(target_row("Elle's huge-scc.edn, complete answer", m.seconds, 2, "s"))
    print(
        f"\n(cycle-heavy: {h.seconds:.2f} s, exit {h.returncode}; acyclic: {a.seconds:.2f} s, exit {a.returncode})"
    )


def bench_huge(n: int, large_row: dict | None) -> dict:
    """The 10M-transaction check: no orjson reference (it would need about 40 GB)."""
    path = history_file("list-append", n)
    m = measure(check_cmd(path, "strict-serializable"))
    row = {
        "txns": n,
        "file_mb": path.stat().st_size / 2**20,
        "check_s": m.seconds,
        "check_mb": m.peak_mb,
    }
    row["growth"] = m.seconds / large_row["check_s"] if large_row else float("nan")
    print(
        f"\nlist-append, {n:,} txns, {row['file_mb']:,.0f} MB: check {m.seconds:.1f} s, "
        f"peak {m.peak_mb / 1024:.2f} GB, exit {m.returncode} (orjson would need about 40 GB: not run)"
    )
    return row


def print_stages(large: int) -> None:
    print(
        f"\nWhere the time goes at {large:,} (in-process, seconds; the CLI adds its imports and the output)\n"
    )
    print("| workload | " + " | ".join(STAGES) + " |")
    print("|---|" + "---:|" * len(STAGES))
    for w in BENCH_WORKLOADS:
        times = stage_times(history_file(w, large))
        print(f"| {w} | " + " | ".join(f"{times.get(name, 0.0):.2f}" for name in STAGES) + " |")


def bench_engine() -> None:
    from mvcc_check.engine.bench import TARGET_TXNS_PER_S, engine_throughput
    from mvcc_check.lab.engine_runs import matrix_wall_time

    print(
        f"\nBuilt-in engine: 4-mop list-append, 16 clients, one core (target {TARGET_TXNS_PER_S:,}/s)\n"
    )
    print("| level | committed/s | committed | aborted | longest chain |")
    print("|---|---:|---:|---:|---:|")
    for b in engine_throughput(txns=20_000, repeat=1):
        print(
            f"| {b.level} | {b.committed_per_s:,.0f} | {b.committed:,} of {b.txns:,} | {b.aborted:,} | "
            f"{b.longest_chain} |"
        )
    wall, runs = matrix_wall_time()
    print(f"\nmatrix --bugs (what make run shows): {runs} runs in {wall:.2f} s")


def bench_db() -> None:
    try:
        from mvcc_check.lab.pg_bench import TARGET_TXNS_PER_S as PG_TARGET
        from mvcc_check.lab.pg_bench import pg_throughput

        r = pg_throughput()
    except Exception as e:  # no server binaries on this machine: say so, don't fail the benchmark
        print(f"\nPostgreSQL benchmark skipped: {type(e).__name__}: {e}")
        return
    print(
        f"\nPostgreSQL ({r['database']}), {r['isolation']}, {r['clients']} clients on loopback: "
        f"{r['committed_per_s']:,.0f} committed txns/s (target {PG_TARGET:,}); "
        f"the checker took {100 * r['checker_share']:.1f}% of the total time; valid: {r['valid']}"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="mvcc-check-bench", description="Benchmarks of mvcc-check (not tests)."
    )
    ap.add_argument("--small", type=int, default=100_000, help="the smaller history size")
    ap.add_argument("--large", type=int, default=1_000_000, help="the large history size (0: skip)")
    ap.add_argument(
        "--huge", type=int, default=10_000_000, help="the largest list-append history (0: skip)"
    )
    ap.add_argument(
        "--cycle-heavy", type=int, default=200_000, help="size of the cycle-heavy comparison"
    )
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--skip-db", action="store_true")
    args = ap.parse_args(argv)
    sizes = [args.small] + ([args.large] if args.large else [])
    print(
        f"mvcc-check benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"
    )
    print(
        f"\nEach figure from a fresh process (wall time; peak memory: the process tree's summed PSS, "
        f"sampled, or the process's own peak RSS if larger), the fastest of {REPEAT} runs of each side."
    )
    print(
        "Reference: loading the same JSON Lines file with orjson, gc disabled. check = `mvcc-check check -o json`"
    )
    print(
        "(default model strict-serializable). list-append reads are up to 64 elements long (keys retired after 64).\n"
    )
    files = [(w, n, history_file(w, n)) for w in BENCH_WORKLOADS for n in sizes]
    if args.large:
        strings = string_keys_file(history_file("list-append", args.large))
        files.append(("list-append, string keys", args.large, strings))
    rows = bench_files(files)
    print_check_table(rows)
    by = {(r["workload"], r["txns"]): r for r in rows}
    huge = bench_huge(args.huge, by.get(("list-append", args.large))) if args.huge else None
    print_targets(by, args.small, args.large, huge)
    bench_cycle_heavy(args.cycle_heavy)
    bench_edn(args.small)
    if args.large:
        print_stages(args.large)
    if not args.skip_engine:
        bench_engine()
    if not args.skip_db:
        bench_db()


if __name__ == "__main__":
    main()
