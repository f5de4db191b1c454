"""check(): history in, verdict out. Pure: no printing, no exiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any

import numpy as np

from mvcc_check.analysis import models
from mvcc_check.analysis.columnar import list_append, rw_register
from mvcc_check.analysis.columnar.excluded import NonUniqueWrites, keys_left, without_keys
from mvcc_check.analysis.complete.decide import Outcome, decide
from mvcc_check.analysis.graph import PROCESS, REALTIME, EdgeBuilder
from mvcc_check.analysis.inference import Inference
from mvcc_check.analysis.order import process_edges_columns, realtime_edges_columns
from mvcc_check.analysis.predicate import infer as closed_predicate
from mvcc_check.analysis.predicate.search import search as predicate_search
from mvcc_check.analysis.search.find import find_cycles
from mvcc_check.analysis.search.info_writes import settle_info_write_cycles
from mvcc_check.analysis.search.model_cycles import cycle_exists
from mvcc_check.errors import HistoryError, OptionError
from mvcc_check.exitcodes import INVALID, UNDECIDED, VALID
from mvcc_check.history.columns import (
    APPEND,
    FAIL,
    INFO,
    LIST,
    NIL,
    OK,
    PREDICATE_KINDS,
    READ,
    WRITE,
    Columns,
    columns_from_ops,
)
from mvcc_check.history.ops import CLOSED_PREDICATE, WORKLOADS
from mvcc_check.history.pairing import TxnColumns, pair_columns
from mvcc_check.history.readers import History, gc_paused
from mvcc_check.history.txn_order import TransactionOrder
from mvcc_check.memory import release_freed_memory


@dataclass(frozen=True)
class CheckOptions:
    """What to check. `models` must all hold for the history to be valid."""

    models: tuple[str, ...] = ("strict-serializable",)
    workload: str | None = None  # detected from the micro-ops when None
    anomalies: tuple[str, ...] = ()  # further anomalies to forbid (Elle's :anomalies)
    wfr_keys: bool = False
    sequential_keys: bool = False
    linearizable_keys: bool = False
    transaction_order: TransactionOrder | None = None  # rw-register: a known commit order
    # Refuse a history whose writes are not unique per key (else those keys are left out).
    strict_input: bool = False
    # Keys to leave out whatever their writes (shrink: those the whole history left out,
    # so that a sub-history never judges a key the whole one could not).
    left_out_keys: tuple[Any, ...] = ()
    complete: bool = True  # decide the orders Elle's inference leaves open (complete/)


class Verdict(Enum):
    """A history's verdict under the requested models: Elle's three values."""

    VALID = "valid"  # every requested model holds
    INVALID = "invalid"  # anomalies a requested model forbids were found
    UNKNOWN = "unknown"  # undecided: anomalies no model can judge (or none at all)

    @property
    def json(self) -> bool | str:
        """elle-cli's `valid?`: true, false or "unknown"."""
        return _VALID_JSON[self]

    @property
    def exit_code(self) -> int:
        return _EXIT[self]

    @classmethod
    def from_json(cls, valid: Any) -> Verdict:
        """The verdict a JSON result's `valid?` says (anything but true or false: unknown)."""
        if valid is True:
            return cls.VALID
        return cls.INVALID if valid is False else cls.UNKNOWN


_VALID_JSON: dict[Verdict, bool | str] = {
    Verdict.VALID: True,
    Verdict.INVALID: False,
    Verdict.UNKNOWN: "unknown",
}
_EXIT = {Verdict.VALID: VALID, Verdict.INVALID: INVALID, Verdict.UNKNOWN: UNDECIDED}


