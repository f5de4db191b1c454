"""Each model's graph, in which the model holds exactly when it has no cycle.

The serializable family (serializable, repeatable-read as this checker defines
it, strong-session-serializable, strict-serializable) is one node per
transaction with every dependency edge (ww, wr, rw, and process or realtime
where the model asks for them): Adya's conflict graph. In these histories every
anti-dependency is an item one, so repeatable-read's G2-item is any cycle.

The snapshot-isolation family is two nodes per transaction, its start s(T) and
its commit c(T), with s(T) -> c(T): a ww, wr, process or realtime edge T1 -> T2
says T1 committed before T2 started (c(T1) -> s(T2)); an rw edge says T1 started
before T2 committed (s(T1) -> c(T2)). A cycle there is a cycle with no two
adjacent rw edges: the condition of Cerone & Gotsman (PODC 2016) that PolySI
(VLDB 2023) encodes as acyclicity of (ww | wr | so) ; rw? .
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mvcc_check.analysis import models
from mvcc_check.analysis.graph import DATA, PROCESS, REALTIME, RW, WR, WW, scc_labels


@dataclass(frozen=True)
class ModelGraph:
    """How to judge one model: its relations and whether it is a snapshot model."""

    model: str  # canonical name
    mask: int
    si: bool

    @property
    def name(self) -> str:
        return "strict-serializable" if self.model == "PL-SS" else models.friendly(self.model)


FAMILY: dict[str, ModelGraph] = {
    m.model: m
    for m in (
        ModelGraph("PL-SS", DATA | REALTIME, False),
        ModelGraph("strong-session-serializable", DATA | PROCESS, False),
        ModelGraph("strong-snapshot-isolation", DATA | REALTIME, True),
        ModelGraph("PL-3", DATA, False),
        ModelGraph("strong-session-snapshot-isolation", DATA | PROCESS, True),
        ModelGraph("PL-2.99", DATA, False),
        ModelGraph("PL-SI", DATA, True),
    )
}
"""The models the complete search decides, strongest first."""


def to_decide(requested: tuple[str, ...]) -> list[ModelGraph]:
    """The requested models of the family, strongest first."""
    wanted = {models.canonical(m) for m in requested}
    return [m for name, m in FAMILY.items() if name in wanted]


_PREFER = (WW, WR, PROCESS, REALTIME, RW)  # the relation a step is named by, first that applies


def _one(rel: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """Per edge, the first relation of `order` among its bits."""
    out = np.zeros(len(rel), np.int8)
    for r in reversed(order):
        out = np.where(rel & r, np.int8(r), out)
    return out


@dataclass(frozen=True)
class Encoded:
    """A model graph: `size` nodes, edges src -> dst, each labelled with the txn
    edge it stands for (a, b, one relation bit; 0 for start -> commit)."""

    size: int
    src: np.ndarray
    dst: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rel: np.ndarray


def encode(
    mg: ModelGraph,
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    rel: np.ndarray,
    txns: np.ndarray | None = None,
) -> Encoded:
    """The model's graph over txns 0..n-1 from typed edges (relations outside the
    model's mask ignored); the snapshot graph's start -> commit edges for `txns`
    (default: all)."""
    rel = rel & mg.mask
    keep = rel != 0
    if not keep.all():
        src, dst, rel = src[keep], dst[keep], rel[keep]
    src, dst = src.astype(np.int64, copy=False), dst.astype(np.int64, copy=False)
    if not mg.si:
        return Encoded(n, src, dst, src, dst, _one(rel, _PREFER))
    dep = np.flatnonzero((rel & ~RW) != 0)
    anti = np.flatnonzero((rel & RW) != 0)
    t = np.arange(n, dtype=np.int64) if txns is None else txns.astype(np.int64)
    return Encoded(
        2 * n,
        np.concatenate([2 * t, 2 * src[dep] + 1, 2 * src[anti]]),
        np.concatenate([2 * t + 1, 2 * dst[dep], 2 * dst[anti] + 1]),
        np.concatenate([t, src[dep], src[anti]]),
        np.concatenate([t, dst[dep], dst[anti]]),
        np.concatenate(
            [
                np.zeros(len(t), np.int8),
                _one(rel[dep], _PREFER[:4]),
                np.full(len(anti), RW, np.int8),
            ]
        ),
    )


def node_of(mg: ModelGraph, txn: np.ndarray | int, commit: bool) -> np.ndarray | int:
    """The node of a txn's commit (commit=True) or start in the model graph."""
    if not mg.si:
        return txn
    return 2 * txn + (1 if commit else 0)


def cyclic_nodes(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The nodes on some cycle (empty when the graph has none), by csgraph's SCCs."""
    if not len(src):
        return np.zeros(0, np.int64)
    loops = src == dst
    labels = scc_labels(n, src.astype(np.int64), dst.astype(np.int64))
    sizes = np.bincount(labels, minlength=1)
    cyclic = sizes[labels] > 1
    cyclic[src[loops]] = True
    return np.flatnonzero(cyclic)
