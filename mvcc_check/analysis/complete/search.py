"""The case search inside one region: orient every open pair of writes so that
the model's graph stays acyclic, or prove that no orientation does.

Each open pair (two writes of one key) goes one of two ways; either way adds a
ww edge and rw edges from the readers of the earlier write. Acyclicity makes
the chosen pairs a total order per key (Cobra's observation), so pairs are the
only variables. The search keeps the transitive closure as bitsets: a pair one
of whose orientations would close a cycle is forced the other way (and the
cycle kept as the reason); otherwise it branches. Work is counted and bounded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Union

Label = tuple[int, int, int, int, int]
"""(txn a, txn b, relation bit, key id or -1 for a fixed edge, writer read or -1);
relation 0 marks the snapshot graph's own start -> commit edge."""

Edge = tuple[int, int, Label]  # (local node u, local node v, label)
Choice = tuple[int, int]  # (pair index, orientation)


@dataclass(frozen=True)
class Pair:
    """An open pair: key id, the two writer txns, and each orientation's edges
    (orientation 0: the first writer's write came first)."""

    key: int
    txns: tuple[int, int]
    ways: tuple[list[Edge], list[Edge]]


@dataclass
class Problem:
    size: int
    fixed: list[Edge]
    pairs: list[Pair]


@dataclass
class Leaf:
    """A cycle under the assumptions above it: (u, v, label, choice or None) per edge."""

    cycle: list[tuple[int, int, Label, Choice | None]]


@dataclass
class Case:
    """Pair `pair` went one way or the other: each way and what followed."""

    pair: int
    ways: list[tuple[int, Tree]]


@dataclass
class Witness:
    orientation: dict[int, int] = field(default_factory=dict)


Tree = Union[Leaf, Case]  # noqa: UP007 (a forward reference)


class OverBudget(Exception):
    """The region needs more work than its budget allows."""


class Budget:
    def __init__(self, units: int | None) -> None:
        self.left = units  # None: unbounded

    def spend(self, units: int) -> None:
        if self.left is not None:
            self.left -= units
            if self.left < 0:
                raise OverBudget


