"""Version-order sources for rw-register: each a function from the history to facts.

A fact says that on one key one version (a vid, see rw_table) precedes
another. Beyond the initial nil preceding every write (added by the
inference itself), the optional sources are those of Elle:

- `wfr_keys`: a committed txn that read v1 and then wrote v2 installed v2 after v1;
- `sequential_keys`: each process sees each key's versions in order: what a
  committed txn last saw of a key precedes what the same process's next
  committed txn on that key first saw (the wfr facts come with it);
- `linearizable_keys`: a txn that finished before another began saw an
  earlier or equal version of every key both touched (Elle's realtime
  frontier, per key);
- `transaction_order`: a known commit order (a position per completion op):
  on each key, the final writes of the transactions it lists, in commit
  order, each precede the next (rw_commit_order).

A source is `(SourceInput) -> Facts`; a new one is one more function and one
more field in `VersionSources`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mvcc_check.analysis.columnar.rw_table import MopTable
from mvcc_check.analysis.columnar.rw_txnkeys import TxnKeys
from mvcc_check.history.columns import FAIL
from mvcc_check.history.pairing import TxnColumns
from mvcc_check.history.txn_order import TransactionOrder


@dataclass(frozen=True)
class VersionSources:
    wfr_keys: bool = False
    sequential_keys: bool = False
    linearizable_keys: bool = False
    transaction_order: TransactionOrder | None = None

    @property
    def any(self) -> bool:
        return (
            self.wfr_keys
            or self.sequential_keys
            or self.linearizable_keys
            or self.transaction_order is not None
        )


@dataclass
class SourceInput:
    """What a source may use: the transactions, the micro-op table, and the
    per-(txn, key) analysis (with its g_* arrays)."""

    tc: TxnColumns
    table: MopTable
    keys: TxnKeys
    commit_rank: np.ndarray | None = None  # per txn: its rank in the transaction order, or -1


@dataclass
class Facts:
    """earlier[i] precedes later[i], two different vids of key key[i].

    pos ranks each fact in the order the per-op inference first stated it
    (facts of the same rank on different keys are ordered by `tie`, which
    takes the rank and those keys and returns them in order); it decides only
    the order of cyclic-versions reports."""

    key: np.ndarray
    earlier: np.ndarray
    later: np.ndarray
    pos: np.ndarray
    tie: Callable[[int, list[int]], list[int]] | None = None
    txns: tuple[np.ndarray, np.ndarray] | None = None  # the writers whose order gave each fact


def version_facts(inp: SourceInput, sources: VersionSources) -> list[Facts]:
    """The facts of every source asked for, in the order the per-op inference stated them."""
    out: list[Facts] = []
    if inp.commit_rank is not None:  # (Elle's second source, after the initial nil)
        out.append(commit_order_facts(inp, inp.commit_rank))
    if sources.wfr_keys or sources.sequential_keys:
        out.append(wfr_facts(inp))
    if sources.sequential_keys:
        out.append(sequential_facts(inp))
    if sources.linearizable_keys:
        out.append(linearizable_facts(inp))
    return out


def commit_order_facts(inp: SourceInput, rank: np.ndarray) -> Facts:
    """Per key, the final writes of the transactions the commit order ranks
    (ok or info; a failed one wrote nothing), in that order: each precedes
    the next. A transaction the order leaves out gives no fact."""
    t, k = inp.table, inp.keys
    w = t.writes[~k.intermediate[t.writes]]  # each txn's last write of each key
    tx = t.txn[w]
    keep = (rank[tx] >= 0) & (inp.tc.status[tx] != FAIL)
    w, tx = w[keep], tx[keep]
    key = t.key[w].astype(np.int64)
    o = np.lexsort((rank[tx], key))
    w, tx, key = w[o], tx[o], key[o]
    same = np.flatnonzero(key[1:] == key[:-1])
    earlier, later = t.vid[w[same]], t.vid[w[same + 1]]
    d = earlier != later
    same = same[d]
    return Facts(key[same], earlier[d], later[d], w[same], txns=(tx[same], tx[same + 1]))


def wfr_facts(inp: SourceInput) -> Facts:
    """Writes follow reads: a committed txn's first read of a key precedes each of its writes of it."""
    t, k = inp.table, inp.keys
    return Facts(t.key[k.wfr_write], t.vid[k.wfr_read], t.vid[k.wfr_write], k.wfr_write)