@dataclass
class Result:
    """A verdict with elle-cli's fields, plus what the report needs."""

    verdict: Verdict
    anomaly_types: list[str]
    anomalies: dict[str, Any]
    not_: list[str]
    also_not: list[str]
    source: str = ""
    workload: str = ""
    models: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)
    all_anomaly_types: list[str] = field(default_factory=list)  # found, reportable or not
    # Keys left out of the judgement (writes not unique): the verdict covers only the others.
    excluded_keys: list[dict[str, Any]] = field(default_factory=list)
    keys_left: int | None = None  # with excluded keys: how many the verdict covers

    @property
    def valid(self) -> bool | str:
        """elle-cli's `valid?` (True, False or "unknown"): the verdict's JSON form."""
        return self.verdict.json

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"valid?": self.valid}
        if self.anomaly_types:
            out["anomaly-types"] = self.anomaly_types
            out["anomalies"] = self.anomalies
            out["not"] = self.not_
            out["also-not"] = self.also_not
        return out


def _evidence(
    tc: TxnColumns, txns: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kind, value tag, txn) of every transaction's micro-ops (or of `txns`'), with
    what a failed or indeterminate transaction read counted as nil: it is no evidence
    of anything, the workload included (issue 15)."""
    rows, txn = tc.mop_txn(txns)
    kind, tag = tc.cols.mop_kind[rows], tc.cols.mop_tag[rows]
    return kind, np.where(tc.status[txn] == OK, tag, NIL), txn


def likely_workload(tc: TxnColumns) -> str:
    """The workload the first telling micro-op shows (an append or list read: list-append;
    a write or scalar read: rw-register). Each workload's inference rejects the other's
    micro-ops, so a wrong guess only costs a second try (see `_infer`).

    Every op's micro-ops are some transaction's, or of the same kinds as its
    completion's (pairing checks that), so predicate kinds are looked for over all rows;
    the first telling micro-op is looked for over growing prefixes of the transactions."""
    if (tc.cols.mop_kind >= PREDICATE_KINDS[0]).any():
        return CLOSED_PREDICATE  # an insert, delete, predicate read or init op
    lo, step = 0, 1024
    while lo < tc.n:
        hi = min(tc.n, lo + step)
        kind, tag, _ = _evidence(tc, np.arange(lo, hi))
        telling = np.flatnonzero((kind != READ) | (tag != NIL))
        if len(telling):
            j = telling[0]
            return "list-append" if kind[j] == APPEND or tag[j] == LIST else "rw-register"
        lo, step = hi, step * 4
    return "list-append"


_WORKLOAD_MOPS = {
    "list-append": "appends and list reads",
    "rw-register": "writes and value reads",
    CLOSED_PREDICATE: "inserts, deletes, predicate reads or an init op",
}


def _shows_workload(tc: TxnColumns, workload: str) -> bool:
    """Whether some micro-op is of `workload`'s kind alone (an append or list read, a write)."""
    kind, tag, _ = _evidence(tc)
    if workload == CLOSED_PREDICATE:
        return bool((kind >= PREDICATE_KINDS[0]).any())
    if workload == "list-append":
        return bool(((kind == APPEND) | ((kind == READ) & (tag == LIST))).any())
    return bool((kind == WRITE).any())


def detect_workload(tc: TxnColumns) -> str:
    """list-append if anything appends or reads a list, rw-register if anything writes;
    HistoryError if both appends and writes occur."""
    kind, tag, txn = _evidence(tc)
    if (kind >= PREDICATE_KINDS[0]).any():
        return CLOSED_PREDICATE
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


class Stage(StrEnum):
    """The stages of a check, in order (reading is the reader's, before check())."""

    READING = "reading"
    PAIRING = "pairing"
    INFERRING = "inferring"
    BUILDING = "building"
    DECIDING = "deciding"  # the complete search (before the cycle search frees the graph)
    SEARCHING = "searching"


class StageStarted(str):
    """A stage as it starts: the words to show (the string itself) and its `stage`, so
    that no one needs to parse the words."""

    stage: Stage

    def __new__(cls, stage: Stage, words: str | None = None) -> StageStarted:
        told = super().__new__(cls, stage.value if words is None else words)
        told.stage = stage
        return told

    def __reduce__(self):  # across a pipe (the limited check's worker)
        return (StageStarted, (self.stage, str(self)))


