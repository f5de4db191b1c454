"""`--stats`: where a check's time went, stage by stage, and the process's peak memory.

Kept out of the default output, which must be the same bytes on every run.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from mvcc_check.analysis.checker import stage_of


def peak_memory_bytes() -> int:
    """The peak resident memory of this process, or of its largest finished child (a
    check under limits runs in one), so far (Linux reports KiB, macOS bytes)."""
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return peak if sys.platform == "darwin" else peak * 1024


class StageClock:
    """Passes stage names on to `inner` and times each stage until the next one starts."""

    def __init__(self, inner: Callable[[str], None]) -> None:
        self.inner = inner
        self.seconds: dict[str, float] = {}
        self._current: str | None = None
        self._started = self._began = time.perf_counter()

    def stage(self, name: str) -> None:
        self._close()
        self._current = stage_of(name).value
        self.inner(name)

    def _close(self) -> None:
        now = time.perf_counter()
        if self._current is not None:
            self.seconds[self._current] = self.seconds.get(self._current, 0.0) + now - self._began
        self._began = now

    def stats(self) -> dict[str, Any]:
        """The figures for `stats`: seconds per stage and in total, and peak memory."""
        self._close()
        self._current = None
        seconds = {k: round(v, 3) for k, v in self.seconds.items()}
        seconds["total"] = round(time.perf_counter() - self._started, 3)
        return {"seconds": seconds, "peak-memory-bytes": peak_memory_bytes()}


def stats_line(figures: dict[str, Any]) -> str:
    """The figures in one line of text."""
    seconds = figures.get("seconds", {})
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items() if k != "total")
    total = seconds.get("total")
    mem = figures.get("peak-memory-bytes")
    head = f"  time: {total:.2f} s" if total is not None else "  time: -"
    tail = f"; peak memory {mem / 1e6:.0f} MB" if mem is not None else ""
    return f"{head} ({parts}){tail}"
