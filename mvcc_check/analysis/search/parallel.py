"""Run independent pieces of the search on both cores (a forked second process)."""

from __future__ import annotations

import os
import pickle

PARALLEL_MIN_EDGES = 50000  # below this, a second process costs more than it saves
CHILD_EXTRA = 0.1  # the child's work counts this much more: it pickles its results too


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
        load[side] += weights[i] * (1 + CHILD_EXTRA if side else 1)
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
