"""check(): history in, verdict out. Pure: no printing, no exiting."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from mvcc_check.analysis import list_append, models, rw_register
from mvcc_check.analysis.cycles import Component, CycleFinder, SearchSpace, cycle_specs
from mvcc_check.analysis.graph import DATA, PROCESS, REALTIME, RW, WR, WW, DependencyGraph
from mvcc_check.analysis.inference import Inference
from mvcc_check.analysis.order import process_edges_columns, realtime_edges_columns
from mvcc_check.analysis.reach import Closure
from mvcc_check.errors import HistoryError, OptionError
from mvcc_check.history.columns import (
    APPEND,
    FAIL,
    INFO,
    LIST,
    NIL,
    OK,
    READ,
    WRITE,
    Columns,
    columns_from_ops,
)
from mvcc_check.history.pairing import TxnColumns, pair_columns
from mvcc_check.history.readers import History, gc_paused
from mvcc_check.history.txns import Txn, TxnHistory

WORKLOADS = ("list-append", "rw-register")


@dataclass(frozen=True)
class CheckOptions:
    """What to check. `models` must all hold for the history to be valid."""

    models: tuple[str, ...] = ("strict-serializable",)
    workload: str | None = None  # detected from the micro-ops when None
    anomalies: tuple[str, ...] = ()  # further anomalies to forbid (Elle's :anomalies)
    wfr_keys: bool = False
    sequential_keys: bool = False
    linearizable_keys: bool = False


@dataclass
class Result:
    """A verdict with elle-cli's fields, plus what the report needs."""

    valid: bool | str  # True, False or "unknown"
    anomaly_types: list[str]
    anomalies: dict[str, Any]
    not_: list[str]
    also_not: list[str]
    source: str = ""
    workload: str = ""
    models: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    all_anomaly_types: list[str] = field(default_factory=list)  # found, reportable or not

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"valid?": self.valid}
        if self.anomaly_types:
            out["anomaly-types"] = self.anomaly_types
            out["anomalies"] = self.anomalies
            out["not"] = self.not_
            out["also-not"] = self.also_not
        return out


def likely_workload(tc: TxnColumns) -> str:
    """The workload the first telling micro-op shows (an append or list read: list-append;
    a write or scalar read: rw-register). Each workload's inference rejects the other's
    micro-ops, so a wrong guess only costs a second try (see `_infer`)."""
    rows, _ = tc.mop_txn()
    kind, tag = tc.cols.mop_kind[rows], tc.cols.mop_tag[rows]
    telling = np.flatnonzero((kind != READ) | (tag != NIL))
    if not len(telling):
        return "list-append"
    j = telling[0]
    return "list-append" if kind[j] == APPEND or tag[j] == LIST else "rw-register"


def detect_workload(tc: TxnColumns) -> str:
    """list-append if anything appends or reads a list, rw-register if anything writes;
    HistoryError if both appends and writes occur."""
    rows, txn = tc.mop_txn()
    kind, tag = tc.cols.mop_kind[rows], tc.cols.mop_tag[rows]
    appends, writes = np.flatnonzero(kind == APPEND), np.flatnonzero(kind == WRITE)
    if len(appends) and len(writes):
        cols = tc.cols
        w, a = tc.op_row(int(txn[writes[0]])), tc.op_row(int(txn[appends[0]]))
        raise HistoryError(
            cols.source,
            f"op index {cols.index_of(w)}",
            f"mixed workloads: writes (w) here and appends at op index {cols.index_of(a)}",
        )
    reads = kind == READ
    if len(appends) or (reads & (tag == LIST)).any():
        return "list-append"
    if len(writes) or (reads & (tag != NIL)).any():
        return "rw-register"
    return "list-append"


Progress = Callable[[str], None]
"""Told the name of each stage as it starts (the CLI shows it; the core never prints)."""


def check(
    history: History | Columns,
    options: CheckOptions = CheckOptions(),
    progress: Progress | None = None,
) -> Result:
    """Judge one history (its columns, or ops read whole) against the requested models."""
    with gc_paused():  # millions of small long-lived objects: the cyclic GC only slows the passes
        return _check(history, options, progress or (lambda stage: None))


