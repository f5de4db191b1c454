"""What each anomaly means, in plain words, with its source. Rendering lives in report/."""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    "G0": "write cycle: transactions overwrote each other in a circle (Adya G0)",
    "G1a": "aborted read: a committed transaction saw a write of a transaction that failed (Adya G1a)",
    "G1b": "intermediate read: a transaction saw a value another transaction later overwrote itself (Adya G1b)",
    "G1c": "circular information flow: each transaction saw or overwrote the next one's writes (Adya G1c)",
    "G-single-item": "a cycle with exactly one anti-dependency, as read skew or a lost update makes (Adya G-single)",
    "G-nonadjacent-item": "a cycle with several anti-dependencies, none adjacent: forbidden by snapshot isolation",
    "G2-item": "write skew: a cycle with two adjacent anti-dependencies (Adya G2-item; Berenson A5B)",
    "G-single": "a cycle with exactly one anti-dependency, a predicate one: a phantom or a row changed "
    "out of a predicate read, read skew over a predicate (Adya G-single)",
    "G-nonadjacent": "a cycle with several anti-dependencies, none adjacent, some of them predicate "
    "ones: forbidden by snapshot isolation (Adya; Cerone & Gotsman)",
    "G2": "anti-dependency cycles over predicates: phantoms each transaction did not see, write skew "
    "through a predicate read (Adya G2; Berenson A3, P3)",
    "predicate-read-miss": "a predicate read did not return a key every version of which matches "
    "it (Elle's closed-predicate check)",
    "lost-update": "two transactions read the same state of a key and both wrote it (Berenson P4)",
    "internal": "a transaction's read contradicts its own earlier reads or writes",
    "dirty-update": "a committed update was built on an aborted one",
    "duplicate-elements": "a list read holds the same appended element twice",
    "incompatible-order": "two reads of a key that no single order of appends can produce",
    "future-read": "a transaction saw its own write before making it",
    "garbage-read": "a committed read returned a value no transaction wrote (Elle's garbage read)",
    "cyclic-versions": "the inferred version order of a key is cyclic",
    "empty-transaction-graph": "no dependencies between transactions: the history exercises nothing",
}
for _base in (
    "G0",
    "G1c",
    "G-single-item",
    "G-nonadjacent-item",
    "G2-item",
    "G-single",
    "G-nonadjacent",
    "G2",
):
    DESCRIPTIONS[_base + "-process"] = (
        DESCRIPTIONS[_base] + ", with session order (a process saw its own past)"
    )
    DESCRIPTIONS[_base + "-realtime"] = (
        DESCRIPTIONS[_base] + ", with real-time order (a stale read of finished work)"
    )
for _model in (
    "serializable",
    "repeatable-read",
    "strict-serializable",
    "strong-session-serializable",
    "snapshot-isolation",
    "strong-session-snapshot-isolation",
    "strong-snapshot-isolation",
):
    DESCRIPTIONS[_model + "-case-split"] = (
        "no read fixes some version order, and every possible order shows a cycle "
        f"{_model} forbids, of different types in different cases (mvcc-check's complete search)"
    )
DESCRIPTIONS["complete-search-over-budget"] = (
    "the complete search could not decide some region within its work budget: "
    "the models it leaves undecided are named"
)
