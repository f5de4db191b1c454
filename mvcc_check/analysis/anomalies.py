"""The anomalies as data: one table, from which the rest derives.

Each row: the name (Elle's), what it means in plain words (the explanations), its
source, the cycle the search looks for (the automaton of `search/specs.py`: the
relation of the anchor step, the relations every other step may use, and the rule
on anti-dependency (rw) steps), and two orders: `rank`, Adya's order of the
phenomena (how tables and reports list anomaly types), and `textbook`, which anomaly
to reproduce first when a run shows several (the best known ones first: write skew,
lost update, read skew). Sources, as in `models.py`: Adya 1999 (G0 ... G2, G-single),
Berenson et al. 1995 (P4 lost update, A5B write skew), Cerone & Gotsman 2016
(G-nonadjacent, generalised SI), Elle (Kingsbury & Alvaro 2020: the `-item`,
`-process` and `-realtime` names and the non-cycle checks of list-append).

Models and what each forbids are in `models.py`; how each anomaly is found is code
(`columnar/`, `search/`); this table says what each is.
"""

from __future__ import annotations

from dataclasses import dataclass

from mvcc_check.analysis.graph import RW, WR, WW


@dataclass(frozen=True)
class Cycle:
    """A cycle type for the search: anchor relation, allowed relations, rw rule
    ("none" | "one" | "nonadjacent" | "adjacent")."""

    anchor: int
    allowed: int
    rw_rule: str


@dataclass(frozen=True)
class Anomaly:
    name: str
    description: str | None  # None: a model-level name never reported with an example
    source: str
    cycle: Cycle | None = None
    rank: int | None = None  # Adya's order (tables list these first, in this order)
    textbook: int | None = None  # 1 = the first to reproduce when a run shows several


ANOMALIES: tuple[Anomaly, ...] = (
    Anomaly(
        "G0",
        "write cycle: transactions overwrote each other in a circle (Adya G0)",
        "Adya 1999, G0",
        Cycle(WW, WW, "none"),
        rank=1,
        textbook=8,
    ),
    Anomaly(
        "G1a",
        "aborted read: a committed transaction saw a write of a transaction that failed (Adya G1a)",
        "Adya 1999, G1a",
        rank=2,
        textbook=5,
    ),
    Anomaly(
        "G1b",
        "intermediate read: a transaction saw a value another transaction later overwrote itself (Adya G1b)",
        "Adya 1999, G1b",
        rank=3,
        textbook=6,
    ),
    Anomaly(
        "G1c",
        "circular information flow: each transaction saw or overwrote the next one's writes (Adya G1c)",
        "Adya 1999, G1c",
        Cycle(WR, WW | WR, "none"),
        rank=4,
        textbook=7,
    ),
    Anomaly("G-single", None, "Adya 1999, G-single", rank=5, textbook=4),
    Anomaly(
        "G-single-item",
        "a cycle with exactly one anti-dependency, as read skew or a lost update makes (Adya G-single)",
        "Adya 1999, G-single; Elle (-item)",
        Cycle(RW, WW | WR, "one"),
        rank=6,
        textbook=3,
    ),
    Anomaly("G-nonadjacent", None, "Cerone & Gotsman 2016; Elle", rank=7),
    Anomaly(
        "G-nonadjacent-item",
        "a cycle with several anti-dependencies, none adjacent: forbidden by snapshot isolation",
        "Cerone & Gotsman 2016; Elle (-item)",
        Cycle(RW, WW | WR | RW, "nonadjacent"),
        rank=8,
        textbook=10,
    ),
    Anomaly("G2", None, "Adya 1999, G2", rank=9, textbook=9),
    Anomaly(
        "G2-item",
        "write skew: a cycle with two adjacent anti-dependencies (Adya G2-item; Berenson A5B)",
        "Adya 1999, G2-item; Berenson et al. 1995, A5B",
        Cycle(RW, WW | WR | RW, "adjacent"),
        rank=10,
        textbook=1,
    ),
    Anomaly(
        "lost-update",
        "two transactions read the same state of a key and both wrote it (Berenson P4)",
        "Berenson et al. 1995, P4",
        rank=11,
        textbook=2,
    ),
    Anomaly(
        "internal",
        "a transaction's read contradicts its own earlier reads or writes",
        "Elle",
    ),
    Anomaly("dirty-update", "a committed update was built on an aborted one", "Elle"),
    Anomaly("duplicate-elements", "a list read holds the same appended element twice", "Elle"),
    Anomaly(
        "incompatible-order",
        "two reads of a key that no single order of appends can produce",
        "Elle",
    ),
    Anomaly("future-read", "a transaction saw its own write before making it", "Elle"),
    Anomaly("cyclic-versions", "the inferred version order of a key is cyclic", "Elle"),
    Anomaly(
        "empty-transaction-graph",
        "no dependencies between transactions: the history exercises nothing",
        "Elle",
    ),
)

BY_NAME: dict[str, Anomaly] = {a.name: a for a in ANOMALIES}

# The variants with session (process) or real-time order: each cycle type may also
# use those steps (and must use one), and means the same with that order added.
VARIANTS: dict[str, str] = {
    "-process": ", with session order (a process saw its own past)",
    "-realtime": ", with real-time order (a stale read of finished work)",
}


def descriptions() -> dict[str, str]:
    """Every reportable anomaly type (variants included) in plain words."""
    out = {a.name: a.description for a in ANOMALIES if a.description is not None}
    for a in ANOMALIES:
        if a.cycle is not None:
            for suffix, words in VARIANTS.items():
                out[a.name + suffix] = a.description + words  # type: ignore[operator]
    return out


def cycle_types() -> list[tuple[str, Cycle]]:
    """The cycle types the search looks for, in the table's order."""
    return [(a.name, a.cycle) for a in ANOMALIES if a.cycle is not None]


ADYA_ORDER: tuple[str, ...] = tuple(
    a.name
    for a in sorted((a for a in ANOMALIES if a.rank), key=lambda a: a.rank)  # type: ignore[arg-type, return-value]
)
"""Adya's order of the phenomena: how tables list anomaly types (the rest by name)."""

TEXTBOOK_ORDER: tuple[str, ...] = tuple(
    a.name
    for a in sorted((a for a in ANOMALIES if a.textbook), key=lambda a: a.textbook)  # type: ignore[arg-type, return-value]
)
"""Which anomaly to reproduce when a run shows several: the textbook ones first."""


def adya_sort_key(kind: str) -> tuple[int, str]:
    """Adya's order (G0, G1a ... G2-item, lost-update), then the rest by name."""
    return (ADYA_ORDER.index(kind) if kind in ADYA_ORDER else len(ADYA_ORDER), kind)