def _check(history: History | Columns, options: CheckOptions, progress: Progress) -> Result:
    models.validate_models(options.models)
    if options.workload is not None and options.workload not in WORKLOADS:
        raise OptionError(
            f"unknown workload {options.workload!r} (expected {' or '.join(WORKLOADS)})"
        )
    cols = history if isinstance(history, Columns) else columns_of(history)
    progress("pairing operations into transactions")
    th = pair_columns(cols)
    workload = options.workload or likely_workload(th)
    progress(f"inferring {workload} dependencies")
    try:
        inf = _infer(th, workload, options)
    except HistoryError:
        if options.workload is not None:
            raise
        settled = detect_workload(th)  # the whole history decides (mixed workloads raise here)
        if settled == workload:
            raise
        workload = settled
        inf = _infer(th, workload, options)

    prohibited = models.prohibited_anomalies(options.models) | models.anomalies_implying(
        options.anomalies
    )
    reportable = prohibited | models.UNKNOWN_ANOMALIES
    extra = _extra_relation(reportable)
    progress("building the dependency graph")
    if extra == REALTIME:
        realtime_edges_columns(th, inf.edges)
    elif extra == PROCESS:
        process_edges_columns(th, inf.edges)
    graph = inf.edges.build(th.n)

    found: dict[str, Any] = dict(inf.anomalies)
    if graph.edge_count == 0:
        found["empty-transaction-graph"] = True
    progress("searching cycles")
    findings = find_cycles(graph, th, inf, extra, frozenset(found))
    for name, items in findings.cycles.items():
        found.setdefault(name, []).extend(items)
    for name, record in cycle_exists(findings.cyclic_models, found, extra).items():
        found[name] = [record]

    bad = {k: v for k, v in found.items() if k in prohibited}
    shown = {k: v for k, v in found.items() if k in reportable}
    not_, also_not = models.boundary(found.keys())
    if not shown:
        valid: bool | str = True
    elif bad:
        valid = False
    else:
        valid = "unknown"
    stats = {
        "ops": cols.n_ops,
        "txns": th.n,
        "ok": int((th.status == OK).sum()),
        "info": int((th.status == INFO).sum()),
        "fail": int((th.status == FAIL).sum()),
        "edges": graph.edge_count,
        "sccs": findings.components,
    }
    return Result(
        valid=valid,
        anomaly_types=sorted(shown),
        anomalies={k: shown[k] for k in sorted(shown)},
        not_=not_ if shown else [],
        also_not=also_not if shown else [],
        source=cols.source,
        workload=workload,
        models=tuple(options.models),
        stats=stats,
        all_anomaly_types=sorted(found),
    )


def columns_of(history: History) -> Columns:
    """The columns of a history read whole (the ops are kept for explanations)."""
    return columns_from_ops(history.ops, history.source, history.format, history.ignored)


def _bridge(tc: TxnColumns) -> TxnHistory:
    """Transactions as objects for the per-op inference (until the column inference lands)."""
    ops = tc.cols.ops
    assert ops is not None
    txns = []
    completed = tc.completed_at
    for t in range(tc.n):
        c = int(tc.complete_row[t])
        st = ("invoke", "ok", "fail", "info")[tc.status[t]]
        txns.append(
            Txn(
                t,
                st,
                ops[tc.invoke_row[t]].process,
                ops[tc.invoke_row[t]],
                ops[c] if c >= 0 else None,
                ops[tc.mop_row[t]].value,
                int(tc.invoke_row[t]),
                None if completed[t] < 0 else int(completed[t]),
            )
        )
    return TxnHistory(source=tc.cols.source, txns=txns)


def _infer(tc: TxnColumns, workload: str, options: CheckOptions) -> Inference:
    th = _bridge(tc)
    if workload == "list-append":
        return list_append.infer(th)
    sources = rw_register.VersionSources(
        options.wfr_keys, options.sequential_keys, options.linearizable_keys
    )
    return rw_register.infer(th, sources)


