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
`-process` and `-realtime` names, the non-cycle checks of list-append, garbage
reads and the closed-predicate workload's predicate-read-miss). The predicate
types (G-single, G-nonadjacent, G2) are the item cycle shapes through a predicate
anti-dependency: the item row names its predicate type.

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
    predicate: str | None = None  # the type of this cycle's shape through a predicate rw


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
    Anomaly(
        "G-single",
        "a cycle with exactly one anti-dependency, a predicate one: a phantom or a row changed "
        "out of a predicate read, read skew over a predicate (Adya G-single)",
        "Adya 1999, G-single; Elle (closed-predicate)",
        rank=5,
        textbook=4,
    ),
    Anomaly(
        "G-single-item",
        "a cycle with exactly one anti-dependency, as read skew or a lost update makes (Adya G-single)",
        "Adya 1999, G-single; Elle (-item)",
        Cycle(RW, WW | WR, "one"),
        rank=6,
        textbook=3,
        predicate="G-single",
    ),
    Anomaly(
        "G-nonadjacent",
        "a cycle with several anti-dependencies, none adjacent, some of them predicate "
        "ones: forbidden by snapshot isolation (Adya; Cerone & Gotsman)",
        "Cerone & Gotsman 2016; Elle (closed-predicate)",
        rank=7,
    ),
    Anomaly(
        "G-nonadjacent-item",
        "a cycle with several anti-dependencies, none adjacent: forbidden by snapshot isolation",
        "Cerone & Gotsman 2016; Elle (-item)",
        Cycle(RW, WW | WR | RW, "nonadjacent"),
        rank=8,
        textbook=10,
        predicate="G-nonadjacent",
    ),
    Anomaly(
        "G2",
        "anti-dependency cycles over predicates: phantoms each transaction did not see, write "
        "skew through a predicate read (Adya G2; Berenson A3, P3)",
        "Adya 1999, G2; Berenson et al. 1995, A3, P3",
        rank=9,
        textbook=9,
    ),
    Anomaly(
        "G2-item",
        "write skew: a cycle with two adjacent anti-dependencies (Adya G2-item; Berenson A5B)",
        "Adya 1999, G2-item; Berenson et al. 1995, A5B",
        Cycle(RW, WW | WR | RW, "adjacent"),
        rank=10,
        textbook=1,
        predicate="G2",
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
    Anomaly(
        "garbage-read",
        "a committed read returned a value no transaction wrote (Elle's garbage read)",
        "Elle",
    ),
    Anomaly(
        "predicate-read-miss",
        "a predicate read did not return a key every version of which matches it (Elle's "
        "closed-predicate check)",
        "Elle (closed-predicate)",
    ),
    Anomaly("cyclic-versions", "the inferred version order of a key is cyclic", "Elle"),
    Anomaly(
        "empty-transaction-graph",
        "no dependencies between transactions: the history exercises nothing",
        "Elle",
    ),
    *(
        Anomaly(
            f"{m}-case-split",
            "no read fixes some version order, and every possible order shows a cycle "
            f"{m} forbids, of different types in different cases",
            "mvcc-check's complete search (analysis/complete/)",
        )
        for m in (
            "serializable",
            "repeatable-read",
            "strict-serializable",
            "strong-session-serializable",
            "snapshot-isolation",
            "strong-session-snapshot-isolation",
            "strong-snapshot-isolation",
        )
    ),
    Anomaly(
        "complete-search-over-budget",
        "the complete search could not decide some region within its work budget: the "
        "models it leaves undecided are named",
        "mvcc-check's complete search (analysis/complete/)",
    ),
)

BY_NAME: dict[str, Anomaly] = {a.name: a for a in ANOMALIES}

# The variants with session (process) or real-time order: each cycle type may also
# use those steps (and must use one), and means the same with that order added.
VARIANTS: dict[str, str] = {
    "-process": ", with session order (a process saw its own past)",
    "-realtime": ", with real-time order (a stale read of finished work)",
}


PREDICATE_TYPES: dict[str, str] = {a.name: a.predicate for a in ANOMALIES if a.predicate}
"""Each item cycle type and the predicate type of its shape (G2-item: G2), which the
closed-predicate search names a cycle through a predicate anti-dependency."""


def descriptions() -> dict[str, str]:
    """Every reportable anomaly type (variants included) in plain words."""
    out = {a.name: a.description for a in ANOMALIES if a.description is not None}
    predicate_types = set(PREDICATE_TYPES.values())
    for a in ANOMALIES:
        if a.cycle is not None or a.name in predicate_types:
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
