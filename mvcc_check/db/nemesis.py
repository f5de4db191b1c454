"""Fault injection during a `test` run (Jepsen's nemesis), one fault at a time.

Faults take turns in the order given. Before each, a seeded random gap (uniform
in [0, interval]); each lasts a random time (uniform in [0.25, 0.75] x interval)
and is healed before the next starts, so the mean spacing of starts is `interval`:

- `kill-connection`: the server ends one of our client connections
  (`pg_terminate_backend`, `KILL CONNECTION`), preferring one whose COMMIT is in
  flight, else one inside a transaction;
- `pause`: SIGSTOP every process of the server (or of one node), later SIGCONT;
- `crash`: SIGKILL every process of the server (or of one node); restarted on
  the same data after the fault's duration;
- `partition`: the proxy in front of the server blackholes, resets or delays
  (chosen at random) traffic (see proxy.py).

Each fault is recorded as two Jepsen nemesis ops, `{"type": "info", "process":
"nemesis", "f": FAULT, "value": {"phase": "start", ...}}` and the same with
`"phase": "end"` once healed, so the history says when it lasted. `summary()`
counts, per fault, how many were injected and how many transactions failed or
went info while one lasted.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mvcc_check.db.target import DbError

FAULTS = ("kill-connection", "pause", "crash", "partition")
PROCESS_FAULTS = ("pause", "crash")


def parse_faults(spec: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    for n in names:
        if n not in FAULTS:
            raise DbError(f"unknown fault {n!r} (expected some of {', '.join(FAULTS)})")
    if not names:
        raise DbError("--nemesis needs at least one fault")
    return names


@dataclass
class FaultEnv:
    """What the faults act on: the launched nodes, the proxy, the connection killer."""

    nodes: dict[str, Any] = field(default_factory=dict)  # name -> launch.Node
    proxy: Any = None  # proxy.Proxy
    killer: Any = None  # killer.Killer
    leader: Callable[[], str | None] | None = None  # for a cluster: the leader's node name
    member_proxies: dict = field(default_factory=dict)  # for a cluster: name -> [Proxy]


class Nemesis(threading.Thread):
    def __init__(self, faults: tuple[str, ...], interval: float, seed: int, env: FaultEnv):
        super().__init__(name="mvcc-nemesis", daemon=True)
        self.faults, self.interval, self.env = faults, interval, env
        self.rng = random.Random(f"nemesis-{seed}")
        self.halt = threading.Event()
        self.record: Callable[[str, dict], None] = lambda f, value: None
        self.errors: list[str] = []

    def on_session(self, process: int, session: Any) -> None:
        if self.env.killer is not None:
            self.env.killer.register(process, session)

    def stop(self) -> None:
        """Heal the fault in effect (if any) and end; idempotent."""
        self.halt.set()
        if self.is_alive():
            self.join(120)

    def run(self) -> None:
        i = 0
        while not self.halt.wait(self.rng.uniform(0, self.interval)):
            fault = self.faults[i % len(self.faults)]
            i += 1
            try:
                getattr(self, "_" + fault.replace("-", "_"))(fault)
            except Exception as exc:  # noqa: BLE001 - reported with the run
                self.errors.append(f"nemesis {fault}: {type(exc).__name__}: {exc}")
                self.halt.set()

    def _hold(self) -> float:
        """Wait the fault's duration (cut short when the run ends); the time waited."""
        t0 = time.monotonic()
        self.halt.wait(self.rng.uniform(0.25, 0.75) * self.interval)
        return round(time.monotonic() - t0, 3)

    def _node(self) -> str:
        names = sorted(self.env.nodes)
        if self.env.leader is not None and self.rng.random() < 0.5:
            leader = self.env.leader()
            if leader in self.env.nodes:
                return leader
        return self.rng.choice(names)

    def _kill_connection(self, f: str) -> None:
        self.record(f, {"phase": "start"})
        killed = self.env.killer.strike(self.rng, self.halt, min(0.2, self.interval / 4))
        time.sleep(0.05)  # the victim sees its error at once; let it record it
        self.record(f, {"phase": "end", **(killed or {"connection": None})})

    def _pause(self, f: str) -> None:
        name = self._node()
        node = self.env.nodes[name]
        self.record(f, {"phase": "start", "node": name})
        pids = node.pause()
        try:
            held = self._hold()
        finally:
            node.resume()
        self.record(f, {"phase": "end", "node": name, "processes": len(pids), "seconds": held})

    def _crash(self, f: str) -> None:
        name = self._node()
        node = self.env.nodes[name]
        self.record(f, {"phase": "start", "node": name})
        node.crash()
        held = self._hold()
        t0 = time.monotonic()
        node.start()
        up = round(time.monotonic() - t0, 3)
        self.record(f, {"phase": "end", "node": name, "down-seconds": held, "restart-seconds": up})

    def _partition(self, f: str) -> None:
        """Cut the clients off from the server; for a cluster, one member off from the
        other members' traffic to it (etcd.py)."""
        mode = self.rng.choice(("blackhole", "reset", "delay"))
        where: dict = {"mode": mode}
        proxies = [self.env.proxy]
        if self.env.member_proxies:
            where["node"] = self._node()
            proxies = self.env.member_proxies[where["node"]]
        self.record(f, {"phase": "start", **where})
        for p in proxies:
            p.partition(mode)
        try:
            held = self._hold()
        finally:
            for p in proxies:
                p.heal()
        self.record(f, {"phase": "end", **where, "seconds": held})


def summary(ops: list[dict], faults: tuple[str, ...], interval: float) -> dict:
    """Per fault: how many were injected, for how long in all, and the transactions
    that failed or went info while one lasted (completion time between start and end)."""
    per = {f: {"injected": 0, "seconds": 0.0, "fail": 0, "info": 0} for f in faults}
    windows: list[tuple[int, int, str]] = []
    open_at: dict[str, int] = {}
    for op in ops:
        if op["process"] != "nemesis":
            continue
        phase = op["value"].get("phase")
        if phase == "start":
            open_at[op["f"]] = op["time"]
        elif phase == "end" and op["f"] in open_at:
            start = open_at.pop(op["f"])
            if op["value"].get("connection", 0) is None:
                continue  # kill-connection found no connection of ours to kill
            windows.append((start, op["time"], op["f"]))
            per[op["f"]]["injected"] += 1
            per[op["f"]]["seconds"] += (op["time"] - start) / 1e9
    for op in ops:
        if op["process"] == "nemesis" or op["type"] not in ("fail", "info"):
            continue
        for start, end, f in windows:
            if start <= op["time"] <= end:
                per[f][op["type"]] += 1
                break
    for v in per.values():
        v["seconds"] = round(v["seconds"], 3)
    infos = sum(1 for op in ops if op["type"] == "info" and op["process"] != "nemesis")
    return {
        "faults": list(faults),
        "interval-seconds": interval,
        "info-txns": infos,
        "per-fault": per,
    }


def describe_summary(s: dict) -> str:
    """One line: each fault, how often, and what it did to the transactions."""
    parts = [
        f"{f} x{v['injected']} ({v['fail']} failed, {v['info']} info while it lasted)"
        for f, v in s["per-fault"].items()
    ]
    return f"faults, one every ~{s['interval-seconds']:g} s: " + "; ".join(parts)
