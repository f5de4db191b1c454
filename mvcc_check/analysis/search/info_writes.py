"""Write cycles through indeterminate transactions, for the models that allow aborted reads.

An indeterminate (info) transaction is on a cycle only because a committed read
observed one of its writes, which proves it committed, or else that read saw an
aborted write (G1a): "the anomaly, or something worse" (Kingsbury & Alvaro
2020, section 4.3). Every model that forbids G1c or a stronger cycle forbids
G1a too, so there the proof holds. Read uncommitted (Adya's PL-1) and its
session and realtime variants forbid write cycles (G0) but allow G1a: there a
write cycle through an info transaction proves nothing (the transaction may
have aborted and its write been read dirty, as PL-1 permits).

So when the search reports a G0-family cycle through an info transaction that
only a read proves committed, the G0 family and the PL-1-family model tests are
decided again on the graph without info transactions, and the cycles through
them are reported under the G1c family instead (a cycle whose info transactions
the given transaction order places stays a G0: that knowledge holds anyway): a cycle of ww steps is a ww/wr cycle (Adya's G1c), which
holds whether or not the info transaction committed (if it did not, G1a). The
second search runs only in that case, which well-behaved histories never meet.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mvcc_check.analysis.graph import DependencyGraph
from mvcc_check.analysis.inference import Inference
from mvcc_check.analysis.search.find import CycleFindings, find_cycles
from mvcc_check.history.columns import INFO
from mvcc_check.history.pairing import TxnColumns

WRITE_CYCLES = {"G0": "G1c", "G0-process": "G1c-process", "G0-realtime": "G1c-realtime"}
# Model-level tests that forbid write cycles but not aborted reads.
WRITE_CYCLE_MODELS = ("PL-1", "strong-session-PL-1", "strong-PL-1")


def settle_info_write_cycles(
    findings: CycleFindings,
    graph: DependencyGraph,
    tc: TxnColumns,
    inf: Inference,
    extra: int,
    known: frozenset[str],
) -> CycleFindings:
    """The findings with G0-family cycles through info transactions moved to the
    G1c family, and the G0 family and PL-1-family tests taken from the graph
    without info transactions (unchanged when no such cycle was found)."""
    through = {
        name: [r for r in findings.cycles.get(name, []) if _read_proven(r)] for name in WRITE_CYCLES
    }
    if not any(through.values()):
        return findings
    info = tc.status == INFO
    keep = ~(info[graph.src] | info[graph.dst])
    plain = DependencyGraph(graph.n, graph.src[keep], graph.dst[keep], graph.rel[keep])
    alt = find_cycles(plain, tc, inf, extra, known)
    cycles: dict[str, list[Any]] = {
        k: v for k, v in findings.cycles.items() if k not in WRITE_CYCLES
    }
    for name, weaker in WRITE_CYCLES.items():
        # Info-free write cycles from the second search; those whose info txns the
        # given transaction order places (that knowledge holds under PL-1) stay.
        placed = [r for r in findings.cycles.get(name, []) if r.get("committed")]
        kept = alt.cycles.get(name, []) + [r for r in placed if not _read_proven(r)]
        if kept:
            cycles[name] = kept
        moved = [_as(weaker, r) for r in through[name]]
        if moved:
            cycles[weaker] = cycles.get(weaker, []) + moved
    cyclic = {k: v for k, v in findings.cyclic_models.items() if k not in WRITE_CYCLE_MODELS}
    cyclic.update({k: v for k, v in alt.cyclic_models.items() if k in WRITE_CYCLE_MODELS})
    return replace(findings, cycles=cycles, cyclic_models=cyclic)


def _read_proven(record: dict[str, Any]) -> bool:
    """Whether some info txn of the cycle is proven committed only by a read."""
    return any("reader" in p for p in record.get("committed", ()))


def _as(name: str, record: dict[str, Any]) -> dict[str, Any]:
    """A write cycle through info transactions, reported as the G1c-family cycle it also is."""
    return {**record, "type": name, "write-cycle": True}
