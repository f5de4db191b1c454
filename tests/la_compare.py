"""The old (per-op) and the columnar list-append inference side by side: what
each gives for one history, in a form that compares exactly."""

from __future__ import annotations

from typing import Any

from reference import list_append as old_la
from reference.txns import build_txns

from mvcc_check.analysis.columnar import list_append as new_la
from mvcc_check.analysis.graph import RW, WR, WW
from mvcc_check.analysis.inference import Inference
from mvcc_check.errors import HistoryError
from mvcc_check.history.columns import columns_from_ops
from mvcc_check.history.ops import Op
from mvcc_check.history.pairing import pair_columns
from mvcc_check.history.readers import History


def _summary(inf: Inference, n: int) -> dict[str, Any]:
    g = inf.edges.build(n)
    edges = sorted(
        (int(a), int(b), bit)
        for a, b, r in zip(g.src.tolist(), g.dst.tolist(), g.rel.tolist(), strict=True)
        for bit in (WW, WR, RW)
        if r & bit
    )
    return {
        "edges": edges,
        "anomalies": list(inf.anomalies.items()),
        "explanations": [inf.explainer.explain(a, b, rel) for a, b, rel in edges],
    }


def old_result(ops: list[Op], source: str = "h") -> Any:
    try:
        th = build_txns(History(source=source, ops=ops, format="jsonl"))
        return _summary(old_la.infer(th), len(th.txns))
    except HistoryError as e:
        return ("error", str(e))


def new_result(ops: list[Op], source: str = "h", drop_ops: bool = False) -> Any:
    cols = columns_from_ops(ops, source=source)
    try:
        tc = pair_columns(cols)
        return _summary(new_la.infer(tc), tc.n)
    except HistoryError as e:
        return ("error", str(e))


def assert_same(ops: list[Op], source: str = "h") -> Any:
    old = old_result(ops, source)
    new = new_result(ops, source)
    if old != new:
        _explain_difference(old, new)
    return old


def _explain_difference(old: Any, new: Any) -> None:
    if isinstance(old, tuple) or isinstance(new, tuple):
        raise AssertionError(f"old {old!r}\nnew {new!r}")
    for part in ("edges", "anomalies", "explanations"):
        if old[part] != new[part]:
            o, n = old[part], new[part]
            if part == "edges":
                raise AssertionError(
                    f"edges differ: only old {sorted(set(o) - set(n))[:10]}, "
                    f"only new {sorted(set(n) - set(o))[:10]}"
                )
            raise AssertionError(f"{part} differ:\nold {o!r}\nnew {n!r}")