class Search:
    """One region's search (see the module docstring)."""

    def __init__(self, problem: Problem, budget: Budget) -> None:
        self.p = problem
        self.budget = budget
        self.adj: list[list[tuple[int, Label, Choice | None]]] = [[] for _ in range(problem.size)]
        for u, v, label in problem.fixed:
            self.adj[u].append((v, label, None))

    def run(self) -> Witness | Tree:
        reach = [0] * self.p.size
        for u, v, label in self.p.fixed:
            if self._closes(reach, u, v):
                return Leaf(self._cycle(reach, {}, u, v, label, None))
            self._add(reach, u, v)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, min(2 * len(self.p.pairs) + 1000, 20_000)))
        try:
            tree = self._solve(reach, {}, set(range(len(self.p.pairs))))
            return tree if isinstance(tree, Witness) else prune(tree)[0]
        except RecursionError:  # more nested case splits than the stack allows
            raise OverBudget from None
        finally:
            sys.setrecursionlimit(limit)

    def _closes(self, reach: list[int], u: int, v: int) -> bool:
        return u == v or bool((reach[v] >> u) & 1)

    def _add(self, reach: list[int], u: int, v: int) -> None:
        if (reach[u] >> v) & 1:
            return
        self.budget.spend(1 + len(reach) // 64)
        bit = reach[v] | (1 << v)
        ubit = 1 << u
        for x, r in enumerate(reach):
            if x == u or r & ubit:
                reach[x] = r | bit

    def _blocked(self, reach: list[int], p: int, way: int) -> Edge | None:
        self.budget.spend(1)
        for u, v, label in self.p.pairs[p].ways[way]:
            if self._closes(reach, u, v):
                return u, v, label
        return None

    def _apply(self, reach: list[int], p: int, way: int) -> None:
        for u, v, _ in self.p.pairs[p].ways[way]:
            self._add(reach, u, v)

    def _solve(self, reach: list[int], chosen: dict[int, int], todo: set[int]) -> Witness | Tree:
        forced: list[tuple[int, int, Leaf]] = []  # (pair, way taken, leaf of the other way)
        progress = True
        while progress:
            progress = False
            for p in sorted(todo):
                bad = [self._blocked(reach, p, w) for w in (0, 1)]
                if bad[0] is not None and bad[1] is not None:
                    leaves = [self._leaf(reach, chosen, p, w, bad[w]) for w in (0, 1)]
                    return _wrap(forced, Case(p, [(0, leaves[0]), (1, leaves[1])]))
                for w in (0, 1):
                    if bad[w] is not None:
                        leaf = self._leaf(reach, chosen, p, w, bad[w])
                        self._apply(reach, p, 1 - w)
                        chosen[p] = 1 - w
                        todo.discard(p)
                        forced.append((p, 1 - w, leaf))
                        progress = True
                        break
        if not todo:
            return Witness(dict(chosen))
        p = min(todo)
        ways: list[tuple[int, Tree]] = []
        for w in (0, 1):
            r2 = list(reach)
            self._apply(r2, p, w)
            sub = self._solve(r2, {**chosen, p: w}, todo - {p})
            if isinstance(sub, Witness):
                return sub
            ways.append((w, sub))
        return _wrap(forced, Case(p, ways))

    def _leaf(self, reach: list[int], chosen: dict[int, int], p: int, way: int, edge: Edge) -> Leaf:
        u, v, label = edge
        return Leaf(self._cycle(reach, chosen, u, v, label, (p, way)))

    def _cycle(
        self,
        reach: list[int],
        chosen: dict[int, int],
        u: int,
        v: int,
        label: Label,
        choice: Choice | None,
    ) -> list[tuple[int, int, Label, Choice | None]]:
        """The new edge u -> v and a shortest path v ~> u over the fixed and chosen edges."""
        first = (u, v, label, choice)
        if u == v:
            return [first]
        extra: dict[int, list[tuple[int, Label, Choice | None]]] = {}
        for q, w in chosen.items():
            for a, b, lab in self.p.pairs[q].ways[w]:
                extra.setdefault(a, []).append((b, lab, (q, w)))
        back: dict[int, tuple[int, Label, Choice | None]] = {}
        frontier, seen = [v], {v}
        while frontier and u not in seen:
            nxt = []
            for x in frontier:
                for y, lab, ch in (*self.adj[x], *extra.get(x, ())):
                    if y not in seen:
                        seen.add(y)
                        back[y] = (x, lab, ch)
                        nxt.append(y)
            frontier = nxt
        self.budget.spend(len(seen))
        path = []
        y = u
        while y != v:
            x, lab, ch = back[y]
            path.append((x, y, lab, ch))
            y = x
        return [first, *reversed(path)]


def _wrap(forced: list[tuple[int, int, Leaf]], node: Tree) -> Tree:
    for p, took, leaf in reversed(forced):
        ways: list[tuple[int, Tree]] = [(1 - took, leaf), (took, node)]
        node = Case(p, sorted(ways, key=lambda x: x[0]))
    return node


def prune(node: Tree) -> tuple[Tree, set[Choice]]:
    """Drop every case split a subtree does not need (its cycles never use that
    assumption): returns the tree and the assumptions it still rests on. Chains of
    forced pairs (one way a leaf) are walked without recursion."""
    spine: list[Case] = []
    while isinstance(node, Case) and _forced(node) is not None:
        spine.append(node)
        node = _forced(node)[1][1]  # type: ignore[index]
    if isinstance(node, Leaf):
        tree: Tree = node
        needs = {c for *_, c in node.cycle if c is not None}
    else:
        tree, needs = _prune_branch(node)
    for case in reversed(spine):
        leaf_way, took = _forced(case)  # type: ignore[misc]
        if (case.pair, took[0]) not in needs:
            continue
        leaf = leaf_way[1]
        assert isinstance(leaf, Leaf)
        needs = (needs - {(case.pair, took[0])}) | {
            c for *_, c in leaf.cycle if c is not None and c != (case.pair, leaf_way[0])
        }
        ways = sorted([leaf_way, (took[0], tree)], key=lambda w: w[0])
        tree = Case(case.pair, ways)
    return tree, needs


def _forced(case: Case) -> tuple[tuple[int, Tree], tuple[int, Tree]] | None:
    """(the way that is a leaf, the other way) when exactly one way is a leaf."""
    (w0, t0), (w1, t1) = case.ways
    if isinstance(t0, Leaf) != isinstance(t1, Leaf):
        return ((w0, t0), (w1, t1)) if isinstance(t0, Leaf) else ((w1, t1), (w0, t0))
    return None


def _prune_branch(node: Case) -> tuple[Tree, set[Choice]]:
    kept: list[tuple[int, Tree]] = []
    used: set[Choice] = set()
    for way, sub in node.ways:
        sub, needs = prune(sub)
        if (node.pair, way) not in needs:
            return sub, needs
        kept.append((way, sub))
        used |= needs - {(node.pair, way)}
    return Case(node.pair, kept), used
