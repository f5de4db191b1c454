"""Elle's model-level cycle tests (*-cycle-exists): a cycle a model forbids that no
named anomaly already shows, decided by strongly connected components alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from mvcc_check.analysis import models
from mvcc_check.analysis.graph import DATA, PROCESS, REALTIME, RW, WR, WW, DependencyGraph
from mvcc_check.analysis.search.presence import (
    LabelCache,
    extension_labels,
    labels_of,
)


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
            plain, xs, zs, _, lab = extension_labels(graph, mask, cache)
            src, dst = np.concatenate([plain.src, xs]), np.concatenate([plain.dst, zs])
        else:
            g = graph.select(mask)
            src, dst = g.src, g.dst
            lab = labels_of(graph, mask, cache)
        cyclic = np.unique(lab[src[lab[src] == lab[dst]]])
        if len(cyclic):
            members = np.flatnonzero(np.isin(lab, cyclic))  # ascending
            sizes = np.bincount(lab[members])
            ties = cyclic[sizes[cyclic] == sizes[cyclic].min()]
            # of the smallest components, the one holding the lowest node: whatever the labels
            smallest = lab[members[np.argmax(np.isin(lab[members], ties))]]
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