def _extra_relation(reportable: frozenset[str] | set[str]) -> int:
    """Realtime edges when any realtime anomaly matters (they cover process order), else process edges."""
    if any(a.endswith("-realtime") for a in reportable):
        return REALTIME
    if any(a.endswith("-process") for a in reportable):
        return PROCESS
    return 0


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
) -> CycleFindings:
    """Shortest cycle of each type in each component, skipping types already implied,
    and the model-level tests; `known` names the anomalies found before (they let
    those tests skip models already ruled out).

    Components are independent, so the work is split between two processes, each
    running the whole-graph existence passes over its own share of components."""
    comps = graph.sccs()
    if not comps:
        return CycleFindings({}, {}, 0)
    # Compact numbering: the nodes of all components, component by component (so the
    # passes below work on arrays of that size, not of the whole history), each
    # with its component and its position in it (its local number).
    sizes = np.array([len(c) for c in comps], np.int64)
    members = np.concatenate(comps)  # compact id -> transaction id
    compact = np.full(graph.n, -1, np.int64)
    compact[members] = np.arange(len(members))
    labels = np.repeat(np.arange(len(comps)), sizes)  # compact id -> component
    first = np.cumsum(sizes) - sizes  # component -> its first compact id
    local = np.arange(len(members)) - np.repeat(first, sizes)
    comp_of_txn = np.full(graph.n, -1, np.int64)
    comp_of_txn[members] = labels
    ls, ld = comp_of_txn[graph.src], comp_of_txn[graph.dst]
    internal = np.flatnonzero((ls == ld) & (ls >= 0))
    order = internal[np.argsort(ls[internal], kind="stable")]
    edge_comp = ls[order]
    bounds = np.searchsorted(edge_comp, np.arange(len(comps) + 1)).tolist()
    inside = DependencyGraph(
        len(members), compact[graph.src[order]], compact[graph.dst[order]], graph.rel[order]
    )
    specs = cycle_specs(extra)

    def search(indices: list[int]) -> list[tuple]:
        """("cycle", component, type, explained cycle) and ("model", model, smallest
        cyclic component) records for the given components."""
        share = np.zeros(len(comps), bool)
        share[indices] = True
        mine = share[edge_comp]
        sub = DependencyGraph(inside.n, inside.src[mine], inside.dst[mine], inside.rel[mine])
        cache: LabelCache = {}
        presence = scc_decidable_presence(sub, labels, local, sizes, specs, cache)
        space = SearchSpace(inside.n, sub.src, sub.dst, sub.rel, largest=int(sizes[indices].max()))
        all_src = local[sub.src].tolist()
        all_dst = local[sub.dst].tolist()
        all_rel = sub.rel.tolist()
        starts = np.cumsum([0] + [bounds[i + 1] - bounds[i] for i in indices])
        heads = starts[:-1]  # every component has edges: it holds a cycle
        unions = np.bitwise_or.reduceat(sub.rel, heads).tolist() if len(sub.rel) else []
        rw_counts = np.add.reduceat((sub.rel & RW) != 0, heads).tolist() if len(sub.rel) else []
        starts = starts.tolist()
        out: list[tuple] = []
        names: set[str] = set(known)
        for j, i in enumerate(indices):
            lo, hi = starts[j], starts[j + 1]
            nodes = comps[i].tolist()
            component = Component(
                nodes, all_src[lo:hi], all_dst[lo:hi], all_rel[lo:hi], unions[j], rw_counts[j]
            )
            found = _component_cycles(
                component, i, specs, presence, local, tc, space, int(first[i])
            )
            for name, glob, proven in found:
                record = explain_cycle(name, glob, tc, inf)
                if not proven:
                    record["shortest?"] = False
                out.append(("cycle", i, name, record))
                names.add(name)
        for model, smallest in cyclic_models(sub, names, extra, cache).items():
            out.append(("model", model, members[smallest]))
        return out

    results = in_two_processes(
        search, sorted(range(len(comps))), [hi - lo for lo, hi in pairwise(bounds)]
    )
    cycles: dict[str, list] = {}
    for _, _, name, record in sorted((r for r in results if r[0] == "cycle"), key=lambda r: r[1]):
        cycles.setdefault(name, []).append(record)
    smallest_of: dict[str, np.ndarray] = {}
    for _, model, smallest in (r for r in results if r[0] == "model"):
        if model not in smallest_of or len(smallest) < len(smallest_of[model]):
            smallest_of[model] = smallest
    return CycleFindings(cycles, smallest_of, len(comps))


