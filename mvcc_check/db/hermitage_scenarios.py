"""Hermitage's scenarios as data: every variant of its per-database files
(github.com/ept/hermitage: postgres.md, mysql.md, oracle.md, sqlserver.md, ...),
each an exact interleaving of steps of sessions T1, T2, T3 over a table
`test (id, value)` holding (1, 10) and (2, 20), with the outcome that counts
as the anomaly.

A column of Hermitage's table (G0 ... G2) may have several variants: PMP with
read predicates and with write predicates, G-single on a read-only
transaction, on predicate dependencies and on a write predicate, G2 with the
same predicates, different predicates and Fekete et al.'s example. `read_only`
marks a variant whose anomalous transaction only reads: the legend's R/O cell
(prevented only in the read-only variant) is told from it
(`mvcc_check.db.hermitage_table`).

Predicate reads (`select * from test where value % 3 = 0`) run as a scan of
the whole (two to four row) table, the predicate applied to the rows read, so
that the history holds a read of every row; for the three databases run here
that is the same scan the predicate query makes (no index on value).
Predicate writes (`update ... where`, `delete ... where`) run as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ANOMALY = "anomaly"
ABORT = "prevented by abort"
PREVENTED = "prevented"

INITIAL = {1: 10, 2: 20}

# Which anomalies the checker can see in a variant's recorded (list-append) history.
EXACT = "exact"  # the anomaly is observed if and only if the checker finds one of its types
IMPLIES = "implies"  # observed => found; found alone may be a weaker anomaly the level allows
SOUND = "sound"  # found => observed; which rows a write predicate matched is not recorded


@dataclass(frozen=True)
class Step:
    session: int
    action: str  # begin | commit | abort | read | scan | write | insert | update | delete
    key: int | None = None
    value: int | None = None  # write / insert: the value; update: the new value
    label: str | None = None  # names a read's result for the verdict
    where: tuple[str, int] | None = None  # update / delete: (column, value); None: every row
    add: int | None = None  # update: value = value + add
    asks: str = ""  # a scan: the predicate Hermitage's query has

    def describe(self) -> str:
        a, who = self.action, f"T{self.session}"
        if a in ("begin", "commit", "abort"):
            return f"{who}: {a}"
        if a == "read":
            return f"{who}: select * from test where id = {self.key}"
        if a == "scan":
            return f"{who}: select * from test" + (
                f" (asks where {self.asks})" if self.asks else ""
            )
        if a == "write":
            return f"{who}: update test set value = {self.value} where id = {self.key}"
        if a == "insert":
            return f"{who}: insert into test values ({self.key}, {self.value})"
        where = f" where {self.where[0]} = {self.where[1]}" if self.where else ""
        if a == "delete":
            return f"{who}: delete from test{where}"
        new = f"value + {self.add}" if self.add is not None else str(self.value)
        return f"{who}: update test set value = {new}{where}"


@dataclass
class Observation:
    reads: dict[str, dict[int, int | None]] = field(default_factory=dict)  # label -> key -> value
    committed: set[int] = field(default_factory=set)
    refused: set[int] = field(default_factory=set)  # the database aborted it
    errors: dict[int, str] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    final: dict[int, list[int]] = field(default_factory=dict)  # hist per key, after the end
    final_values: dict[int, int | None] = field(default_factory=dict)  # None: no such row
    deleted: dict[int, set[int]] = field(default_factory=dict)  # session -> rows it deleted
    transcript: list[str] = field(default_factory=list)

    def seen(self, label: str, key: int) -> int | None:
        return self.reads.get(label, {}).get(key)

    def view(self, label: str) -> dict[int, int | None]:
        return self.reads.get(label, {})


@dataclass(frozen=True)
class Scenario:
    name: str
    column: str  # Hermitage's column
    title: str
    keys: tuple[int, ...]  # every row the scenario may touch (scans read all of them)
    steps: tuple[Step, ...]
    anomaly: Callable[[Observation], bool]
    # the checker's anomaly types that show this scenario's anomaly in its history
    checker_types: frozenset[str]
    sees: str = EXACT
    read_only: bool = False  # the anomalous transaction only reads
    source: str = ""  # where in Hermitage

    @property
    def needs_sql(self) -> bool:
        """Has predicate writes, which only a SQL database runs (not the built-in engine)."""
        return any(st.action in ("update", "delete") for st in self.steps)


def _where(text: str) -> tuple[str, int] | None:
    if text == "all":
        return None
    col, val = text.split("=")
    return col, int(val)


def _s(spec: str) -> tuple[Step, ...]:
    """Steps from a compact text, one per line: `T1 write 1 11`, `T2 read 1 a`,
    `T1 scan a value%3=0`, `T1 update all +10`, `T2 update value=10 12`, `T2 delete value=20`."""
    steps = []
    for line in spec.strip().splitlines():
        parts = line.split()
        sess, act, args = int(parts[0][1:]), parts[1], parts[2:]
        if act in ("write", "insert"):
            steps.append(Step(sess, act, key=int(args[0]), value=int(args[1])))
        elif act == "read":
            steps.append(Step(sess, act, key=int(args[0]), label=args[1]))
        elif act == "scan":
            asks = args[1].replace("%", " % ").replace("=", " = ") if len(args) > 1 else ""
            steps.append(Step(sess, act, label=args[0], asks=asks))
        elif act == "update":
            new = args[1]
            add = int(new[1:]) if new.startswith("+") else None
            value = None if add is not None else int(new)
            steps.append(Step(sess, act, where=_where(args[0]), value=value, add=add))
        elif act == "delete":
            steps.append(Step(sess, act, where=_where(args[0])))
        else:
            steps.append(Step(sess, act))
    return tuple(steps)


def _order(hist: list[int], a: int, b: int) -> bool | None:
    """True if a was appended before b, None if either is missing."""
    if a in hist and b in hist:
        return hist.index(a) < hist.index(b)
    return None


def _g0(o: Observation) -> bool:
    x, y = _order(o.final.get(1, []), 11, 12), _order(o.final.get(2, []), 21, 22)
    return {1, 2} <= o.committed and x is not None and y is not None and x != y


def _otv(o: Observation) -> bool:
    return any((o.seen(lbl, 1), o.seen(lbl, 2)) in ((12, 19), (11, 18)) for lbl in ("a", "b", "c"))


def _pmp_write(o: Observation) -> bool:
    """T1 adds 10 to every row, T2 deletes where value = 20: T2's reads and its delete
    agree with neither serial order (T1 first: it sees 20, 30 and deletes row 1; T2
    first: it sees 10, 20 and deletes row 2)."""
    if 2 not in o.committed:
        return False
    gone = o.deleted.get(2, set())
    t1_first = o.view("a") == {1: 20, 2: 30} and gone == {1} and o.view("b") == {1: None, 2: 30}
    t2_first = o.view("a") == {1: 10, 2: 20} and gone == {2} and o.view("b") == {1: 10, 2: None}
    return not (t1_first or t2_first)


CATALOGUE: tuple[Scenario, ...] = (
    Scenario(
        "G0",
        "G0",
        "write cycles (dirty writes)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 11
            T2 write 1 12
            T1 write 2 21
            T1 commit
            T2 write 2 22
            T2 commit
        """),
        _g0,
        frozenset({"G0"}),
        source="Read Committed basic requirements: Write Cycles (G0)",
    ),
    Scenario(
        "G1a",
        "G1a",
        "aborted reads (dirty reads)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 101
            T1 write 2 201
            T2 scan a
            T1 abort
            T2 scan b
            T2 commit
        """),
        lambda o: any(o.seen(lbl, 1) == 101 or o.seen(lbl, 2) == 201 for lbl in "ab"),
        frozenset({"G1a"}),
        source="Read Committed basic requirements: Aborted Reads (G1a)",
    ),
    Scenario(
        "G1b",
        "G1b",
        "intermediate reads (dirty reads)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 101
            T2 scan a
            T1 write 1 11
            T1 commit
            T2 scan b
            T2 commit
        """),
        lambda o: any(o.seen(lbl, 1) == 101 for lbl in "ab"),
        frozenset({"G1b"}),
        source="Read Committed basic requirements: Intermediate Reads (G1b)",
    ),
    Scenario(
        "G1c",
        "G1c",
        "circular information flow (dirty reads)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 write 1 11
            T2 write 2 22
            T1 read 2 a
            T2 read 1 b
            T1 commit
            T2 commit
        """),
        lambda o: {1, 2} <= o.committed and o.seen("a", 2) == 22 and o.seen("b", 1) == 11,
        frozenset({"G1c"}),
        source="Read Committed basic requirements: Circular Information Flow (G1c)",
    ),
    Scenario(
        "OTV",
        "OTV",
        "observed transaction vanishes",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T3 begin
            T1 write 1 11
            T1 write 2 19
            T2 write 1 12
            T1 commit
            T3 scan a
            T2 write 2 18
            T3 scan b
            T2 commit
            T3 scan c
            T3 commit
        """),
        _otv,
        # a fractured read and a plain non-repeatable read are both a G-single cycle
        frozenset({"G-single", "G-single-item", "G1c", "G1b", "G1a"}),
        sees=IMPLIES,
        source="Observed Transaction Vanishes (OTV)",
    ),
    Scenario(
        "PMP",
        "PMP",
        "predicate-many-preceders (read predicates)",
        (1, 2, 3),
        _s("""
            T1 begin
            T2 begin
            T1 scan a value=30
            T2 insert 3 30
            T2 commit
            T1 scan b value%3=0
            T1 commit
        """),
        # T1 asks twice for matching rows and sees T2's row appear
        lambda o: 1 not in o.refused and o.seen("a", 3) is None and o.seen("b", 3) == 30,
        frozenset({"G-single", "G-single-item"}),
        read_only=True,
        source="Predicate-Many-Preceders (PMP) [for read predicates]",
    ),
    Scenario(
        "PMP-write",
        "PMP",
        "predicate-many-preceders (write predicates)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 update all +10
            T2 scan a
            T2 delete value=20
            T1 commit
            T2 scan b
            T2 commit
        """),
        _pmp_write,
        frozenset({"G-single", "G-single-item"}),
        sees=SOUND,
        source="Predicate-Many-Preceders (PMP) for write predicates (the PostgreSQL docs' example)",
    ),
    Scenario(
        "P4",
        "P4",
        "lost update",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 read 1 a
            T2 read 1 b
            T1 write 1 11
            T2 write 1 12
            T1 commit
            T2 commit
        """),
        # both read 10 and both committed a write over it: T1's update is lost
        lambda o: {1, 2} <= o.committed and o.seen("a", 1) == 10 and o.seen("b", 1) == 10,
        frozenset({"G-single", "G-single-item", "lost-update"}),
        source="Lost Update (P4)",
    ),
    Scenario(
        "G-single",
        "G-single",
        "read skew (read-only)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 read 1 a
            T2 read 1 x
            T2 read 2 y
            T2 write 1 12
            T2 write 2 18
            T2 commit
            T1 read 2 b
            T1 commit
        """),
        lambda o: o.seen("a", 1) == 10 and o.seen("b", 2) == 18,
        frozenset({"G-single", "G-single-item"}),
        read_only=True,
        source="Read Skew (G-single) [on a read-only transaction]",
    ),
    Scenario(
        "G-single-predicate",
        "G-single",
        "read skew (predicate dependencies)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 scan a value%5=0
            T2 update value=10 12
            T2 commit
            T1 scan b value%3=0
            T1 commit
        """),
        # T1's second predicate read returns T2's row 1 => 12, which its first did not show
        lambda o: 1 not in o.refused and o.seen("a", 1) == 10 and o.seen("b", 1) == 12,
        frozenset({"G-single", "G-single-item"}),
        read_only=True,
        source="Read Skew (G-single) -- test using predicate dependencies",
    ),
    Scenario(
        "G-single-write",
        "G-single",
        "read skew (write predicate)",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 read 1 a
            T2 scan x
            T2 write 1 12
            T2 write 2 18
            T2 commit
            T1 delete value=20
            T1 read 2 b
            T1 commit
        """),
        # T1 read row 1 before T2 and deleted after it: no serial order has both commit
        lambda o: {1, 2} <= o.committed and o.seen("a", 1) == 10,
        frozenset({"G-single", "G-single-item"}),
        sees=SOUND,
        source="Read Skew (G-single) -- test using write predicate",
    ),
    Scenario(
        "G2-item",
        "G2-item",
        "write skew",
        (1, 2),
        _s("""
            T1 begin
            T2 begin
            T1 scan a
            T2 scan b
            T1 write 1 11
            T2 write 2 21
            T1 commit
            T2 commit
        """),
        lambda o: {1, 2} <= o.committed and o.seen("a", 2) == 20 and o.seen("b", 1) == 10,
        frozenset({"G2-item", "G2"}),
        source="Write Skew (G2-item)",
    ),
    Scenario(
        "G2",
        "G2",
        "anti-dependency cycles (same predicate)",
        (1, 2, 3, 4),
        _s("""
            T1 begin
            T2 begin
            T1 scan a value%3=0
            T2 scan b value%3=0
            T1 insert 3 30
            T2 insert 4 42
            T1 commit
            T2 commit
        """),
        # each asked for value % 3 = 0, saw nothing, and inserted a matching row
        lambda o: {1, 2} <= o.committed and o.seen("a", 4) is None and o.seen("b", 3) is None,
        frozenset({"G2-item", "G2"}),
        source="Anti-Dependency Cycles (G2)",
    ),
    Scenario(
        "G2-general",
        "G2",
        "anti-dependency cycles (different predicates)",
        (1, 2, 3, 4),
        _s("""
            T1 begin
            T2 begin
            T1 scan a value%3=0
            T2 scan b value%5=0
            T1 insert 3 30
            T2 insert 4 60
            T1 commit
            T2 commit
        """),
        # 60 matches T1's predicate, 30 matches T2's: each missed the other's row
        lambda o: {1, 2} <= o.committed and o.seen("a", 4) is None and o.seen("b", 3) is None,
        frozenset({"G2-item", "G2"}),
        source="oracle.md: Anti-Dependency Cycles (G2) in general",
    ),
    Scenario(
        "G2-fekete",
        "G2",
        "anti-dependency cycles (Fekete et al.'s read-only anomaly)",
        (1, 2),
        _s("""
            T1 begin
            T1 scan a
            T2 begin
            T2 update id=2 +5
            T2 commit
            T3 begin
            T3 scan c
            T3 commit
            T1 write 1 0
            T1 commit
        """),
        # T3 saw T2's 25 but not T1's 0; T1 read 20, before T2: a cycle through two rw edges
        lambda o: (
            {1, 2, 3} <= o.committed
            and o.seen("a", 2) == 20
            and o.seen("c", 2) == 25
            and o.seen("c", 1) == 10
        ),
        frozenset({"G2-item", "G2"}),
        source="Anti-Dependency Cycles (G2) -- Fekete et al's example with two anti-dependency edges",
    ),
)

SCENARIO_NAMES = tuple(s.name for s in CATALOGUE)


def step_mops(sc: Scenario, st: Step) -> list[list]:
    """A step's micro-ops as invoked (reads not yet known); a predicate write's rows are
    known only once it ran, so it has none here."""
    if st.action == "read":
        return [["r", st.key, None]]
    if st.action == "scan":
        return [["r", k, None] for k in sc.keys]
    if st.action in ("write", "insert"):
        return [["append", st.key, st.value]]
    return []


def planned_mops(sc: Scenario, n: int) -> list[list]:
    """Session n's micro-ops as invoked, for a scenario without predicate writes."""
    return [m for st in sc.steps if st.session == n for m in step_mops(sc, st)]


def checker_agrees(
    scenario: Scenario, verdict: str, found_types: set[str] | frozenset[str]
) -> bool:
    """Does the checker's finding on the scenario's history agree with its verdict?"""
    seen = bool(set(found_types) & scenario.checker_types)
    if scenario.sees == IMPLIES:
        return seen or verdict != ANOMALY
    if scenario.sees == SOUND:
        return not seen or verdict == ANOMALY
    return seen == (verdict == ANOMALY)


def verdict_of(scenario: Scenario, obs: Observation) -> str:
    if scenario.anomaly(obs):
        return ANOMALY
    if obs.refused:
        return ABORT
    return PREVENTED
