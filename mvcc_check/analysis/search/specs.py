"""Typed cycle search inside strongly connected components.

A cycle anomaly is a closed walk in the dependency graph whose steps each
carry one relation chosen from the edge's relations (an edge T1 -> T2 may be
both ww and rw; a cycle may use it as either). The types follow Adya and
Elle:

  G0             ww steps only
  G1c            ww and wr steps, at least one wr
  G-single-item  ww/wr steps and exactly one rw
  G-nonadjacent-item  two or more rw steps, no two adjacent (cyclically)
  G2-item        two or more rw steps, some two adjacent

and a `-process` / `-realtime` variant of each that may also use process or
realtime steps and uses at least one.

Whether each type exists is decided exactly, with no time limit, over all
components at once (`search/presence.py`, which hands each
type's anchor edges to the search):

- G0, G1c and G2-item by strongly connected components of the allowed
  relations (inside one component any set of edges lies on one closed walk);
- G-nonadjacent by the components of a two-layer graph (each transaction twice:
  after an rw step or not), whose cycles through an rw step are the cycles of
  Cerone & Gotsman's (2016) extension graph (non-rw steps and (non-rw; rw)
  pairs) through a composite edge;
- G-single by reachability from each rw edge's target back to its source
  over non-rw steps: the non-rw graph's topological order rules most edges
  out, and a depth-first search in C (`analysis/_scc.c`), bounded by that
  order, decides the rest.

Witnesses are found by breadth-first search over (transaction, automaton
state) pairs from each candidate anchor edge, keeping the shortest; after the
first witness, further anchors are searched only up to the best length so
far, within a work budget proportional to the component's size. The cycle
reported is the shortest found.
"""

from __future__ import annotations

from dataclasses import dataclass

from mvcc_check.analysis.anomalies import cycle_types
from mvcc_check.analysis.graph import PROCESS, REALTIME, RW, WR, WW

# Automaton state bits.
_RW2 = 1  # two or more rw steps
_LAST_RW = 2  # the previous step was rw
_ADJ = 4  # two adjacent rw steps seen
_SEEN_X = 8  # a process/realtime step seen


@dataclass(frozen=True)
class CycleSpec:
    name: str
    anchor: int  # relation of the first step
    allowed: int  # relations every other step may use
    rw_rule: str  # "none" | "one" | "nonadjacent" | "adjacent"
    extra: int = 0  # PROCESS or REALTIME: at least one step must be one

    def __post_init__(self) -> None:
        # Transition table indexed [state * 32 + relation bit] and acceptance by state,
        # so the search's inner loop is two list look-ups.
        table = [-1] * (16 * 32)
        for q in range(16):
            for bit in (WW, WR, RW, PROCESS, REALTIME):
                if bit == RW or bit & self.allowed:
                    table[q * 32 + bit] = self.step(q, bit) if bit & self.allowed else -1
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "accepting", [self.accepts(q) for q in range(16)])

    def start_state(self) -> int:
        q = _LAST_RW if self.anchor == RW else 0
        if self.extra and self.anchor & self.extra:
            q |= _SEEN_X
        return q

    def step(self, q: int, rel: int) -> int:
        """Next state after a step of relation rel, or -1 if the step is not allowed."""
        if rel == RW:
            rule = self.rw_rule
            if rule == "nonadjacent":
                return -1 if q & _LAST_RW else q | _RW2 | _LAST_RW
            if rule == "adjacent":
                return q | _RW2 | _LAST_RW | (_ADJ if q & _LAST_RW else 0)
            return -1
        q &= ~_LAST_RW
        if rel & self.extra:
            q |= _SEEN_X
        return q

    def accepts(self, q: int) -> bool:
        """May the walk close here (the anchor step comes next)?"""
        if self.extra and not q & _SEEN_X:
            return False
        if self.rw_rule == "nonadjacent":
            return bool(q & _RW2) and not q & _LAST_RW
        if self.rw_rule == "adjacent":
            return bool(q & _RW2) and bool(q & (_ADJ | _LAST_RW))
        return True


def _base_specs() -> list[CycleSpec]:
    """The cycle types of the anomaly table (`analysis/anomalies.py`), in its order."""
    return [CycleSpec(name, c.anchor, c.allowed, c.rw_rule) for name, c in cycle_types()]


def cycle_specs(extra: int) -> list[CycleSpec]:
    """Specs in search order: data-only types first, then the extra-edge variant."""
    specs = _base_specs()
    if not extra:
        return specs
    suffix = "-realtime" if extra == REALTIME else "-process"
    variants = []
    for s in specs:
        anchor = extra if s.name == "G0" else s.anchor
        variants.append(CycleSpec(s.name + suffix, anchor, s.allowed | extra, s.rw_rule, extra))
    return specs + variants