def stage_of(told: str) -> Stage:
    """The stage a progress call names: a StageStarted's, or a bare stage name's."""
    stage = getattr(told, "stage", None)
    return stage if stage is not None else Stage(told)


Progress = Callable[[str], None]
"""Told each stage as it starts, as a StageStarted (the CLI shows it; the core never prints)."""


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
    models.validate_anomalies(options.anomalies)
    if options.workload is not None and options.workload not in WORKLOADS:
        raise OptionError(
            f"unknown workload {options.workload!r} (expected {' or '.join(WORKLOADS)})"
        )
    cols = history if isinstance(history, Columns) else columns_of(history)
    progress(StageStarted(Stage.PAIRING, "pairing operations into transactions"))
    th = pair_columns(cols)
    workload = options.workload or likely_workload(th)
    progress(StageStarted(Stage.INFERRING, f"inferring {workload} dependencies"))
    workload, inf = _infer_settled(th, workload, options)

    prohibited = models.prohibited_anomalies(options.models) | models.anomalies_implying(
        options.anomalies
    )
    reportable = prohibited | models.UNKNOWN_ANOMALIES
    extra = _extra_relation(reportable)
    found: dict[str, Any] = dict(inf.anomalies)
    if workload == CLOSED_PREDICATE:
        progress(StageStarted(Stage.SEARCHING, "searching cycles"))
        edge_count, components = predicate_search(th, inf, extra, found)  # type: ignore[arg-type]
        complete_stats = None  # (the complete search decides item workloads only)
    else:
        edge_count, components, complete_stats = _item_cycles(
            th, inf, extra, found, progress, options
        )

    bad = {k: v for k, v in found.items() if k in prohibited}
    shown = {k: v for k, v in found.items() if k in reportable}
    not_, also_not = models.boundary(found.keys())
    if not shown:
        verdict = Verdict.VALID
    elif bad:
        verdict = Verdict.INVALID
    else:
        verdict = Verdict.UNKNOWN
    if inf.keys_left == 0:  # every key was left out: nothing was judged
        verdict = Verdict.UNKNOWN
    stats = {
        "ops": cols.n_ops,
        "txns": th.n,
        "ok": int((th.status == OK).sum()),
        "info": int((th.status == INFO).sum()),
        "fail": int((th.status == FAIL).sum()),
        "edges": edge_count,
        "sccs": components,
        **_input_stats(history),
    }
    if complete_stats is not None:
        stats["complete-search"] = complete_stats
    return Result(
        verdict=verdict,
        anomaly_types=sorted(shown),
        anomalies={k: shown[k] for k in sorted(shown)},
        not_=not_ if shown else [],
        also_not=also_not if shown else [],
        source=cols.source,
        workload=workload,
        models=tuple(options.models),
        stats=stats,
        all_anomaly_types=sorted(found),
        excluded_keys=inf.excluded_keys,
        keys_left=inf.keys_left,
    )


def _item_cycles(
    th: TxnColumns,
    inf: Inference,
    extra: int,
    found: dict[str, Any],
    progress: Progress,
    options: CheckOptions,
) -> tuple[int, int, dict[str, Any] | None]:
    """The item workloads' graph and cycles, and the complete search's findings, added
    to `found`: (edges, components, the complete search's stats)."""
    progress(StageStarted(Stage.BUILDING, "building the dependency graph"))
    if extra == REALTIME:
        realtime_edges_columns(th, inf.edges)
    elif extra == PROCESS:
        process_edges_columns(th, inf.edges)
    graph = inf.edges.build(th.n)
    inf.edges.release()
    release_freed_memory()
    if graph.edge_count == 0:
        found["empty-transaction-graph"] = True
    outcome = None
    if options.complete:  # (before the cycle search, which frees the graph's edges)
        progress(StageStarted(Stage.DECIDING, "deciding the open version orders"))
        outcome = _complete(th, inf, graph, extra, options, found)
    progress(StageStarted(Stage.SEARCHING, "searching cycles"))
    # The graph's edges are freed during the search unless the info transactions' write
    # cycles may need a second search over them (settle_info_write_cycles).
    keep = bool((th.status == INFO).any())
    findings = find_cycles(graph, th, inf, extra, frozenset(found), release=not keep)
    findings = settle_info_write_cycles(findings, graph, th, inf, extra, frozenset(found))
    for name, items in findings.cycles.items():
        found.setdefault(name, []).extend(items)
    for name, record in cycle_exists(findings.cyclic_models, found, extra).items():
        found[name] = [record]
    complete_stats = None if outcome is None else _complete_found(outcome, found)
    return graph.edge_count, findings.components, complete_stats


