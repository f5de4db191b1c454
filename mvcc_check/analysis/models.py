"""Consistency models and anomalies, held as data with their sources.

Three relations, each edge carrying a citation:

- MODEL_IMPLIES: a -> b means every history satisfying a satisfies b.
- PROSCRIBES: the anomalies a model forbids directly (weaker models it
  implies add theirs).
- ANOMALY_IMPLIES: a -> b means a history showing a also shows b.

They follow Elle's hierarchy (Kingsbury & Alvaro 2020, elle.consistency-model)
so that `not` / `also-not` agree with Elle and elle-cli. Sources:

- Adya: Adya, "Weak Consistency: A Generalized Theory and Optimistic
  Implementations for Distributed Transactions", MIT PhD thesis, 1999.
- Berenson: Berenson et al., "A Critique of ANSI SQL Isolation Levels", SIGMOD 1995.
- Bailis: Bailis et al., "Highly Available Transactions: Virtues and Limitations", VLDB 2014.
- Cerone: Cerone, Bernardi, Gotsman, "A Framework for Transactional
  Consistency Models with Atomic Visibility", CONCUR 2015; Cerone & Gotsman,
  "Analysing Snapshot Isolation", PODC 2016.
- Daudjee: Daudjee & Salem, "Lazy Database Replication with Ordering
  Guarantees" (ICDE 2004) and "... with Snapshot Isolation" (VLDB 2006).
- Bernstein: Bernstein, Hadzilacos, Goodman, "Concurrency Control and
  Recovery in Database Systems", 1987.
- Zuikeviciute: Zuikeviciute & Pedone, "Correctness Criteria for Database Replication".
- ROLA: Liu, Ölveczky et al., "ROLA: A New Distributed Transaction Protocol".
- Elle: Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from
  Experimental Observations", VLDB 2020 (and its source, where a relation is
  Elle's own generalisation rather than published).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from mvcc_check.errors import OptionError

# Friendly name -> canonical (Adya's name where there is one).
CANONICAL: dict[str, str] = {
    "consistent-view": "PL-2+",  # Adya
    "conflict-serializable": "PL-3",  # Adya
    "cursor-stability": "PL-CS",  # Adya
    "forward-consistent-view": "PL-FCV",  # Adya
    "monotonic-snapshot-read": "PL-MSR",  # Adya
    "monotonic-view": "PL-2L",  # Adya
    "read-committed": "PL-2",  # Adya
    "read-uncommitted": "PL-1",  # Adya
    "repeatable-read": "PL-2.99",  # Adya
    "serializable": "PL-3",  # Adya; serializable means conflict-serializable (Bernstein)
    "snapshot-isolation": "PL-SI",  # Adya
    "strict-serializable": "PL-SS",  # Adya
    "strong-serializable": "PL-SS",  # Elle treats strong and strict as one
    "update-serializable": "PL-3U",  # Adya
    "strong-session-read-uncommitted": "strong-session-PL-1",  # Elle
    "strong-session-read-committed": "strong-session-PL-2",  # Elle
    "strong-read-uncommitted": "strong-PL-1",  # Elle
    "strong-read-committed": "strong-PL-2",  # Elle
}

# Canonical -> friendly, as reported in `not` / `also-not`.
FRIENDLY: dict[str, str] = {v: k for k, v in CANONICAL.items()}
FRIENDLY["PL-3"] = "serializable"
# Elle reports PL-SS as strong-serializable; we keep its spelling in `not` / `also-not`.
FRIENDLY["PL-SS"] = "strong-serializable"

# (stronger, weaker, source). Names are friendly or canonical; both resolve.
MODEL_IMPLIES: tuple[tuple[str, str, str], ...] = (
    ("causal-cerone", "read-atomic", "Cerone"),
    ("consistent-view", "cursor-stability", "Adya"),
    ("consistent-view", "monotonic-view", "Adya"),
    ("conflict-serializable", "view-serializable", "Bernstein"),
    ("cursor-stability", "read-committed", "Bailis"),
    ("cursor-stability", "PL-2", "Adya"),
    ("forward-consistent-view", "consistent-view", "Adya"),
    ("PL-2", "PL-1", "Adya"),
    ("PL-3", "repeatable-read", "Adya"),
    ("PL-3", "update-serializable", "Adya"),
    ("update-serializable", "forward-consistent-view", "Adya"),
    ("monotonic-atomic-view", "read-committed", "Bailis"),
    ("monotonic-view", "PL-2", "Adya"),
    ("monotonic-snapshot-read", "PL-2", "Adya"),
    ("parallel-snapshot-isolation", "causal-cerone", "Cerone"),
    ("parallel-snapshot-isolation", "update-atomic", "ROLA"),
    ("prefix", "causal-cerone", "Cerone"),
    ("read-atomic", "monotonic-atomic-view", "Cerone"),
    ("read-committed", "read-uncommitted", "Berenson (ANSI SQL)"),
    ("repeatable-read", "cursor-stability", "Adya"),
    ("repeatable-read", "monotonic-atomic-view", "Bailis"),
    ("update-atomic", "read-atomic", "ROLA"),
    ("serializable", "repeatable-read", "Berenson (ANSI SQL)"),
    ("serializable", "snapshot-isolation", "Bailis; Cerone"),
    ("serializable", "view-serializable", "Bernstein"),
    ("session-serializable", "1SR", "Zuikeviciute"),
    ("snapshot-isolation", "forward-consistent-view", "Adya"),
    ("snapshot-isolation", "monotonic-atomic-view", "Bailis"),
    ("snapshot-isolation", "monotonic-snapshot-read", "Adya"),
    ("snapshot-isolation", "parallel-snapshot-isolation", "Cerone"),
    ("snapshot-isolation", "prefix", "Cerone"),
    ("strict-serializable", "PL-3", "Adya"),
    ("strict-serializable", "serializable", "Bailis"),
    ("strict-serializable", "linearizable", "Bailis"),
    ("strict-serializable", "snapshot-isolation", "Adya"),
    ("strict-serializable", "strong-snapshot-isolation", "Elle"),
    ("strict-serializable", "strong-session-serializable", "Daudjee"),
    ("strong-session-PL-1", "PL-1", "Elle"),
    ("strong-session-PL-2", "PL-2", "Elle"),
    ("strong-session-PL-2", "strong-session-PL-1", "Elle"),
    ("strong-PL-1", "strong-session-PL-1", "Elle"),
    ("strong-PL-2", "strong-session-PL-2", "Elle"),
    ("strong-PL-2", "strong-PL-1", "Elle"),
    ("strong-session-serializable", "serializable", "Daudjee"),
    ("strong-session-serializable", "strong-session-snapshot-isolation", "Daudjee"),
    ("strong-session-snapshot-isolation", "snapshot-isolation", "Daudjee-SI; Cerone-SI"),
    ("strong-session-snapshot-isolation", "strong-session-PL-2", "Elle"),
    ("strong-serializable", "session-serializable", "Zuikeviciute"),
    ("strong-snapshot-isolation", "strong-session-snapshot-isolation", "Daudjee-SI"),
    ("strong-snapshot-isolation", "strong-PL-2", "Elle"),
    ("linearizable", "sequential", "Bailis"),
    ("sequential", "causal", "Bailis"),
    ("causal", "writes-follow-reads", "Bailis"),
    ("causal", "PRAM", "Bailis"),
    ("PRAM", "monotonic-reads", "Bailis"),
    ("PRAM", "monotonic-writes", "Bailis"),
    ("PRAM", "read-your-writes", "Bailis"),
)

# (model, anomalies it forbids directly, source)
PROSCRIBES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("causal-cerone", ("internal", "G1a"), "Cerone (incomplete)"),
    ("cursor-stability", ("G1", "G-cursor", "lost-update"), "Adya; Bailis"),
    ("monotonic-view", ("G1", "G-monotonic"), "Adya"),
    ("monotonic-snapshot-read", ("G1", "G-MSR"), "Adya"),
    ("consistent-view", ("G1", "G-single"), "Adya"),
    ("forward-consistent-view", ("G1", "G-SIb"), "Adya"),
    ("parallel-snapshot-isolation", ("internal", "G1a"), "Cerone (incomplete)"),
    ("PL-3", ("G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"), "Adya"),
    ("PL-2", ("G1", "PL-2-cycle-exists"), "Adya"),
    # Version orders are total and appends unique: a history showing either
    # of these has no Adya reading at all.
    ("PL-1", ("G0", "duplicate-elements", "cyclic-versions", "PL-1-cycle-exists"), "Adya; Elle"),
    ("prefix", ("internal", "G1a"), "Cerone (incomplete)"),
    ("serializable", ("internal",), "Cerone (incomplete)"),
    # Generalised SI forbids every cycle whose rw edges are non-adjacent.
    (
        "snapshot-isolation",
        ("internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"),
        "Adya; Cerone-SI",
    ),
    ("read-atomic", ("internal", "G1a", "future-read"), "Cerone (incomplete)"),
    ("repeatable-read", ("G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"), "Adya; Bailis"),
    ("update-atomic", ("lost-update",), "ROLA (Elle names its guarantee update-atomic)"),
    ("strict-serializable", ("G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"), "Adya"),
    ("strong-session-PL-1", ("strong-session-PL-1-cycle-exists", "G0-process"), "Elle"),
    ("strong-session-PL-2", ("strong-session-PL-2-cycle-exists", "G1c-process"), "Elle"),
    ("strong-PL-1", ("strong-PL-1-cycle-exists", "G0-realtime"), "Elle"),
    ("strong-PL-2", ("strong-PL-2-cycle-exists", "G1c-realtime"), "Elle"),
    (
        "strong-session-snapshot-isolation",
        (
            "internal",
            "G1-process",
            "G-nonadjacent-process",
            "strong-session-snapshot-isolation-cycle-exists",
        ),
        "Elle",
    ),
    (
        "strong-snapshot-isolation",
        (
            "internal",
            "G1-realtime",
            "G-nonadjacent-realtime",
            "strong-snapshot-isolation-cycle-exists",
        ),
        "Elle",
    ),
    (
        "strong-session-serializable",
        ("G1-process", "G2-process", "strong-session-serializable-cycle-exists"),
        "Daudjee; Elle",
    ),
    ("update-serializable", ("G1", "G-update"), "Adya"),
    # A read of a value no transaction wrote: Elle's garbage read ("a read
    # observes a value which was never written", Kingsbury & Alvaro 2020, section
    # 6.1). No model admits one: in Adya's histories every read observes a version
    # some transaction installed, and Bailis's session guarantees and Bernstein's
    # view and one-copy serializability constrain which written version a read
    # returns. Listed for each model that implies no other of these.
    ("PL-1", ("garbage-read",), "Adya; Elle"),
    ("monotonic-reads", ("garbage-read",), "Bailis; Elle"),
    ("monotonic-writes", ("garbage-read",), "Bailis; Elle"),
    ("read-your-writes", ("garbage-read",), "Bailis; Elle"),
    ("writes-follow-reads", ("garbage-read",), "Bailis; Elle"),
    ("view-serializable", ("garbage-read",), "Bernstein; Elle"),
    ("1SR", ("garbage-read",), "Zuikeviciute; Elle"),
)

# (anomaly, anomaly it implies, source)
ANOMALY_IMPLIES: tuple[tuple[str, str, str], ...] = (
    ("G0", "G1c", "Adya"),
    ("G0", "G0-process", "trivial: a cycle without process edges is a process cycle"),
    ("G0-process", "G1c-process", "Adya"),
    ("G0-process", "G0-realtime", "processes are single-threaded"),
    ("G0-realtime", "G1c-realtime", "Adya"),
    ("G1a", "G1", "Adya"),
    ("G1b", "G1", "Adya"),
    ("G1c", "G1", "Adya"),
    ("G1c", "G1c-process", "trivial"),
    ("G1c-process", "G1c-realtime", "processes are single-threaded"),
    ("G1c-process", "G1-process", "Adya"),
    ("G1c-realtime", "G1-realtime", "Adya"),
    ("G1", "G1-process", "trivial"),
    ("G1-process", "G1-realtime", "processes are single-threaded"),
    ("G-single-item", "G-single", "Adya: item edges are edges"),
    ("G-single-item", "G-single-item-process", "trivial"),
    ("G-single-item", "G-nonadjacent-item", "Elle"),
    ("G-single-item-process", "G-single-process", "Adya"),
    ("G-single-item-process", "G-single-item-realtime", "processes are single-threaded"),
    ("G-single-item-process", "G-nonadjacent-item-process", "Elle"),
    ("G-single-item-realtime", "G-single-realtime", "Adya"),
    ("G-single-item-realtime", "G-nonadjacent-item-realtime", "Elle"),
    ("G-single", "G-nonadjacent", "Elle"),
    ("G-single", "GSIb", "Adya"),
    ("G-single", "G-single-process", "trivial"),
    ("G-single-process", "G-nonadjacent-process", "Elle"),
    ("G-single-process", "G-single-realtime", "processes are single-threaded"),
    ("G-single-realtime", "G-nonadjacent-realtime", "Elle"),
    ("G-nonadjacent-item", "G-nonadjacent", "Adya"),
    ("G-nonadjacent-item", "G2-item", "Adya"),
    ("G-nonadjacent-item", "G-nonadjacent-item-process", "trivial"),
    ("G-nonadjacent-item-process", "G-nonadjacent-process", "Adya"),
    ("G-nonadjacent-item-process", "G2-item-process", "Adya"),
    ("G-nonadjacent-item-process", "G-nonadjacent-item-realtime", "processes are single-threaded"),
    ("G-nonadjacent-item-realtime", "G2-item-realtime", "Adya"),
    ("G-nonadjacent-item-realtime", "G-nonadjacent-realtime", "Adya"),
    ("G-nonadjacent", "G2", "Adya"),
    ("G-nonadjacent", "G-nonadjacent-process", "trivial"),
    ("G-nonadjacent-process", "G2-process", "Adya"),
    ("G-nonadjacent-process", "G-nonadjacent-realtime", "processes are single-threaded"),
    ("G-nonadjacent-realtime", "G2-realtime", "Adya"),
    ("G2", "G2-process", "trivial"),
    ("G2-item", "G2", "Adya"),
    ("G2-item", "G2-item-process", "trivial"),
    ("G2-item-process", "G2-process", "Adya"),
    ("G2-item-process", "G2-item-realtime", "processes are single-threaded"),
    ("G2-item-realtime", "G2-realtime", "Adya"),
    ("G2-process", "G2-realtime", "processes are single-threaded"),
    ("GSIa", "GSI", "Adya"),
    ("GSIb", "GSI", "Adya"),
    (
        "incompatible-order",
        "G1a",
        "Elle: two committed reads from no single timeline imply a dirty read",
    ),
    ("future-read", "G1c", "Elle: a read of one's own later write is a trivial wr cycle"),
    ("dirty-update", "G1a", "Elle: an update built on an aborted write"),
    ("lost-update", "write-skew", "Bailis"),
    ("lost-update", "G2-item", "Adya: the H_lu history"),
    ("write-skew", "G2", "Berenson A5B; Kleppmann's Hermitage"),
)

# Anomalies whose presence makes a verdict unknown rather than false.
UNKNOWN_ANOMALIES = frozenset({"empty-transaction-graph", "cycle-search-timeout"})

# Models a user may name on the command line (friendly and Adya names).
REQUIRED_MODEL_NAMES = (
    "read-uncommitted",
    "read-committed",
    "cursor-stability",
    "repeatable-read",
    "snapshot-isolation",
    "serializable",
    "strong-session-snapshot-isolation",
    "strong-session-serializable",
    "strong-snapshot-isolation",
    "strict-serializable",
)


def canonical(model: str) -> str:
    return CANONICAL.get(model, model)


def friendly(model: str) -> str:
    return FRIENDLY.get(model, model)


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        todo.extend(edges.get(x, ()))
    return seen


def _adjacency(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    out: dict[str, set[str]] = {}
    inn: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        inn.setdefault(b, set()).add(a)
    return out, inn


_MODEL_OUT, _MODEL_IN = _adjacency((canonical(a), canonical(b)) for a, b, _ in MODEL_IMPLIES)
_ANOM_OUT, _ANOM_IN = _adjacency((a, b) for a, b, _ in ANOMALY_IMPLIES)
_PROSCRIBED: dict[str, set[str]] = {}
_PROSCRIBERS: dict[str, set[str]] = {}
for _m, _as, _ in PROSCRIBES:
    for _a in _as:
        _PROSCRIBED.setdefault(canonical(_m), set()).add(_a)
        _PROSCRIBERS.setdefault(_a, set()).add(canonical(_m))

ALL_MODELS: frozenset[str] = frozenset(
    set(_MODEL_OUT) | set(_MODEL_IN) | set(CANONICAL) | set(CANONICAL.values()) | set(_PROSCRIBED)
)


def validate_models(models: Iterable[str]) -> tuple[str, ...]:
    """Return the models unchanged, or raise OptionError naming an unknown one."""
    out = tuple(models)
    for m in out:
        if m not in ALL_MODELS:
            known = ", ".join(
                sorted({friendly(x) for x in ALL_MODELS if x == friendly(x) or x in FRIENDLY})
            )
            raise OptionError(f"unknown consistency model {m!r}; known models: {known}")
    return out


KNOWN_ANOMALIES: frozenset[str] = frozenset(
    {a for _, anomalies, _ in PROSCRIBES for a in anomalies}
    | {a for pair in ANOMALY_IMPLIES for a in pair[:2]}
    | UNKNOWN_ANOMALIES
)


def validate_anomalies(anomalies: Iterable[str]) -> tuple[str, ...]:
    """Return the anomaly names unchanged, or raise OptionError naming an unknown one."""
    out = tuple(anomalies)
    for a in out:
        if a not in KNOWN_ANOMALIES:
            import difflib

            close = difflib.get_close_matches(a, sorted(KNOWN_ANOMALIES), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            known = ", ".join(sorted(KNOWN_ANOMALIES))
            raise OptionError(f"unknown anomaly {a!r}{hint}; known anomalies: {known}")
    return out


def implied_models(models: Iterable[str]) -> set[str]:
    """Canonical models implied by (weaker than or equal to) the given ones."""
    return _closure((canonical(m) for m in models), _MODEL_OUT)


def impossible_models(models: Iterable[str]) -> set[str]:
    """Canonical models that cannot hold when the given ones cannot (the stronger ones)."""
    return _closure((canonical(m) for m in models), _MODEL_IN)


def implied_anomalies(anomalies: Iterable[str]) -> set[str]:
    """The anomalies together with every anomaly they imply."""
    return _closure(anomalies, _ANOM_OUT)


def anomalies_implying(anomalies: Iterable[str]) -> set[str]:
    """The anomalies together with every anomaly that implies one of them."""
    return _closure(anomalies, _ANOM_IN)


@cache
def _prohibited(models: tuple[str, ...]) -> frozenset[str]:
    direct: set[str] = set()
    for m in implied_models(models):
        direct |= _PROSCRIBED.get(m, set())
    return frozenset(anomalies_implying(direct))


def prohibited_anomalies(models: Iterable[str]) -> frozenset[str]:
    """Anomalies that cannot be present if all the given models hold."""
    return _prohibited(tuple(sorted(models)))


def anomalies_to_impossible_models(anomalies: Iterable[str]) -> set[str]:
    """Canonical models ruled out by the presence of the given anomalies."""
    direct: set[str] = set()
    for a in implied_anomalies(anomalies):
        direct |= _PROSCRIBERS.get(a, set())
    return impossible_models(direct)


def _extreme(models: set[str], edges: dict[str, set[str]]) -> set[str]:
    """Drop each model reachable (via edges) from another model of the set."""
    keep = set(models)
    for m in sorted(models):
        others = keep - {m}
        if others & (_closure(edges.get(m, ()), edges)):
            keep.discard(m)
    return keep


def weakest(models: set[str]) -> set[str]:
    """The models of the set that no other model of the set is weaker than."""
    return _extreme(models, _MODEL_OUT)


def boundary(anomalies: Iterable[str]) -> tuple[list[str], list[str]]:
    """(not, also-not): the weakest models ruled out, then the stronger ones, friendly names."""
    impossible = anomalies_to_impossible_models(anomalies)
    is_not = weakest(impossible)
    also = impossible - is_not
    return sorted({friendly(m) for m in is_not}), sorted({friendly(m) for m in also})
