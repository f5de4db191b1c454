"""Engine throughput: committed transactions per second, per isolation level.

`engine_throughput()` runs the scheduler over a fresh engine for each level
(4-micro-op list-append transactions, 16 clients, one core, history kept in
memory as the recorder does) and returns the figures; `make bench` prints
them. Workload generation is done before the clock starts; recording is
timed, since every real run records. (The default matrix's wall time,
engine plus checker, is `mvcc_check.lab.engine_runs.matrix_wall_time`.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from mvcc_check.engine.levels import LEVEL_NAMES
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.workload import TxnGenerator, WorkloadSpec

TARGET_TXNS_PER_S = 20_000


@dataclass(frozen=True)
class EngineBench:
    level: str
    txns: int
    committed: int
    seconds: float
    committed_per_s: float
    aborted: int
    longest_chain: int


def engine_throughput(
    levels: Sequence[str] = LEVEL_NAMES,
    txns: int = 20_000,
    clients: int = 16,
    keys: int = 100,
    seed: int = 1,
    repeat: int = 3,
) -> list[EngineBench]:
    """Best-of-`repeat` committed transactions per second for each level."""
    spec = WorkloadSpec(
        workload="list-append",
        txns=txns,
        clients=clients,
        keys=keys,
        mops_per_txn=4,
        min_mops_per_txn=4,
        seed=seed,
    )
    workload = list(TxnGenerator(spec))
    out = []
    for level in levels:
        best = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = run_engine(level, spec, txns=workload)
            dt = time.perf_counter() - t0
            if best is None or dt < best[0]:
                best = (dt, r.stats)
        assert best is not None
        dt, stats = best
        out.append(
            EngineBench(
                level=level,
                txns=txns,
                committed=stats["committed"],
                seconds=dt,
                committed_per_s=stats["committed"] / dt,
                aborted=stats["aborted"],
                longest_chain=stats["longest_chain"],
            )
        )
    return out


def main() -> None:  # pragma: no cover - manual entry point
    print(f"engine: 4-mop list-append, 16 clients, one core (target {TARGET_TXNS_PER_S:,}/s)")
    for b in engine_throughput():
        flag = "ok" if b.committed_per_s >= TARGET_TXNS_PER_S else "below target"
        print(
            f"  {b.level:20} {b.committed_per_s:>9,.0f} committed txns/s "
            f"({b.committed:,} of {b.txns:,} committed, {b.aborted:,} aborted, "
            f"longest chain {b.longest_chain}) {flag}"
        )


if __name__ == "__main__":  # pragma: no cover
    main()