def _component_cycles(
    component: Component,
    i: int,
    specs,
    presence: dict[str, Anchors],
    local: np.ndarray,
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
        if present is not None and i not in present.undecided:
            if i not in present.components:
                continue
            anchors = [(int(local[u]), int(local[v])) for u, v in present.of(i)]
        steps = finder.shortest(spec, anchors)
        if steps is None:
            continue
        implied |= models.implied_anomalies([spec.name])
        glob = [(nodes[a], nodes[b], rel) for a, b, rel in steps]
        if spec.extra == REALTIME:
            glob = shortcut_realtime(glob, spec, tc)
        found.append(
            (spec.name, glob, finder.at_least == 0 or len(glob) <= max(2, finder.at_least))
        )
    return found


PARALLEL_MIN_EDGES = 50000  # below this, a second process costs more than it saves


def in_two_processes(work, items: list[int], weights: list[int]) -> list:
    """Run work(items) split over two processes (fork) when there is enough to do.

    The machine has two cores; the component searches are independent, so a
    forked child takes about half of the edges and sends its results back
    pickled. Results are the concatenation, in no particular order."""
    total = sum(weights)
    if total < PARALLEL_MIN_EDGES or not hasattr(os, "fork") or len(items) < 2:
        return work(items)
    mine: list[int] = []
    theirs: list[int] = []
    load = [0, 0]
    for i in sorted(items, key=lambda i: -weights[i]):
        side = 0 if load[0] <= load[1] else 1
        (mine if side == 0 else theirs).append(i)
        load[side] += weights[i]
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:  # no second process to be had (limits): do it all here
        return work(items)
    if pid == 0:  # the child: search, send, leave without running the parent's cleanup
        os.close(read_end)
        try:
            payload = pickle.dumps(("ok", work(sorted(theirs))), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as e:  # report, never hang the parent
            payload = pickle.dumps(("error", f"{type(e).__name__}: {e}"))
        with os.fdopen(write_end, "wb") as w:
            w.write(payload)
        os._exit(0)
    os.close(write_end)
    try:
        results = work(sorted(mine))
    finally:
        with os.fdopen(read_end, "rb") as r:
            data = r.read()
        os.waitpid(pid, 0)
    status, payload = pickle.loads(data)
    if status != "ok":
        raise RuntimeError(f"cycle search in the second process failed: {payload}")
    return results + payload


class Anchors:
    """Anchor edges (global ids) through which a cycle of one type is known to pass,
    grouped by component; `components` are those holding such a cycle."""

    def __init__(
        self,
        comp: np.ndarray,
        src: np.ndarray,
        dst: np.ndarray,
        undecided: set[int] | None = None,
        promising: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        order = np.lexsort((dst, src, comp))
        comp, src, dst = comp[order], src[order], dst[order]
        new = np.ones(len(comp), bool)  # drop repeats: one anchor may come from several composites
        new[1:] = (comp[1:] != comp[:-1]) | (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        comp, src, dst = comp[new], src[new], dst[new]
        if promising is not None and len(comp):  # within each component, promising anchors first
            order = np.lexsort((~promising(src, dst), comp))
            comp, src, dst = comp[order], src[order], dst[order]
        self._src, self._dst = src, dst
        first = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]]) if len(comp) else comp[:0]
        ends = np.r_[first[1:], len(comp)][: len(first)]
        self._range = dict(
            zip(comp[first].tolist(), zip(first.tolist(), ends.tolist(), strict=True), strict=True)
        )
        self.components = self._range.keys()
        self.undecided = undecided or set()  # components this pass could not decide

    def of(self, component: int) -> list[tuple[int, int]]:
        lo, hi = self._range[component]
        return list(zip(self._src[lo:hi].tolist(), self._dst[lo:hi].tolist(), strict=True))


LabelCache = dict[tuple[int, bool], Any]
"""SCC labels of the graph's edges cut to a relation mask (False), or the extension graph's
composites and labels (True); computed once for the existence passes and the model tests."""


def _labels(inside: DependencyGraph, mask: int, cache: LabelCache) -> np.ndarray:
    lab = cache.get((mask, False))
    if lab is None:
        lab = cache[(mask, False)] = inside.select(mask).scc_labels()
    return lab


def scc_decidable_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    local: np.ndarray,
    sizes: np.ndarray,
    specs,
    cache: LabelCache,
) -> dict[str, Anchors]:
    """For every type whose existence can be decided over the whole graph at once,
    the anchor edges of its cycles, by component; instead of one test per component
    and type. Components left out of a G-single result (too large for the bitset
    closure) are decided by the per-component search."""
    out: dict[str, Anchors] = {}
    closes_two_cycle = _reversed_edge_test(inside)
    for spec in specs:
        if spec.rw_rule == "nonadjacent":
            out[spec.name] = _nonadjacent_presence(inside, comp_of, spec, cache, closes_two_cycle)
            continue
        if spec.rw_rule == "one":
            out[spec.name] = _single_presence(inside, comp_of, local, sizes, spec, closes_two_cycle)
            continue
        sub = inside.select(spec.allowed)
        lab = _labels(inside, spec.allowed, cache)
        same = lab[sub.src] == lab[sub.dst]
        if spec.rw_rule == "adjacent":
            rw_in = same & ((sub.rel & RW) != 0)
            has_rw_out = np.zeros(inside.n, bool)
            has_rw_out[sub.src[rw_in]] = True
            anchor = rw_in & has_rw_out[sub.dst]
        else:
            anchor = same & ((sub.rel & spec.anchor) != 0)
        if spec.extra:
            with_extra = np.unique(lab[sub.src[same & ((sub.rel & spec.extra) != 0)]])
            anchor &= np.isin(lab[sub.src], with_extra)
        out[spec.name] = Anchors(
            comp_of[sub.src[anchor]], sub.src[anchor], sub.dst[anchor], promising=closes_two_cycle
        )
    return out


