"""Elle's model-level cycle tests (*-cycle-exists): a cycle a model forbids that no
named anomaly already shows, decided by strongly connected components alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from mvcc_check.analysis import models
from mvcc_check.analysis.graph import DATA, PROCESS, REALTIME, RW, WR, WW, DependencyGraph
from mvcc_check.analysis.search.presence import LabelCache, labels_of, two_layer_graph


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
        if extension:  # each transaction t is two nodes there, t and n + t
            lab = two_layer_graph(graph, mask, cache).labels
        else:
            lab = labels_of(graph, mask, cache)
        # Neither graph has a self-loop (no edge joins a transaction to itself; the
        # two-layer graph's edges join t and n + t's layers to other transactions),
        # so the components holding a cycle are exactly those of two or more nodes.
        cyclic = np.flatnonzero(np.bincount(lab) > 1)
        if len(cyclic):
            out[model] = _smallest_component(lab, cyclic, graph.n)
            ruled_out |= models.impossible_models([model])
    return out


def _smallest_component(lab: np.ndarray, cyclic: np.ndarray, n: int) -> np.ndarray:
    """The transactions (node ids modulo n) of the cyclic component with the fewest of
    them; of equally small ones, the one holding the lowest transaction."""
    nodes = np.flatnonzero(np.isin(lab, cyclic))
    pairs = np.unique(lab[nodes] * n + nodes % n)  # (component, transaction), once each
    comp, txn = pairs // n, pairs % n
    sizes = np.bincount(comp)
    ties = cyclic[sizes[cyclic] == sizes[cyclic].min()]
    in_tie = np.isin(comp, ties)
    best = comp[in_tie][np.argmin(txn[in_tie])]
    return np.unique(txn[comp == best])


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
