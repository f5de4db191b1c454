"""What a `test` run runs against: a database URL or a target launched for the run,
the proxy in front of it when partitions are asked for, the connection killer,
and a fresh seeded nemesis per run. `open_bed()` sets it up and tears it down.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mvcc_check.db.nemesis import FaultEnv, Nemesis
from mvcc_check.db.target import DbError, DbTarget, parse_db_url

# the session kind (dialects.SESSIONS) of each launchable target
SESSION_KIND = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgresql-replica": "postgresql",
    "mariadb": "mysql",
    "etcd": "etcd",
}
STANDBY_LEVEL = "repeatable-read"  # the strongest a PostgreSQL hot standby offers


@dataclass
class Bed:
    target: DbTarget  # where the run's table is made (straight to the server)
    client_target: DbTarget  # where clients connect (the proxy, when there is one)
    read_target: DbTarget | None = None  # a standby, for read-only transactions
    read_level: str | None = None
    launched: Any = None  # launch.Launched
    env: FaultEnv = field(default_factory=FaultEnv)
    faults: tuple[str, ...] = ()
    interval: float = 1.0
    notes: list[str] = field(default_factory=list)

    def nemesis(self, seed: int) -> Nemesis | None:
        return Nemesis(self.faults, self.interval, seed, self.env) if self.faults else None

    def run_kwargs(self, seed: int) -> dict:
        """The keyword arguments of runner.run_workload for one run."""
        return {
            "client_target": self.client_target,
            "read_target": self.read_target,
            "read_level": self.read_level,
            "nemesis": self.nemesis(seed),
        }


def session_class_for(db: str | None, launch: str | None, levels: tuple[str, ...]) -> type:
    """The session class of --db URL or --launch KIND (exactly one), checking that it
    offers every level."""
    from mvcc_check.db.dialects import session_class_of

    if bool(db) == bool(launch):
        raise DbError("give exactly one of --db URL and --launch KIND")
    cls = session_class_of(parse_db_url(db).kind if db else SESSION_KIND[launch])
    for level in levels:
        if level not in cls.levels:
            raise DbError(
                f"{cls.kind} does not offer isolation level {level!r} "
                f"(it offers {', '.join(cls.levels)})"
            )
    return cls


def describe(bed: Bed, keep: bool) -> list[str]:
    """What was launched, where, how to stop it when kept, and the target's notes."""
    lt = bed.launched
    if lt is None:
        return []
    where = ", ".join(f"{n} pid {node.pid} port {node.port}" for n, node in lt.nodes.items())
    fate = "left running (--keep)" if keep else "removed at exit"
    lines = [
        f"launched {lt.kind} ({lt.version}) in {lt.base}{': ' + where if where else ''}; {fate}"
    ]
    if keep and lt.nodes:
        pids = " ".join(str(node.pid) for node in lt.nodes.values())
        lines.append(f"  {lt.url}; stop it with: kill {pids}; rm -rf {lt.base}")
    return lines + [f"  note: {n}" for n in bed.notes]


def unavailable_faults(faults: tuple[str, ...], db: str | None, launch: str | None) -> str | None:
    """Why some of `faults` cannot be injected into this target (None: all can)."""
    kind = SESSION_KIND.get(launch or "") or (parse_db_url(db).kind if db else "")
    if faults and kind == "sqlite":
        return "SQLite runs inside the tool, not as a server: no fault can be injected into it"
    if kind == "etcd" and "kill-connection" in faults:
        return "kill-connection is for SQL servers; etcd offers pause, crash and partition"
    process = [f for f in faults if f in ("pause", "crash")]
    if process and not launch:
        return (
            f"{', '.join(process)} need a target the tool launches (--launch KIND): "
            "with --db URL only kill-connection and partition are available"
        )
    return None


@contextlib.contextmanager
def open_bed(
    db: str | None,
    launch: str | None,
    *,
    keep: bool = False,
    faults: tuple[str, ...] = (),
    interval: float = 1.0,
    **options: Any,
) -> Iterator[Bed]:
    why = unavailable_faults(faults, db, launch)
    if why:
        raise DbError(why)
    with contextlib.ExitStack() as stack:
        if launch:
            from mvcc_check.db.launch import launch as start

            launched = stack.enter_context(start(launch, keep=keep, **options))
            bed = Bed(parse_db_url(launched.url), parse_db_url(launched.url), launched=launched)
            bed.env.nodes = launched.nodes
            bed.env.leader = launched.leader
            bed.env.member_proxies = launched.member_proxies
            bed.notes = list(launched.notes)
            if launched.read_url:
                bed.read_target, bed.read_level = parse_db_url(launched.read_url), STANDBY_LEVEL
        else:
            target = parse_db_url(db)
            bed = Bed(target, target)
        bed.faults, bed.interval = faults, interval
        if "partition" in faults and not bed.env.member_proxies:
            from mvcc_check.db.proxy import Proxy, upstream_of, via_proxy

            proxy = Proxy(upstream_of(bed.target))
            stack.callback(proxy.close)
            bed.env.proxy = proxy
            bed.client_target = via_proxy(bed.target, proxy.port)
        if "kill-connection" in faults:
            from mvcc_check.db.killer import Killer

            killer = Killer(bed.target)
            stack.callback(killer.close)
            bed.env.killer = killer
        yield bed


def run_doc(run: Any, bed: Bed, history_file: str | None) -> dict:
    """The `run` section of `test`'s JSON result (runner.RunResult as plain data)."""
    st, spec = run.stats, run.spec
    doc = {
        "database": run.target_display,
        "server-version": run.server_version,
        "isolation": run.level,
        "workload": spec.workload,
        "txns": spec.txns,
        "clients": spec.clients,
        "keys": spec.keys,
        "seed": spec.seed,
        "committed": st.committed,
        "aborted": st.aborted,
        "indeterminate": st.indeterminate,
        "abort-causes": dict(st.abort_causes.most_common()),
        "seconds": round(st.elapsed_s, 3),
        "committed-per-second": round(st.committed_per_s, 1),
        "timed-out": st.timed_out,
        "history-file": history_file,
    }
    if bed.launched is not None:
        doc["launched"] = bed.launched.kind
    if bed.read_target is not None:
        doc["read-only-txns"] = {"target": bed.read_target.display, "isolation": bed.read_level}
    if run.faults is not None:
        doc["nemesis"] = run.faults
    return doc