def _reversed_edge_test(graph: DependencyGraph) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A test of which edges a -> b have an edge b -> a back: anchors that may close a
    cycle of two steps, the shortest there is, so the search tries them first."""
    n = graph.n
    keys = np.sort(graph.src * n + graph.dst)
    if len(keys) == 0:
        return lambda src, dst: np.zeros(len(src), bool)

    def test(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        back = dst * n + src
        at = np.minimum(np.searchsorted(keys, back), len(keys) - 1)
        return keys[at] == back

    return test


def _single_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    local: np.ndarray,
    sizes: np.ndarray,
    spec,
    promising: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Anchors:
    """rw edges u -> v with a path v ~> u over the spec's non-rw steps (through at least
    one extra step when the spec needs one), from transitive closures of every
    component at once."""
    plain = inside.select(spec.allowed & ~RW)
    pc = comp_of[plain.src]
    via = np.flatnonzero(plain.rel & spec.extra) if spec.extra else None
    closure = Closure(sizes, pc, local[plain.src], local[plain.dst], via)
    rw = inside.select(RW)
    rc = comp_of[rw.src]
    closed = closure.closed[rc]
    hit = np.zeros(len(rc), bool)
    hit[closed] = closure.reaches(rc[closed], local[rw.dst[closed]], local[rw.src[closed]])
    return Anchors(
        rc[hit],
        rw.src[hit],
        rw.dst[hit],
        set(np.flatnonzero(~closure.closed).tolist()),
        promising=promising,
    )


def _composites(
    graph: DependencyGraph, mask: int
) -> tuple[DependencyGraph, np.ndarray, np.ndarray, np.ndarray]:
    """The non-rw edges (relations in mask) and, for each non-rw edge x -> y followed by
    an rw edge y -> z, the pair (x, z) with the first edge's index (Cerone & Gotsman's
    extension of a dependency graph by one anti-dependency)."""
    plain = graph.select(mask & ~RW)
    rw = graph.select(RW)
    order = np.argsort(rw.src, kind="stable")
    rs, rd = rw.src[order], rw.dst[order]
    lo = np.searchsorted(rs, plain.dst, "left")
    hi = np.searchsorted(rs, plain.dst, "right")
    counts = hi - lo
    first = np.repeat(np.arange(len(plain.src)), counts)
    starts = np.repeat(lo, counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    return plain, plain.src[first], rd[starts], first


def _extension_labels(inside: DependencyGraph, mask: int, cache: LabelCache):
    """The composites of mask and the SCC labels of the extension graph they make."""
    hit = cache.get((mask, True))
    if hit is None:
        plain, xs, zs, first = _composites(inside, mask)
        src = np.concatenate([plain.src, xs])
        dst = np.concatenate([plain.dst, zs])
        lab = DependencyGraph(inside.n, src, dst, np.ones(len(src), np.int8)).scc_labels()
        hit = cache[(mask, True)] = (plain, xs, zs, first, lab)
    return hit


def _nonadjacent_presence(
    inside: DependencyGraph,
    comp_of: np.ndarray,
    spec,
    cache: LabelCache,
    promising: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Anchors:
    """Components with a closed walk whose rw steps are non-adjacent: a cycle of the
    extension graph through a composite edge (with an extra step somewhere on it when
    the spec needs one, possibly inside a composite edge). Anchors: the rw edges of
    the composites on such cycles."""
    plain, xs, zs, first, lab = _extension_labels(inside, spec.allowed, cache)
    internal = lab[xs] == lab[zs]
    if spec.extra:
        has_x = (plain.rel & spec.extra) != 0
        plain_in = lab[plain.src] == lab[plain.dst]
        with_x = np.concatenate(
            [lab[plain.src[plain_in & has_x]], lab[xs[internal & has_x[first]]]]
        )
        internal &= np.isin(lab[xs], np.unique(with_x))
    ys = plain.dst[first[internal]]
    return Anchors(comp_of[ys], ys, zs[internal], promising=promising)


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
    name: str, steps: list[tuple[int, int, int]], tc: TxnColumns, inf: Inference
) -> dict[str, Any]:
    """Elle's cycle record: the ops around the cycle and one typed step per edge."""
    ops = [tc.cols.op_json(tc.op_row(a)) for a, _, _ in steps]
    ops.append(ops[0])
    return {
        "cycle": ops,
        "steps": [explain_step(a, b, rel, tc, inf) for a, b, rel in steps],
        "type": name,
    }


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


