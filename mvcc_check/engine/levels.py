"""Isolation levels as policies over one engine, each with the consistency model it claims.

A level is plain data: how reads choose a version, whether writes check for
concurrent updates, whether serializable snapshot isolation's bookkeeping
runs, and whether reads and writes take two-phase locks. The engine
(`mvcc_check.engine.store`) reads these flags; nothing else differs.

Every level takes an exclusive row lock before writing a key and keeps it to
the end of the transaction (no dirty writes, Berenson P0), and every write
acts on the latest committed version of its key (or the transaction's own).
What differs:

- read-uncommitted: a read sees the newest version not known to be aborted,
  committed or not. Claims Adya PL-1 ("read-uncommitted": no G0).
- read-committed: a fresh snapshot per statement (per read micro-op).
  Claims PL-2 ("read-committed": no G0, G1a, G1b, G1c). Lost updates and
  read skew (G-single) are possible.
- repeatable-read: MySQL/InnoDB style. One snapshot (taken at begin) for
  reads, but writes act on the latest committed version without any conflict
  check, so lost updates happen, and a transaction that reads its own write
  of a key sees other transactions' later commits folded into it. That is
  not Adya PL-2.99 (lost update is G2-item, and the mix of a stale read view
  with up-to-date writes gives G-single), so, to be honest, this level claims
  only "read-committed" (PL-2), which it does satisfy: its write order is the
  commit order and reads only see committed state.
- snapshot-isolation: PostgreSQL's REPEATABLE READ. One snapshot at begin;
  a write to a key whose latest committed version is not in the snapshot
  aborts (first-updater-wins, after waiting for the row lock). Claims
  "snapshot-isolation" (write skew, G2-item, remains possible).
- serializable: serializable snapshot isolation (Cahill, Röhm & Fekete 2008;
  Ports & Grittner 2012) on top of snapshot-isolation: rw-antidependencies
  between concurrent transactions are tracked (SIREAD marks and the versions
  newer than the one a read sees), and a dangerous structure
  tin -rw-> pivot -rw-> tout whose tout committed before the other two is
  broken by aborting the pivot (or tin, if the pivot already committed).
  Structures whose tout does not commit first cannot close a cycle (Fekete
  et al. 2005) and are let through, as PostgreSQL does. Claims "serializable".
- serializable-2pl: strict two-phase locking: shared locks for reads,
  exclusive for writes, all held to commit or abort; deadlocks are detected
  and the requester aborted. Claims "serializable".
"""

from __future__ import annotations

from dataclasses import dataclass

# How a read chooses the version it sees.
READ_UNCOMMITTED = 0  # newest version not aborted
READ_STATEMENT = 1  # newest committed version at the time of the read
READ_TXN = 2  # newest version committed by the time the transaction began
READ_LOCKING = 3  # take a shared lock, then the newest committed version


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    claims: str  # the consistency model (Elle name) this level claims to give
    read_mode: int
    first_updater_wins: bool = False
    ssi: bool = False
    two_phase_locking: bool = False
    doc: str = ""

    @property
    def mechanisms(self) -> frozenset[str]:
        """The mechanisms this level relies on, by name: what a deliberate bug can break
        (`Bug.breaks`)."""
        committed = self.read_mode != READ_UNCOMMITTED
        named = {
            "first-updater-wins": self.first_updater_wins,
            "ssi": self.ssi,
            "two-phase-locking": self.two_phase_locking,
            "transaction-snapshot": self.read_mode == READ_TXN,
            "committed-reads": committed,
            # under 2PL the shared lock already keeps uncommitted versions away
            "unlocked-committed-reads": committed and not self.two_phase_locking,
        }
        return frozenset(name for name, on in named.items() if on)


LEVELS: dict[str, Level] = {
    lv.name: lv
    for lv in (
        Level(
            "read-uncommitted",
            "read-uncommitted",
            READ_UNCOMMITTED,
            doc="reads see uncommitted versions; write locks prevent dirty writes",
        ),
        Level(
            "read-committed",
            "read-committed",
            READ_STATEMENT,
            doc="a fresh snapshot per statement; writes act on the latest committed version",
        ),
        Level(
            "repeatable-read",
            "read-committed",
            READ_TXN,
            doc="MySQL/InnoDB: one read snapshot, writes on the latest committed version (lost update)",
        ),
        Level(
            "snapshot-isolation",
            "snapshot-isolation",
            READ_TXN,
            first_updater_wins=True,
            doc="PostgreSQL REPEATABLE READ: one snapshot, first-updater-wins",
        ),
        Level(
            "serializable",
            "serializable",
            READ_TXN,
            first_updater_wins=True,
            ssi=True,
            doc="serializable snapshot isolation: abort the pivot of a dangerous structure",
        ),
        Level(
            "serializable-2pl",
            "serializable",
            READ_LOCKING,
            two_phase_locking=True,
            doc="strict two-phase locking with deadlock detection",
        ),
    )
}

LEVEL_NAMES = tuple(LEVELS)


def get_level(name: str) -> Level:
    try:
        return LEVELS[name]
    except KeyError:
        raise ValueError(
            f"unknown isolation level {name!r} (expected one of {', '.join(LEVEL_NAMES)})"
        ) from None
