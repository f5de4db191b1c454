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
    if bug in ("stale-snapshot", "eager-vacuum"):
        return lv.read_mode == READ_TXN
    if bug == "dirty-read":  # under 2PL the shared lock already keeps uncommitted versions away
        return lv.read_mode != READ_UNCOMMITTED and not lv.two_phase_locking
    return lv.read_mode != READ_UNCOMMITTED  # read-aborted


def get_bug(name: str) -> Bug:
    try:
        return BUGS[name]
    except KeyError:
        raise ValueError(f"unknown bug {name!r} (expected one of {', '.join(BUG_NAMES)})") from None
