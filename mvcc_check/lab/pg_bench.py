"""Benchmark: PostgreSQL committed transactions per second with 8 clients on
loopback, and the checker's share of the total time.

`pg_throughput()` starts a throwaway PostgreSQL (mvcc_check.db.launch) unless
given a URL, runs the list-append workload at SERIALIZABLE, checks the
history, and returns the figures as a dict.

    python -m mvcc_check.lab.pg_bench [--url postgresql://...] [--txns N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from typing import Any

from mvcc_check.analysis.checker import CheckOptions, check
from mvcc_check.db.runner import run_workload
from mvcc_check.db.target import parse_db_url
from mvcc_check.history.readers import load_history
from mvcc_check.workload import WorkloadSpec

TARGET_TXNS_PER_S = 1000


def pg_throughput(
    url: str | None = None,
    *,
    txns: int = 6000,
    clients: int = 8,
    keys: int = 100,
    level: str = "serializable",
    seed: int = 1,
) -> dict[str, Any]:
    """Committed txns/s of `clients` clients against PostgreSQL, and the checker's share."""
    with contextlib.ExitStack() as stack:
        version_note = None
        if url is None:
            from mvcc_check.db.launch import launch

            srv = stack.enter_context(launch("postgresql"))
            url, version_note = srv.url, srv.version
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="mvcc-bench-"))
        path = os.path.join(tmp, "history.jsonl")
        spec = WorkloadSpec(
            workload="list-append", txns=txns, clients=clients, keys=keys, seed=seed
        )
        run = run_workload(parse_db_url(url), level, spec, path)
        t0 = time.perf_counter()
        result = check(load_history(path), CheckOptions(models=("serializable",)))
        check_s = time.perf_counter() - t0
    st = run.stats
    total = st.elapsed_s + check_s
    return {
        "database": run.server_version or version_note,
        "isolation": level,
        "clients": clients,
        "keys": keys,
        "txns": txns,
        "committed": st.committed,
        "aborted": st.aborted,
        "indeterminate": st.indeterminate,
        "run_s": round(st.elapsed_s, 3),
        "committed_per_s": round(st.committed_per_s, 1),
        "check_s": round(check_s, 3),
        "checker_share": round(check_s / total, 3) if total else 0.0,
        "valid": result.valid,
        "meets_target": st.committed_per_s >= TARGET_TXNS_PER_S,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="an existing PostgreSQL (default: a throwaway server)")
    ap.add_argument("--txns", type=int, default=6000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--keys", type=int, default=100)
    args = ap.parse_args(argv)
    r = pg_throughput(args.url, txns=args.txns, clients=args.clients, keys=args.keys)
    print(
        f"PostgreSQL ({r['database']}), {r['isolation']}, {r['clients']} clients, {r['keys']} keys: "
        f"{r['committed']} of {r['txns']} committed in {r['run_s']} s = "
        f"{r['committed_per_s']:.0f} committed txns/s (target {TARGET_TXNS_PER_S}); "
        f"check {r['check_s']} s = {100 * r['checker_share']:.1f}% of the total; valid: {r['valid']}"
    )


if __name__ == "__main__":
    main()
