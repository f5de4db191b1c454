"""Deliberate engine faults (`--bug NAME`), each of which a correct checker must catch.

Each bug names the level it breaks (the level `run --bug` uses unless
`--isolation` says otherwise) and the anomalies it is expected to produce
against that level's claim.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bug:
    name: str
    level: str
    doc: str
    expect: tuple[str, ...]  # anomaly types it typically produces (any one suffices)


BUGS: dict[str, Bug] = {
    b.name: b
    for b in (
        Bug(
            "skip-first-updater",
            "snapshot-isolation",
            "skip the first-updater-wins check: a write to a concurrently updated key "
            "goes ahead on the latest version",
            ("lost-update", "G-single-item"),
        ),
        Bug(
            "skip-dangerous-structure",
            "serializable",
            "skip SSI's dangerous-structure check: serializable degrades to snapshot isolation",
            ("G2-item",),
        ),
        Bug(
            "read-aborted",
            "read-committed",
            "a read may see a version written by a transaction that aborted",
            ("G1a",),
        ),
        Bug(
            "dirty-read",
            "read-committed",
            "reads ignore the snapshot and see uncommitted versions",
            ("G1a", "G1b", "G1c"),
        ),
        Bug(
            "stale-snapshot",
            "snapshot-isolation",
            "the read view is a snapshot from two commits ago, while conflict checks "
            "use the transaction's real snapshot",
            ("G-single-item", "G2-item"),
        ),
        Bug(
            "eager-vacuum",
            "snapshot-isolation",
            "vacuum ignores live snapshots: it keeps only the newest committed version, so "
            "an older snapshot finds nothing (or too little) to read",
            ("G-single-item", "G2-item"),
        ),
        Bug(
            "early-lock-release",
            "serializable-2pl",
            "release a shared lock right after the read instead of at commit (not two-phase)",
            ("G-single-item", "G2-item"),
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
        ),
        Bug(
            "skip-predicate-siread",
            "serializable",
            "closed-predicate workload: a predicate read leaves SSI's SIREAD marks only on the "
            "rows it finds, not on the table, so an insert after it is no rw-conflict SSI sees",
            ("G2", "G-single", "G-nonadjacent"),
        ),
    )
}
ALL_BUGS: dict[str, Bug] = {**BUGS, **PREDICATE_BUGS}
ALL_BUG_NAMES = tuple(ALL_BUGS)

# Item bugs whose mechanism this workload (each key changed once) cannot reach.
_NOT_CLOSED_PREDICATE = frozenset({"skip-first-updater", "early-lock-release"})


def bugs_for(workload: str) -> list[Bug]:
    """The bugs a matrix of `workload` runs: each one its histories can show."""
    if workload != "closed-predicate":
        return list(BUGS.values())
    return [b for b in ALL_BUGS.values() if b.name not in _NOT_CLOSED_PREDICATE]


def bug_applies(bug: str, level: str) -> bool:
    """Whether `bug` changes anything under `level` (each breaks one mechanism)."""
    from mvcc_check.engine.levels import READ_TXN, READ_UNCOMMITTED, get_level

    lv = get_level(level)
    if bug == "skip-first-updater":
        return lv.first_updater_wins
    if bug == "skip-dangerous-structure":
        return lv.ssi
    if bug == "early-lock-release":
        return lv.two_phase_locking
    if bug == "skip-predicate-locks":
        return lv.two_phase_locking
    if bug == "skip-predicate-siread":
        return lv.ssi
    if bug in ("stale-snapshot", "eager-vacuum"):
        return lv.read_mode == READ_TXN
    if bug == "dirty-read":  # under 2PL the shared lock already keeps uncommitted versions away
        return lv.read_mode != READ_UNCOMMITTED and not lv.two_phase_locking
    return lv.read_mode != READ_UNCOMMITTED  # read-aborted


def get_bug(name: str) -> Bug:
    try:
        return ALL_BUGS[name]
    except KeyError:
        raise ValueError(
            f"unknown bug {name!r} (expected one of {', '.join(ALL_BUG_NAMES)})"
        ) from None
