"""Hermitage's predicate scenarios as closed-predicate histories.

A scenario whose transactions ask predicates (`select * from test where value % 3
= 0`) and change each row at most once, by plain writes and inserts (PMP, G2,
G2-general), is also a history of Elle's closed-predicate workload: the initial
rows are its init op, each scan a predicate read returning the rows that match,
each write or insert a change of one row. Judged so, its anomaly is the predicate
type (G2, G-single) rather than the item type the list-append recording of every
row shows (G2-item), because the history says what a predicate read is: the rows
it returned, nothing about the rows it did not.

The history is built from the scenario's steps and what they returned (the
Observation), with the invocations and completions where the recorded
list-append history has them (so real-time order is the same).
"""

from __future__ import annotations

import re
from typing import Any

from mvcc_check.db.hermitage_scenarios import CATALOGUE, INITIAL, Observation, Scenario
from mvcc_check.history.predicates import matches, parse_predicate

_ASK = re.compile(r"value(?:%(\d+))?=(\d+)\Z")


def predicate_of(asks: str) -> Any:
    """Hermitage's `where` as Elle's predicate: value%3=0 -> [mod 3 0], value=30 -> [= 30]."""
    if not asks:
        return "true"
    m = _ASK.match(asks.replace(" ", ""))
    if m is None:
        raise ValueError(f"cannot read the predicate {asks!r}")
    return ["mod", int(m[1]), int(m[2])] if m[1] else ["=", int(m[2])]


def is_predicate_scenario(sc: Scenario) -> bool:
    """Predicate reads, no predicate writes, and every row changed at most once."""
    if not any(st.action == "scan" and st.asks for st in sc.steps):
        return False
    if sc.needs_sql:
        return False
    changed = [st.key for st in sc.steps if st.action in ("write", "insert")]
    return len(changed) == len(set(changed))


def _mops(sc: Scenario, n: int, obs: Observation | None) -> list[list]:
    """Session n's micro-ops; with what they returned when `obs` is given."""
    out: list[list] = []
    for st in sc.steps:
        if st.session != n:
            continue
        if st.action == "read":
            out.append(["r", st.key, None if obs is None else obs.seen(st.label, st.key)])
        elif st.action == "scan":
            pred = predicate_of(st.asks)
            rows = None
            if obs is not None:
                p = parse_predicate(tuple(pred) if isinstance(pred, list) else pred)
                view = obs.view(st.label)
                rows = {
                    str(k): v for k, v in sorted(view.items()) if v is not None and matches(p, v)
                }
            out.append(["rp", pred, rows])
        elif st.action in ("write", "insert"):
            kind = "w" if st.key in INITIAL else "insert"
            out.append([kind, st.key, st.value])
    return out


def predicate_ops(scenario: str, obs: Observation, ops: list[dict]) -> list[dict] | None:
    """The scenario's closed-predicate history, or None when it is not a predicate one."""
    sc = next((s for s in CATALOGUE if s.name == scenario), None)
    if sc is None or not is_predicate_scenario(sc):
        return None
    init = {str(k): v for k, v in INITIAL.items()}
    sessions = {st.session for st in sc.steps}
    out: list[dict] = []
    first = True
    for op in ops:
        p, typ = op["process"], op["type"]
        new = {k: op[k] for k in ("type", "process", "index", "time")}
        if p == 0 and first:
            new.update(f="init", value=init)
            first = typ == "invoke"
        elif p in sessions:
            done = typ == "ok"
            new.update(f="txn", value=_mops(sc, p, obs if done else None))
        else:  # the observer's final read of every row
            vals = obs.final_values if typ == "ok" else {}
            new.update(f="txn", value=[["r", k, vals.get(k)] for k in sc.keys])
        out.append(new)
    return out
