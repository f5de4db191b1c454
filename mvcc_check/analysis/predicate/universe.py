"""The closed universe of Elle's closed-predicate workload: every version of every key.

An `init` op creates the universe (keys and their first values); afterwards each
key is changed at most once (an insert, a write or a delete), as Elle's generator
does, so each key's version order is known: [unborn,] first value [, the change].
Knowing every version lets a predicate read say what it saw of the rows it did
*not* return: if exactly one version of a key fails the predicate, that is the
version the read saw (Elle's closed-universe assumption, elle.closed-predicate).

Unborn and dead (deleted) versions match no predicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mvcc_check.errors import HistoryError
from mvcc_check.history.predicates import (  # the predicates and markers, shared with producers
    DEAD,
    UNBORN,
    Marker,
    matches,
    parse_predicate,
    shown,
)

__all__ = ["DEAD", "UNBORN", "Marker", "matches", "parse_predicate", "shown"]


# -- the universe -------------------------------------------------------------


@dataclass
class Version:
    """One version of a key: its value and the transaction that installed it
    (-1 for the unborn version), with the micro-op index in that transaction."""

    value: Any
    writer: int
    mop: int


@dataclass
class Universe:
    """Every key's versions in order, and who wrote each."""

    versions: dict[Any, list[Version]] = field(default_factory=dict)
    # (key, value) -> the transaction (and micro-op index) of a failed write of it
    failed: dict[tuple[Any, Any], tuple[int, int]] = field(default_factory=dict)

    def of(self, k: Any) -> list[Version]:
        return self.versions.get(k, [])

    def find(self, k: Any, v: Any) -> int:
        """Position of version v in k's order; -1 for the unborn state of a key created
        by init (before all its versions); None if no known version has that value."""
        vs = self.versions.get(k, ())
        for i, ver in enumerate(vs):
            a = ver.value
            if isinstance(a, Marker) or isinstance(v, Marker):
                if a is v:
                    return i
            elif a == v:
                return i
        if v is UNBORN and vs:
            return -1
        return None  # type: ignore[return-value]

    def resolve(self, k: Any, v: Any) -> Any:
        """A read's version: v itself, or for nil the unborn or dead version where the
        key's versions tell which (None when both are possible: no conclusion).
        A nil read of a key that always existed is its unborn state (a read before init)."""
        if v is not None:
            return v
        vs = self.versions.get(k, [])
        unborn = bool(vs) and vs[0].value is UNBORN
        dead = bool(vs) and vs[-1].value is DEAD
        if unborn and dead:
            return None
        return DEAD if dead else UNBORN


@dataclass
class Change:
    """A change of a key by a transaction: the value installed (DEAD for a delete)."""

    key: Any
    value: Any
    txn: int
    mop: int
    where: str


def build_universe(
    init: list[tuple[int, dict]],
    changes: list[Change],
    failed: list[Change],
    source: str,
) -> Universe:
    """The versions of every key: init's first values, then at most one change each.

    HistoryError when a key changes twice (no version order can be known then) or a
    change repeats a value the key already had (two versions could not be told apart)."""
    u = Universe()
    first: dict[Any, Version] = {}
    for txn, values in init:
        for k, v in values.items():
            if k in first:
                raise HistoryError(source, "init", f"key {k!r} is created by two init ops")
            first[k] = Version(v, txn, 0)
    changed: dict[Any, Change] = {}
    for c in changes:
        prior = changed.get(c.key)
        if prior is not None:
            raise HistoryError(
                source,
                c.where,
                f"key {c.key!r} is changed again (first at {prior.where}): the closed-predicate "
                "workload changes each key at most once after init, so that its versions are known",
            )
        changed[c.key] = c
        base = first.get(c.key)
        if base is not None and not isinstance(c.value, Marker) and base.value == c.value:
            raise HistoryError(
                source,
                c.where,
                f"key {c.key!r} is set to {c.value!r}, the value init gave it: versions must differ",
            )
    for k in sorted(set(first) | set(changed), key=_sort_key):
        vs = [first[k]] if k in first else [Version(UNBORN, -1, -1)]
        c = changed.get(k)
        if c is not None:
            vs.append(Version(c.value, c.txn, c.mop))
        u.versions[k] = vs
    for c in failed:
        u.failed.setdefault((c.key, _hashable(c.value)), (c.txn, c.mop))
    return u


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def _sort_key(k: Any) -> tuple[str, str]:
    return (type(k).__name__, repr(k))
