"""Elle's closed-predicate workload, as its histories carry it: predicates (`true`,
`[= v]`, `[mod m r]`) and whether a value matches one, and the markers of a key's
unborn and dead (deleted) versions. Shared by the producers (the engine, Hermitage's
predicate scenarios) and the checker (analysis/predicate/), so neither imports the
other."""

from __future__ import annotations

from typing import Any


class Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNBORN = Marker("elle/unborn")  # before a key exists
DEAD = Marker("elle/dead")  # after it is deleted


def shown(v: Any) -> Any:
    """A version as JSON shows it: Elle's :elle/unborn and :elle/dead as strings."""
    return v.name if isinstance(v, Marker) else v


# -- predicates ---------------------------------------------------------------


def parse_predicate(p: Any) -> tuple:
    """A predicate as Elle writes it, normalised: ("true",), ("=", v) or ("mod", m, r).

    Accepts Elle's `:true` (read as "true", or JSON true), `[:= v]` and `[:mod m r]`
    (m a positive integer). Raises ValueError saying what is wrong."""
    if p is True or p == "true" or p == ("true",):
        return ("true",)
    if isinstance(p, tuple | list) and len(p) >= 1:
        op = p[0]
        if op in ("=", "==") and len(p) == 2:
            return ("=", p[1])
        if op == "mod" and len(p) == 3:
            m, r = p[1], p[2]
            if type(m) is int and type(r) is int and m > 0:
                return ("mod", m, r)
            raise ValueError(f"[mod m r] needs integers with m > 0, got {list(p)!r}")
    raise ValueError(f"unknown predicate {p!r} (expected true, [= v] or [mod m r])")


def matches(pred: tuple, v: Any) -> bool:
    """Whether version v matches the predicate (unborn and dead never do)."""
    if isinstance(v, Marker):
        return False
    if pred[0] == "true":
        return True
    if pred[0] == "=":
        return v == pred[1]
    if type(v) is not int:  # mod of a non-integer: no match (SQL would refuse it)
        return False
    return v % pred[1] == pred[2]  # floored, as Clojure's mod
