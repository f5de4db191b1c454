"""Deliberate engine faults (`--bug NAME`), each of which a correct checker must catch.

Each bug names the level it breaks (the level `run --bug` uses unless
`--isolation` says otherwise), the anomalies it is expected to produce
against that level's claim, the mechanism it breaks (`Level.mechanisms`:
under a level without that mechanism it changes nothing) and the workloads
whose histories can show it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mvcc_check.engine.levels import get_level
from mvcc_check.history.ops import CLOSED_PREDICATE, WORKLOADS

_ITEM_WORKLOADS = tuple(w for w in WORKLOADS if w != CLOSED_PREDICATE)


@dataclass(frozen=True, slots=True)
class Bug:
    name: str
    level: str
    doc: str
    expect: tuple[str, ...]  # anomaly types it typically produces (any one suffices)
    breaks: str  # the mechanism it breaks (one of Level.mechanisms)
    # the workloads whose histories can show it: each key changed once (closed-predicate)
    # leaves nothing for first-updater-wins or an early lock release to get wrong
    workloads: tuple[str, ...] = WORKLOADS


BUGS: dict[str, Bug] = {
    b.name: b
    for b in (
        Bug(
            "skip-first-updater",
            "snapshot-isolation",
            "skip the first-updater-wins check: a write to a concurrently updated key "
            "goes ahead on the latest version",
            ("lost-update", "G-single-item"),
            "first-updater-wins",
            _ITEM_WORKLOADS,
        ),
        Bug(
            "skip-dangerous-structure",
            "serializable",
            "skip SSI's dangerous-structure check: serializable degrades to snapshot isolation",
            ("G2-item",),
            "ssi",
        ),
        Bug(
            "read-aborted",
            "read-committed",
            "a read may see a version written by a transaction that aborted",
            ("G1a",),
            "committed-reads",
        ),
        Bug(
            "dirty-read",
            "read-committed",
            "reads ignore the snapshot and see uncommitted versions",
            ("G1a", "G1b", "G1c"),
            "unlocked-committed-reads",
        ),
        Bug(
            "stale-snapshot",
            "snapshot-isolation",
            "the read view is a snapshot from two commits ago, while conflict checks "
            "use the transaction's real snapshot",
            ("G-single-item", "G2-item"),
            "transaction-snapshot",
        ),
        Bug(
            "eager-vacuum",
            "snapshot-isolation",
            "vacuum ignores live snapshots: it keeps only the newest committed version, so "
            "an older snapshot finds nothing (or too little) to read",
            ("G-single-item", "G2-item"),
            "transaction-snapshot",
        ),
        Bug(
            "early-lock-release",
            "serializable-2pl",
            "release a shared lock right after the read instead of at commit (not two-phase)",
            ("G-single-item", "G2-item"),
            "two-phase-locking",
            _ITEM_WORKLOADS,
        ),
    )
}

BUG_NAMES = tuple(BUGS)

# Bugs of the closed-predicate workload's predicate reads: they change nothing in the
# item workloads, so the item matrix (BUGS) leaves them out.
PREDICATE_BUGS: dict[str, Bug] = {
    b.name: b
    for b in (
        Bug(
            "skip-predicate-locks",
            "serializable-2pl",
            "closed-predicate workload: a predicate read share-locks only the rows it finds, "
            "not the table, so a row inserted afterwards is a phantom no lock keeps out",
            ("G2", "G-single", "G-nonadjacent"),
            "two-phase-locking",
            (CLOSED_PREDICATE,),
        ),
        Bug(
            "skip-predicate-siread",
            "serializable",
            "closed-predicate workload: a predicate read leaves SSI's SIREAD marks only on the "
            "rows it finds, not on the table, so an insert after it is no rw-conflict SSI sees",
            ("G2", "G-single", "G-nonadjacent"),
            "ssi",
            (CLOSED_PREDICATE,),
        ),
    )
}
ALL_BUGS: dict[str, Bug] = {**BUGS, **PREDICATE_BUGS}
ALL_BUG_NAMES = tuple(ALL_BUGS)


def bugs_for(workload: str) -> list[Bug]:
    """The bugs a matrix of `workload` runs: each one its histories can show."""
    return [b for b in ALL_BUGS.values() if workload in b.workloads]


def bug_applies(bug: str, level: str) -> bool:
    """Whether `bug` changes anything under `level`: the level has the mechanism it breaks."""
    return ALL_BUGS[bug].breaks in get_level(level).mechanisms


def get_bug(name: str) -> Bug:
    try:
        return ALL_BUGS[name]
    except KeyError:
        raise ValueError(
            f"unknown bug {name!r} (expected one of {', '.join(ALL_BUG_NAMES)})"
        ) from None
