"""The cycle search: shortest cycle of each type in each strongly connected
component, explained; the model-level fallback tests; split over two processes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from itertools import pairwise
from typing import Any

import numpy as np

from mvcc_check.analysis import _edges, models
from mvcc_check.analysis.graph import PROCESS, REALTIME, RW, DependencyGraph
from mvcc_check.analysis.inference import Inference
from mvcc_check.analysis.search.model_cycles import cyclic_models
from mvcc_check.analysis.search.parallel import in_two_processes
from mvcc_check.analysis.search.presence import (
    Anchors,
    LabelCache,
    scc_decidable_presence,
)
from mvcc_check.analysis.search.shortest import Component, CycleFinder, SearchSpace
from mvcc_check.analysis.search.specs import cycle_specs
from mvcc_check.history.columns import INFO, OK
from mvcc_check.history.pairing import TxnColumns


@dataclass
class CycleFindings:
    """What the cycle search found: explained cycles by type, the smallest cyclic
    component of each model-level test (see `cycle_exists`), and the component count."""

    cycles: dict[str, list]
    cyclic_models: dict[str, np.ndarray]
    components: int


def find_cycles(
    graph: DependencyGraph,
    tc: TxnColumns,
    inf: Inference,
    extra: int,
    known: frozenset[str] = frozenset(),
    release: bool = False,
) -> CycleFindings:
    """Shortest cycle of each type in each component, skipping types already implied,
    and the model-level tests; `known` names the anomalies found before (they let
    those tests skip models already ruled out). With `release`, the graph's edges are
    freed once the components' own are taken (its count and components stay).

    Components are independent, so the work is split between two processes, each
    running the whole-graph existence passes over its own share of components."""
    comps = graph.sccs()
    if not comps:
        return CycleFindings({}, {}, 0)
    cp = Compact.of(graph, comps)
    if release:  # what follows needs only the edges inside components
        graph.release_edges()
    work = partial(_search_share, cp, tc, inf, extra, known)
    weights = [hi - lo for lo, hi in pairwise(cp.bounds)]
    results = in_two_processes(work, list(range(len(comps))), weights)
    cycles: dict[str, list] = {}
    for _, _, name, record in sorted((r for r in results if r[0] == "cycle"), key=lambda r: r[1]):
        cycles.setdefault(name, []).append(record)
    smallest_of: dict[str, np.ndarray] = {}
    for _, model, smallest in (r for r in results if r[0] == "model"):
        if model not in smallest_of or (len(smallest), smallest.min()) < (
            len(smallest_of[model]),
            smallest_of[model].min(),
        ):
            smallest_of[model] = smallest
    return CycleFindings(cycles, smallest_of, len(comps))


@dataclass
class Compact:
    """The components' nodes numbered compactly, component by component (so the
    passes work on arrays of that size, not of the whole history), and the edges
    inside components in that numbering, grouped by component."""

    comps: list[np.ndarray]  # each component's transaction ids, ascending
    sizes: np.ndarray
    members: np.ndarray  # compact id -> transaction id
    labels: np.ndarray  # compact id -> component
    first: np.ndarray  # component -> its first compact id
    local: np.ndarray  # compact id -> position in its component
    edge_comp: np.ndarray  # inside edge -> component
    bounds: list[int]  # component i's inside edges: bounds[i]:bounds[i + 1]
    inside: DependencyGraph

    @classmethod
    def of(cls, graph: DependencyGraph, comps: list[np.ndarray]) -> Compact:
        sizes = np.array([len(c) for c in comps], np.int64)
        members = np.concatenate(comps)
        compact = np.full(graph.n, -1, np.int64)
        compact[members] = np.arange(len(members))
        labels = np.repeat(np.arange(len(comps)), sizes)
        first = np.cumsum(sizes) - sizes
        local = np.arange(len(members)) - np.repeat(first, sizes)
        comp_of_txn = np.full(graph.n, -1, np.int64)
        comp_of_txn[members] = labels
        m = len(graph.src)  # (an upper bound on the inside edges; trimmed in place below)
        src, dst, rel = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int8)
        edge_comp = np.empty(m, np.int64)
        bounds = np.empty(len(comps) + 1, np.int64)
        count = _edges.group(
            comp_of_txn,
            compact,
            np.ascontiguousarray(graph.src, np.int64),
            np.ascontiguousarray(graph.dst, np.int64),
            np.ascontiguousarray(graph.rel, np.int8),
            len(comps),
            src,
            dst,
            rel,
            edge_comp,
            bounds,
        )
        for column in (src, dst, rel, edge_comp):
            column.resize(count, refcheck=False)
        inside = DependencyGraph(len(members), src, dst, rel)
        return cls(comps, sizes, members, labels, first, local, edge_comp, bounds.tolist(), inside)


BLOCK_EDGES = 1 << 18  # edges searched together: the passes' arrays stay small


def _search_share(
    cp: Compact,
    tc: TxnColumns,
    inf: Inference,
    extra: int,
    known: frozenset[str],
    indices: list[int],
) -> list[tuple]:
    """("cycle", component, type, explained cycle) and ("model", model, smallest
    cyclic component) records for the given components (one process's share).

    The components are taken in blocks of about BLOCK_EDGES edges, each block with
    its own numbering: the existence passes and model tests over a block give what
    they would over the whole share (components are independent), and their arrays
    stay in cache and in memory malloc reuses. Over a whole ten-million-transaction
    share they were fresh mappings, and the passes took 16 times as long as at 1M."""
    inside = cp.inside
    share = np.zeros(len(cp.comps), bool)
    share[indices] = True
    mine = share[cp.edge_comp]
    sub = DependencyGraph(inside.n, inside.src[mine], inside.dst[mine], inside.rel[mine])
    starts = np.cumsum([0] + [cp.bounds[i + 1] - cp.bounds[i] for i in indices]).tolist()
    out: list[tuple] = []
    names: set[str] = set(known)
    smallest_of: dict[str, np.ndarray] = {}
    j0 = 0
    while j0 < len(indices):
        j1 = j0 + 1
        while j1 < len(indices) and starts[j1 + 1] - starts[j0] <= BLOCK_EDGES:
            j1 += 1
        block = _Block(cp, sub, indices[j0:j1], starts[j0 : j1 + 1])
        out += block.search(tc, inf, extra, names, smallest_of)
        j0 = j1
    out += [("model", model, smallest) for model, smallest in smallest_of.items()]
    return out


class _Block:
    """Consecutive components of a share, numbered from the first one's first node."""

    def __init__(self, cp: Compact, sub: DependencyGraph, indices: list[int], starts: list[int]):
        self.cp, self.indices = cp, indices
        self.base = int(cp.first[indices[0]])
        end = int(cp.first[indices[-1]] + cp.sizes[indices[-1]])
        lo, hi = starts[0], starts[-1]
        self.starts = [s - lo for s in starts]
        self.graph = DependencyGraph(
            end - self.base, sub.src[lo:hi] - self.base, sub.dst[lo:hi] - self.base, sub.rel[lo:hi]
        )

    def search(
        self,
        tc: TxnColumns,
        inf: Inference,
        extra: int,
        names: set[str],
        smallest_of: dict[str, np.ndarray],
    ) -> list[tuple]:
        """The block's cycle records; its model tests' smallest components merged into
        `smallest_of` (the smallest, then the one holding the lowest transaction)."""
        cp, g, base, specs = self.cp, self.graph, self.base, cycle_specs(extra)
        cache: LabelCache = {}
        presence = scc_decidable_presence(g, cp.labels[base : base + g.n], specs, cache)
        g.drop_selected()  # (the model tests below cut again what they need)
        largest = int(cp.sizes[self.indices].max())
        space = SearchSpace(g.n, g.src, g.dst, g.rel, largest=largest)
        local_src, local_dst = cp.local[g.src + base], cp.local[g.dst + base]
        g_rel = np.ascontiguousarray(g.rel, np.uint8)
        heads = self.starts[:-1]  # every component has edges: it holds a cycle
        unions = np.bitwise_or.reduceat(g.rel, heads).tolist()
        rw_counts = np.add.reduceat((g.rel & RW) != 0, heads).tolist()
        found = []
        for j, i in enumerate(self.indices):
            lo, hi = self.starts[j], self.starts[j + 1]
            component = Component(
                cp.comps[i].tolist(),
                local_src[lo:hi],
                local_dst[lo:hi],
                g_rel[lo:hi],
                unions[j],
                rw_counts[j],
            )
            offset = int(cp.first[i]) - base
            for name, glob, proven in _component_cycles(
                component, i, specs, presence, tc, space, offset
            ):
                found.append((i, name, glob, proven))
                names.add(name)
        out: list[tuple] = []
        _quote_ahead(tc, [step for *_, steps, _ in found for step in steps])
        ready = {}
        rw_steps = getattr(inf.explainer, "explain_rw_steps", None)  # many at once, if it can
        if rw_steps is not None:
            ready = rw_steps([(a, b) for *_, steps, _ in found for a, b, r in steps if r == RW])
        for i, name, glob, proven in found:
            record = explain_cycle(name, glob, tc, inf, ready)
            if not proven:
                record["shortest?"] = False
            out.append(("cycle", i, name, record))
        inf.explainer.forget()  # the block's components are done with
        tc.cols.forget_quoted()
        for model, smallest in cyclic_models(g, names, extra, cache).items():
            txns = cp.members[smallest + base]
            best = smallest_of.get(model)
            if best is None or (len(txns), txns.min()) < (len(best), best.min()):
                smallest_of[model] = txns
        return out


def _quote_ahead(tc: TxnColumns, steps: list[tuple[int, int, int]]) -> None:
    """Quote at once every op the explanations of these steps show: each txn's own op
    and the op holding its micro-ops, and the invocation after a realtime or process
    step."""
    if not steps:
        return
    a = np.array([s[0] for s in steps], np.int64)
    after = np.array([s[1] for s in steps if s[2] in (REALTIME, PROCESS)], np.int64)
    shown = np.where(tc.complete_row[a] >= 0, tc.complete_row[a], tc.invoke_row[a])
    rows = np.concatenate([shown, tc.mop_row[a], tc.invoke_row[after]])
    tc.cols.quote_ahead(rows.tolist())


def _component_cycles(
    component: Component,
    i: int,
    specs,
    presence: dict[str, Anchors],
    tc: TxnColumns,
    space: SearchSpace,
    offset: int,
) -> list[tuple[str, list[tuple[int, int, int]], bool]]:
    """(type, shortest cycle in transaction ids, whether it is proven the shortest) for
    each type component i holds that no type found before in it implies; anchors come
    from the whole-graph passes where they decided the component. A cycle is proven
    the shortest unless the search's work budget ran out before it was found and
    it is longer than the length the search had ruled out. The component's edges are
    in `space` from node `offset` on."""
    finder = CycleFinder(component, space=space, offset=offset)
    nodes = component.nodes
    implied: set[str] = set()
    found = []
    for spec in specs:
        if spec.name in implied:
            continue
        present = presence.get(spec.name)
        anchors = None
        if present is not None:
            if i not in present.components:
                continue
            anchors = present.of(i, offset)
        steps = finder.shortest(spec, anchors)
        if steps is None:
            continue
        implied |= _implied(spec.name)
        glob = [(nodes[a], nodes[b], rel) for a, b, rel in steps]
        if spec.extra == REALTIME:
            glob = shortcut_realtime(glob, spec, tc)
        found.append(
            (spec.name, glob, finder.at_least == 0 or len(glob) <= max(2, finder.at_least))
        )
    return found


@cache
def _implied(name: str) -> frozenset[str]:
    return frozenset(models.implied_anomalies([name]))


def shortcut_realtime(
    steps: list[tuple[int, int, int]], spec, tc: TxnColumns
) -> list[tuple[int, int, int]]:
    """Shorten a cycle by replacing runs of steps with one realtime step where the
    run's first transaction completed before its last began.

    Realtime edges are stored as a transitive reduction (to stay near-linear),
    so a search over them finds long chains; every completed-before pair is
    still a genuine realtime dependency, and the shortened cycle must still be
    of the type searched (the anchor step is kept).
    """

    def before(a: int, b: int) -> bool:
        return tc.status[a] == OK and tc.complete_row[a] < tc.invoke_row[b]

    def accepted(rels: list[int]) -> bool:
        q = spec.start_state()
        for r in rels[1:]:
            q = spec.step(q, r)
            if q < 0:
                return False
        return spec.accepts(q)

    changed = True
    while changed and len(steps) > 2:
        changed = False
        m = len(steps)
        for i in range(1, m):
            a = steps[i][0]
            for j in range(m, i + 1, -1):  # replace steps i..j-1 (j == m closes at the start)
                b = steps[j][0] if j < m else steps[0][0]
                if a == b or not before(a, b):
                    continue
                candidate = [*steps[:i], (a, b, REALTIME), *steps[j:]]
                if accepted([r for _, _, r in candidate]):
                    steps = candidate
                    changed = True
                    break
            if changed:
                break
    return steps


def explain_cycle(
    name: str,
    steps: list[tuple[int, int, int]],
    tc: TxnColumns,
    inf: Inference,
    ready: dict[tuple[int, int], dict] | None = None,
) -> dict[str, Any]:
    """Elle's cycle record: the ops around the cycle and one typed step per edge
    (rw steps found in `ready` are taken from there)."""
    ops = [tc.cols.op_json(tc.op_row(a)) for a, _, _ in steps]
    ops.append(ops[0])
    ready = ready or {}
    record: dict[str, Any] = {
        "cycle": ops,
        "steps": [_step(a, b, rel, tc, inf, ready) for a, b, rel in steps],
        "type": name,
    }
    committed = committed_info(steps, tc, inf)
    if committed:
        record["committed"] = committed
    return record


def committed_info(
    steps: list[tuple[int, int, int]], tc: TxnColumns, inf: Inference
) -> list[dict[str, Any]]:
    """For each indeterminate (info) txn of a cycle, in cycle order: the committed
    read that proves it committed ({index: its op index, key, value, reader,
    mop-index}). An info txn is on a cycle only through what a read observed."""
    out = []
    seen: set[int] = set()
    for a, _, _ in steps:
        if tc.status[a] != INFO or a in seen:
            continue
        seen.add(a)
        proof = inf.explainer.committed_because(a)
        if proof is None:
            raise AssertionError(f"info txn {a} is on a cycle, yet no read observed it (a bug)")
        out.append({"index": tc.cols.index_of(tc.op_row(a)), **proof})
    return out


def _step(
    a: int, b: int, rel: int, tc: TxnColumns, inf: Inference, ready: dict[tuple[int, int], dict]
) -> dict[str, Any]:
    made = ready.get((a, b)) if rel == RW else None
    return dict(made) if made is not None else explain_step(a, b, rel, tc, inf)  # (own copy)


def explain_step(a: int, b: int, rel: int, tc: TxnColumns, inf: Inference) -> dict[str, Any]:
    if rel in (REALTIME, PROCESS):
        cols = tc.cols
        a_op = cols.op_json(tc.op_row(a))
        b_invoke = cols.op_json(int(tc.invoke_row[b]))
        if rel == REALTIME:
            return {"type": "realtime", "a'": a_op, "b": b_invoke}
        return {
            "type": "process",
            "process": cols.processes[tc.process[a]],
            "a'": a_op,
            "b": b_invoke,
        }
    step = inf.explainer.explain(a, b, rel)
    if step is None:
        raise AssertionError(
            f"no explanation for edge {a} -> {b} ({rel}); this is a bug in mvcc-check"
        )
    return step