def _model_tests(extra: int) -> list[tuple[str, int, bool]]:
    """Elle's model-level cycle tests: (model, relations, rw only after a non-rw step)."""
    tests: list[tuple[str, int, bool]] = [
        ("PL-1", WW, False),
        ("PL-2", WW | WR, False),
        ("PL-SI", WW | WR | RW, True),
        ("PL-3", DATA, False),
    ]
    if extra == PROCESS:
        tests += [
            ("strong-session-PL-1", WW | PROCESS, False),
            ("strong-session-PL-2", WW | WR | PROCESS, False),
            ("strong-session-snapshot-isolation", DATA | PROCESS, True),
            ("strong-session-serializable", DATA | PROCESS, False),
        ]
    elif extra == REALTIME:
        tests += [
            ("strong-PL-1", WW | REALTIME, False),
            ("strong-PL-2", WW | WR | REALTIME, False),
            ("strong-snapshot-isolation", DATA | REALTIME, True),
            ("PL-SS", DATA | REALTIME, False),
        ]
    return tests


def cyclic_models(
    graph: DependencyGraph,
    found: set[str] | frozenset[str],
    extra: int,
    cache: LabelCache | None = None,
) -> dict[str, np.ndarray]:
    """For each model-level test not already settled by the named anomalies `found`,
    the smallest component of its graph holding a cycle (node ids), if any. Decided by
    SCCs alone, so always definite; labels the existence passes computed (`cache`) are
    reused."""
    cache = {} if cache is None else cache
    ruled_out = models.anomalies_to_impossible_models(
        k for k in found if not k.endswith("-cycle-exists")
    )
    out: dict[str, np.ndarray] = {}
    for model, mask, extension in _model_tests(extra):
        if model in ruled_out:
            continue
        if extension:
            plain, xs, zs, _, lab = _extension_labels(graph, mask, cache)
            src, dst = np.concatenate([plain.src, xs]), np.concatenate([plain.dst, zs])
        else:
            g = graph.select(mask)
            src, dst = g.src, g.dst
            lab = _labels(graph, mask, cache)
        cyclic = np.unique(lab[src[lab[src] == lab[dst]]])
        if len(cyclic):
            members = np.flatnonzero(np.isin(lab, cyclic))
            sizes = np.bincount(lab[members])
            smallest = cyclic[np.argmin(sizes[cyclic])]
            out[model] = members[lab[members] == smallest]
            ruled_out |= models.impossible_models([model])
    return out


def cycle_exists(
    smallest: dict[str, np.ndarray], found: dict[str, Any], extra: int
) -> dict[str, Any]:
    """Model-level fallback (Elle's *-cycle-exists): a cycle forbidden by a model whose
    violation no named anomaly already shows, from `cyclic_models`' components."""
    ruled_out = models.anomalies_to_impossible_models(
        k for k in found if not k.endswith("-cycle-exists")
    )
    out: dict[str, Any] = {}
    for model, _, _ in _model_tests(extra):
        if model in ruled_out or model not in smallest:
            continue
        nodes = smallest[model]
        name = f"{models.friendly(model) if model.startswith('strong') else model}-cycle-exists"
        out[name] = {
            "type": name,
            "not": models.friendly(model),
            "scc-size": len(nodes),
            "scc": sorted(int(x) for x in nodes),
        }
        ruled_out |= models.impossible_models([model])
    return out