def _complete(
    th: TxnColumns, inf: Inference, graph: Any, extra: int, options: CheckOptions, found: dict
) -> Outcome:
    """The complete search for the requested models that the non-cycle anomalies
    found so far do not rule out (complete/decide.py)."""
    cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def edges_for(mask: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if mask not in cache:
            cut = graph.select(mask & ~(PROCESS | REALTIME) | (mask & extra))
            parts = [(cut.src, cut.dst, cut.rel)]
            for rel, add in ((PROCESS, process_edges_columns), (REALTIME, realtime_edges_columns)):
                if mask & rel and not extra & rel:
                    more = EdgeBuilder()
                    add(th, more)
                    g = more.build(th.n)
                    parts.append((g.src, g.dst, g.rel))
            cache[mask] = (
                parts[0]
                if len(parts) == 1
                else tuple(np.concatenate(c) for c in zip(*parts, strict=True))  # type: ignore[assignment]
            )
        return cache[mask]

    named = {k for k in found if k not in models.UNKNOWN_ANOMALIES}
    comps = graph.sccs()  # (kept by the graph: the cycle search asks for them next)
    in_cycle = None
    if comps:
        in_cycle = np.zeros(th.n, bool)
        in_cycle[np.concatenate(comps)] = True
    whole = (int(np.bitwise_or.reduce(graph.rel)) if graph.edge_count else 0, in_cycle)
    return decide(th, inf, tuple(options.models), named, edges_for, graph.edge_count, whole)


def _complete_found(outcome: Outcome, found: dict) -> dict[str, Any]:
    """The complete search's findings added to `found` (each marked "complete-search"),
    and its stats. A model it left to the cycle search (its fixed edges alone hold a
    cycle) that the cycle search did not rule out is undecided, never valid."""
    for name, records in outcome.anomalies.items():
        found.setdefault(name, []).extend(records)
    ruled = models.anomalies_to_impossible_models(found)
    for model in outcome.deferred:
        if models.canonical(model) not in ruled:
            outcome.over_budget.append({"model": model, "regions": [], "why": "unnamed cycle"})
    if outcome.over_budget:
        found["complete-search-over-budget"] = outcome.over_budget
    outcome.stats["anomaly-types"] = sorted(outcome.anomalies)
    return outcome.stats


def _infer_settled(th: TxnColumns, workload: str, options: CheckOptions) -> tuple[str, Inference]:
    """The inference of the guessed (or given) workload; if it rejects the history, the
    whole history decides: the other workload, a mixed history, or an option that
    contradicts the history, each said as such."""
    try:
        return workload, _infer(th, workload, options)
    except HistoryError as e:
        settled = detect_workload(th)  # (mixed workloads raise here)
        if options.workload is not None:
            if settled != workload and _shows_workload(th, settled):
                raise HistoryError(
                    th.cols.source,
                    e.where,
                    f"--workload {workload} contradicts the history, which is {settled} "
                    f"(its micro-ops: {_WORKLOAD_MOPS[settled]})",
                ) from None
            raise
        if settled == workload:
            raise
        return settled, _infer(th, settled, options)


def _input_stats(history: History | Columns) -> dict[str, Any]:
    """What the reader left out, and why: counted so that no verdict hides it.
    (Columns carry only the count; the reasons come with a History.)"""
    out: dict[str, Any] = {"ignored": history.ignored}
    why = getattr(history, "ignored_why", None)
    if history.ignored and why:
        out["ignored-why"] = dict(why)
    for key, attr in (("ignored-client-like", "client_like"), ("torn-tail-dropped", "torn_tail")):
        if getattr(history, attr, None) is not None:
            out[key] = getattr(history, attr)
    return out


def columns_of(history: History) -> Columns:
    """The columns of a history read whole (the ops are kept for explanations)."""
    return columns_from_ops(history.ops, history.source, history.format, history.ignored)


def _evidence_only(tc: TxnColumns) -> TxnColumns:
    """The transactions with what failed and indeterminate ones read dropped (read as
    nil): they did not commit, or may not have, so what they read is no evidence and
    can neither make nor break a verdict. The caller's columns are not changed."""
    rows, _ = tc.mop_txn(np.flatnonzero(tc.status != OK))
    cols = tc.cols
    drop = rows[(cols.mop_kind[rows] == READ) & (cols.mop_tag[rows] != NIL)]
    if not len(drop):
        return tc
    tag, value = cols.mop_tag.copy(), cols.mop_value.copy()
    tag[drop], value[drop] = NIL, 0
    return replace(tc, cols=replace(cols, mop_tag=tag, mop_value=value))


def _infer(tc: TxnColumns, workload: str, options: CheckOptions) -> Inference:
    """The workload's inference; keys whose writes are not unique are left out
    (and said in the Inference) unless the input is read strictly."""
    tc = _evidence_only(tc)
    if workload == CLOSED_PREDICATE:
        if options.transaction_order is not None:
            raise OptionError(
                f"{options.transaction_order.source}: a transaction order applies to "
                f"rw-register histories, and {tc.cols.source} is closed-predicate"
            )
        return closed_predicate.infer(tc)
    wanted = options.left_out_keys
    given = [i for i, k in enumerate(tc.cols.keys) if k in wanted] if wanted else []
    records = [{"key": tc.cols.keys[i], "from-whole-history": True} for i in given]
    inner = without_keys(tc, given) if given else tc
    try:
        inf = _infer_workload(inner, workload, options)
        out = given
    except NonUniqueWrites as e:
        if options.strict_input:
            raise
        if e.other is not None:
            raise e.other from None
        out = given + e.keys
        inf = _infer_workload(without_keys(tc, out), workload, options)
        records += e.records
    if out:
        inf.excluded_keys = records
        inf.keys_left = keys_left(tc, out)
    return inf


def _infer_workload(tc: TxnColumns, workload: str, options: CheckOptions) -> Inference:
    _refuse_predicate_mops(tc, workload)
    if workload == "list-append":
        if options.transaction_order is not None:
            raise OptionError(
                f"{options.transaction_order.source}: a transaction order applies to "
                f"rw-register histories, and {tc.cols.source} is list-append"
            )
        return list_append.infer(tc)
    sources = rw_register.VersionSources(
        options.wfr_keys,
        options.sequential_keys,
        options.linearizable_keys,
        options.transaction_order,
    )
    return rw_register.infer(tc, sources)


def _refuse_predicate_mops(tc: TxnColumns, workload: str) -> None:
    """An item workload's inference does not know inserts, deletes, predicate reads or
    init ops: a history with one is refused, naming it."""
    kind = tc.cols.mop_kind
    bad = np.flatnonzero(kind >= PREDICATE_KINDS[0])
    if len(bad):
        row = int(np.searchsorted(tc.cols.op_mop, bad[0], side="right") - 1)
        raise HistoryError(
            tc.cols.source,
            tc.cols.where(row),
            f"micro-op {tc.cols.mop(int(bad[0]))!r} is not of the {workload} workload "
            "(it is of closed-predicate)",
        )


def _extra_relation(reportable: frozenset[str] | set[str]) -> int:
    """Realtime edges when any realtime anomaly matters (they cover process order), else process edges."""
    if any(a.endswith("-realtime") for a in reportable):
        return REALTIME
    if any(a.endswith("-process") for a in reportable):
        return PROCESS
    return 0
