"""A search tree as a finding: the cycle of every case, named, in JSON.

A tree whose cases all end in the same cycle type is that anomaly, shown case
by case; cases that end in different types are a case split, named after the
model it rules out (`<model>-case-split`), never after one case's type."""

from __future__ import annotations

from typing import Any

from mvcc_check.analysis.complete.modelgraph import ModelGraph
from mvcc_check.analysis.complete.search import Case, Label, Leaf, Problem, Tree
from mvcc_check.analysis.graph import PROCESS, REALTIME, RW, WW
from mvcc_check.analysis.inference import Inference
from mvcc_check.analysis.search.find import explain_step
from mvcc_check.history.columns import APPEND, WRITE
from mvcc_check.history.pairing import TxnColumns


def cycle_type(rels: list[int]) -> str:
    """Elle's name of a cycle from its steps' relations (search/specs.py's types)."""
    n = len(rels)
    rw = [r == RW for r in rels]
    count = sum(rw)
    if count == 0:
        base = "G0" if all(r in (WW, PROCESS, REALTIME) for r in rels) else "G1c"
    elif count == 1:
        base = "G-single-item"
    elif any(rw[i] and rw[(i + 1) % n] for i in range(n)):
        base = "G2-item"
    else:
        base = "G-nonadjacent-item"
    if REALTIME in rels:
        return base + "-realtime"
    if PROCESS in rels:
        return base + "-process"
    return base


def leaf_steps(leaf: Leaf) -> list[Label]:
    """The txn-level steps of a leaf's cycle (start -> commit edges dropped), first step
    from the cycle's first txn."""
    return [lab for _, _, lab, _ in leaf.cycle if lab[2] != 0]


def leaf_types(tree: Tree) -> set[str]:
    out: set[str] = set()
    todo = [tree]
    while todo:
        t = todo.pop()
        if isinstance(t, Leaf):
            out.add(cycle_type([lab[2] for lab in leaf_steps(t)]))
        else:
            todo.extend(sub for _, sub in t.ways)
    return out


class Writer:
    """Turns a tree into JSON, quoting the ops of the history."""

    def __init__(self, tc: TxnColumns, inf: Inference, problem: Problem) -> None:
        self.tc, self.inf, self.problem = tc, inf, problem

    def _mops(self, t: int) -> tuple[int, int]:
        cols = self.tc.cols
        r = int(self.tc.mop_row[t])
        return int(cols.op_mop[r]), int(cols.op_mop[r + 1])

    def _index(self, t: int, key: int, write: bool) -> int:
        """Txn t's last write (append) of key, or its first micro-op on it (a read)."""
        cols = self.tc.cols
        lo, hi = self._mops(t)
        hits = [
            j - lo
            for j in range(lo, hi)
            if int(cols.mop_key[j]) == key
            and (int(cols.mop_kind[j]) in (WRITE, APPEND) if write else True)
        ]
        return hits[-1] if write else hits[0]

    def _mop(self, t: int, i: int) -> list[Any]:
        return self.tc.cols.op(int(self.tc.mop_row[t])).value[i]

    def _op(self, t: int) -> dict[str, Any]:
        return self.tc.cols.op_json(self.tc.op_row(t))

    def step(self, lab: Label) -> dict[str, Any]:
        a, b, rel, key, writer = lab
        if key < 0:
            return explain_step(a, b, rel, self.tc, self.inf)
        j = self._index(b, key, True)
        i = self._index(a, key, rel == WW)
        mb, ma = self._mop(b, j), self._mop(a, i)
        out = {"type": "ww" if rel == WW else "rw", "key": mb[1], "value": ma[2], "value'": mb[2]}
        out.update({"a-mop-index": i, "b-mop-index": j, "case": True})
        if rel == RW:
            out["read-from"] = self._op(writer)
        return out

    def leaf(self, leaf: Leaf) -> dict[str, Any]:
        labs = leaf_steps(leaf)
        ops = [self._op(lab[0]) for lab in labs]
        return {
            "cycle": [*ops, ops[0]],
            "steps": [self.step(lab) for lab in labs],
            "type": cycle_type([lab[2] for lab in labs]),
        }

    def tree(self, tree: Tree) -> dict[str, Any]:
        if isinstance(tree, Leaf):
            return self.leaf(tree)
        p = self.problem.pairs[tree.pair]
        writes = []
        for t in p.txns:
            j = self._index(t, p.key, True)
            writes.append({"value": self._mop(t, j)[2], "op": self._op(t)})
        key = self._mop(p.txns[0], self._index(p.txns[0], p.key, True))[1]
        return {
            "key": key,
            "writes": writes,
            "cases": [
                {"first": writes[w]["value"], "then": self.tree(sub)} for w, sub in tree.ways
            ],
        }


def finding(
    tree: Tree, mg: ModelGraph, tc: TxnColumns, inf: Inference, problem: Problem
) -> tuple[str, dict[str, Any]]:
    """(anomaly type, record) of a proof that `mg`'s model fails in every case."""
    types = leaf_types(tree)
    name = next(iter(types)) if len(types) == 1 else f"{mg.name}-case-split"
    body = Writer(tc, inf, problem).tree(tree)
    record: dict[str, Any] = {"type": name, "complete-search": True, "model": mg.name}
    if isinstance(tree, Case):
        record["case-types"] = sorted(types)
        record["split"] = body
    else:
        record.update(body)
        record["type"] = name
    return name, record