def sequential_facts(inp: SourceInput) -> Facts:
    """Per process and key, the last version one committed txn saw precedes the
    first the process's next committed txn on the key saw (ops without a
    process are left out)."""
    k, table, cols = inp.keys, inp.table, inp.tc.cols
    assert k.g_txn is not None and k.g_key is not None
    assert k.g_first is not None and k.g_last is not None
    proc = inp.tc.process[k.g_txn]
    no_process = np.array([p is None for p in cols.processes], bool)
    keep = np.flatnonzero(~no_process[proc]) if no_process.any() else np.arange(len(proc))
    s = proc[keep].astype(np.int64) * max(len(cols.keys), 1) + k.g_key[keep]
    order = np.argsort(s, kind="stable")  # groups are in txn order: so is each (process, key)
    s = s[order]
    same = np.flatnonzero(s[1:] == s[:-1])
    prev, cur = keep[order[same]], keep[order[same + 1]]
    earlier = table.vid[k.g_last[prev]]
    later = table.vid[k.g_first[cur]]
    d = earlier != later
    return Facts(k.g_key[cur][d], earlier[d], later[d], k.g_first[cur][d])


def _searchsorted(a: np.ndarray, q: np.ndarray, side: str) -> np.ndarray:
    """np.searchsorted(a, q, side) with the queries sorted first (many times faster)."""
    o = np.argsort(q, kind="stable")
    out = np.empty(len(q), np.int64)
    out[o] = np.searchsorted(a, q[o], side)  # type: ignore[call-overload]
    return out


def linearizable_facts(inp: SourceInput) -> Facts:
    """Per key, over the committed txns touching it: txn p's last version of the
    key precedes txn t's first when p is in the realtime frontier at t's
    invocation. p joins the frontier at its completion and leaves it at the
    first completion of a txn invoked after p completed, so t sees p exactly
    when comp(p) < inv(t) <= R(p), R(p) being the least completion of a txn
    invoked after comp(p)."""
    k, table, tc = inp.keys, inp.table, inp.tc
    assert k.g_txn is not None and k.g_key is not None
    assert k.g_first is not None and k.g_last is not None
    span = np.int64(tc.cols.n_ops + 1)
    key = k.g_key.astype(np.int64)
    o = np.argsort(key * span + tc.invoke_row[k.g_txn], kind="stable")
    key_s = key[o]
    inv = key_s * span + tc.invoke_row[k.g_txn[o]]  # sorted, unique
    comp = key_s * span + tc.complete_row[k.g_txn[o]]
    s = _searchsorted(inv, comp, "right")  # the first txn invoked after p completed
    seg_end = np.searchsorted(inv, (key_s + 1) * span, "left")
    sufmin = np.minimum.accumulate(comp[::-1])[::-1]
    within = s < seg_end
    first_comp = sufmin[np.minimum(s, len(s) - 1)] if len(s) else s
    e = seg_end.copy()
    e[within] = _searchsorted(inv, first_comp[within], "right")
    n = e - s
    p = np.repeat(np.arange(len(s)), n)
    ends = np.cumsum(n)
    t = s[p] + np.arange(len(p)) - np.repeat(ends - n, n)
    earlier = table.vid[k.g_last[o[p]]]
    later = table.vid[k.g_first[o[t]]]
    d = earlier != later
    fkey = key_s[p][d]
    # Ranked as Elle's loop met the keys: by the first committed txn touching each.
    first_txn = np.full(len(tc.cols.keys), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first_txn, key, k.g_txn)
    return Facts(fkey, earlier[d], later[d], first_txn[fkey], tie=_key_set_order(inp))


def _key_set_order(inp: SourceInput) -> Callable[[int, list[int]], list[int]]:
    """Orders keys first touched by the same txn as the per-op loop did: in the
    iteration order of the set of that txn's keys."""

    def tie(txn: int, kids: list[int]) -> list[int]:
        cols, table = inp.tc.cols, inp.table
        lo, hi = int(table.start[txn]), int(table.start[txn + 1])
        seen = {cols.keys[kid] for kid in table.key[lo:hi].tolist()}
        rank = {k: i for i, k in enumerate(seen)}
        return sorted(kids, key=lambda kid: rank[cols.keys[kid]])

    return tie
