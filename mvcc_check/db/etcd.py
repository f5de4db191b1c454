"""`--launch etcd`: a three-member etcd cluster (Debian's etcd-server) on loopback,
and the session that runs the workloads over etcd's v3 transaction API through
its JSON HTTP gateway (POST /v3/kv/txn; keys and values base64).

A transaction is one or two etcd transactions:

1. one read-only etcd txn that ranges over every key the transaction touches (one
   revision, so one consistent snapshot), with `serializable` set when the level
   is "serializable" (any member answers from its own state, possibly stale)
   rather than "linearizable" (the default: the leader confirms it is current);
2. when the transaction writes: one etcd txn that compares every touched key's
   mod_revision with what step 1 saw and, if none changed, puts the new values.
   A failed compare is `fail` (nothing was applied); a lost connection or a
   timeout in step 2 is `info` (the proposal may still commit), in step 1 `fail`.

Every member has a proxy in front of its peer port (the peer URL it advertises),
so `partition` can cut one member off from the other members' traffic to it
(their appends, votes and replies); its own messages to them still go out, and
its clients still reach it, as a client next to an isolated server would.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import os
import shutil
from pathlib import Path
from typing import Any

from mvcc_check.db import procs
from mvcc_check.db.dialects import FAIL, INFO, Session
from mvcc_check.db.launch import (
    Launched,
    LaunchError,
    Node,
    chown_tree,
    reserved_ports,
    server_user,
)
from mvcc_check.db.target import DbError

LEVELS = ("linearizable", "serializable")
MEMBERS = ("n1", "n2", "n3")
_next_member = itertools.count()


def find_etcd() -> str:
    path = shutil.which("etcd") or (
        "/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None
    )
    if path is None:
        raise LaunchError(
            "etcd server binary (etcd) not found; install the Debian package: "
            "apt-get install etcd-server"
        )
    return path


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _unb64(s: str) -> str:
    return base64.b64decode(s).decode()


class CompareFailed(Exception):
    """Step 2's compare failed: a touched key changed since step 1 (nothing applied)."""


class EtcdSession(Session):
    kind = "etcd"
    levels = LEVELS
    claimed_models = {
        # etcd docs, "API guarantees": linearizable reads, strictly serializable txns;
        # serializable reads may be stale
        "linearizable": "strict-serializable",
        "serializable": "serializable",
    }

    def connect(self) -> None:
        hosts = self.target.host.split(",")
        host, port = hosts[next(_next_member) % len(hosts)].rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=5)
        self.conn.connect()

    def call(self, path: str, body: dict) -> dict:
        self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        data = json.loads(resp.read() or b"{}")
        if resp.status != 200:
            raise EtcdError(resp.status, data.get("error") or data.get("message") or str(data))
        return data

    def backend_id(self) -> int:
        return id(self.conn)

    def begin(self, level: str) -> None:
        self.check_level(level)

    def server_version(self) -> str:
        self.conn.request("GET", "/version")
        v = json.loads(self.conn.getresponse().read())
        return f"etcd {v.get('etcdserver', '?')} (3 members)"

    def create_kv_table(self, table: str) -> None:
        self.drop_table(table)

    def drop_table(self, table: str) -> None:
        prefix = f"mvcc/{table}/"
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        self.call("/v3/kv/deleterange", {"key": _b64(prefix), "range_end": _b64(end)})

    def append_sql(self, table: str) -> str:
        return ""

    def write_sql(self, table: str) -> str:
        return ""

    def classify(self, exc: BaseException) -> str | None:
        if isinstance(exc, CompareFailed):
            return FAIL
        if isinstance(exc, EtcdError | OSError | http.client.HTTPException | ValueError):
            return INFO  # lost connection, timeout, leader change: outcome unknown
        return None

    def transact(self, table: str, level: str, workload: str, txn: list, state: dict) -> list:
        """Run one transaction (see the module's docstring); the micro-ops as completed."""
        self.check_level(level)
        state["commit-sent"] = False
        keys = sorted({k for _, k, _ in txn})
        ranges = [
            {
                "request_range": {
                    "key": _b64(f"mvcc/{table}/{k}"),
                    "serializable": level == "serializable",
                }
            }
            for k in keys
        ]
        seen = self.call("/v3/kv/txn", {"success": ranges})
        values: dict[int, Any] = {}
        revs: dict[int, str] = {}
        for k, r in zip(keys, seen.get("responses", []), strict=True):
            kvs = r["response_range"].get("kvs", [])
            raw = _unb64(kvs[0]["value"]) if kvs and "value" in kvs[0] else None
            revs[k] = kvs[0]["mod_revision"] if kvs else "0"
            values[k] = _parse(workload, raw)
        out, puts = [], {}
        for f, k, v in txn:
            if f == "r":
                cur = values[k]
                out.append(["r", k, list(cur) if isinstance(cur, list) else cur])
            else:
                values[k] = values[k] + [v] if workload == "list-append" else v
                puts[k] = values[k]
                out.append([f, k, v])
        if not puts:
            return out
        body = {
            "compare": [
                {
                    "key": _b64(f"mvcc/{table}/{k}"),
                    "target": "MOD",
                    "result": "EQUAL",
                    "mod_revision": revs[k],
                }
                for k in keys
            ],
            "success": [
                {
                    "request_put": {
                        "key": _b64(f"mvcc/{table}/{k}"),
                        "value": _b64(_dump(workload, v)),
                    }
                }
                for k, v in puts.items()
            ],
        }
        state["commit-sent"] = True
        if not self.call("/v3/kv/txn", body).get("succeeded"):
            raise CompareFailed()
        return out


class EtcdError(DbError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"etcd HTTP {status}: {message}")


def _parse(workload: str, raw: str | None) -> Any:
    if workload == "list-append":
        return [int(x) for x in raw.split(",")] if raw else []
    return None if raw is None else int(raw)


def _dump(workload: str, v: Any) -> str:
    return ",".join(map(str, v)) if workload == "list-append" else str(v)


# --- the cluster ------------------------------------------------------------------------------


def _ready(node: Node) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=2)
    try:
        conn.request("GET", "/health")
        if json.loads(conn.getresponse().read()).get("health") != "true":
            raise LaunchError("not healthy yet")
    finally:
        conn.close()


def leader_of(nodes: dict[str, Node]) -> str | None:
    """The name of the member that is the leader now (None when none answers)."""
    ids = {}
    leader = None
    for name, node in nodes.items():
        if node.paused or not node.alive():
            continue
        try:
            conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=1)
            conn.request("POST", "/v3/maintenance/status", "{}")
            st = json.loads(conn.getresponse().read())
            conn.close()
        except (OSError, ValueError, http.client.HTTPException):
            continue
        ids[st["header"]["member_id"]] = name
        leader = st.get("leader")
    return ids.get(leader)


def start_etcd(base: str, wd: procs.Watchdog, **_: object) -> Launched:
    from mvcc_check.db.proxy import Proxy

    etcd = find_etcd()
    user = server_user("etcd")
    with reserved_ports(2 * len(MEMBERS)) as free:  # no proxy may take a member's port
        ports = {m: (free[2 * i], free[2 * i + 1]) for i, m in enumerate(MEMBERS)}  # client, peer
        peer_proxies = {m: Proxy(("127.0.0.1", ports[m][1])) for m in MEMBERS}
    cluster = ",".join(f"{m}=http://127.0.0.1:{peer_proxies[m].port}" for m in MEMBERS)
    nodes = {}
    for m in MEMBERS:
        client, peer = ports[m]
        os.makedirs(os.path.join(base, m), mode=0o700, exist_ok=True)
        argv = [etcd, "--name", m, "--data-dir", os.path.join(base, m)]
        argv += ["--listen-client-urls", f"http://127.0.0.1:{client}"]
        argv += ["--advertise-client-urls", f"http://127.0.0.1:{client}"]
        argv += ["--listen-peer-urls", f"http://127.0.0.1:{peer}"]
        argv += ["--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_proxies[m].port}"]
        argv += ["--initial-cluster", cluster, "--initial-cluster-state", "new"]
        argv += ["--initial-cluster-token", os.path.basename(base)]
        argv += ["--heartbeat-interval", "50", "--election-timeout", "500"]
        log = Path(base, f"{m}.log")
        log.touch()
        nodes[m] = Node(m, argv, client, log, user, wd, _ready)
    chown_tree(base, user)
    for node in nodes.values():
        node.start(wait=False)  # a member is healthy only once a quorum is up
    for node in nodes.values():
        node.wait_ready()
    hosts = ",".join(f"127.0.0.1:{ports[m][0]}" for m in MEMBERS)
    return Launched(
        "etcd",
        f"etcd://{hosts}",
        f"etcd {_version(nodes['n1'].port)}",
        base,
        nodes,
        notes=[
            "3 members, clients spread over them; the levels are etcd's read options "
            "(linearizable claims strict-serializable, serializable claims serializable)"
        ],
        member_proxies={m: [peer_proxies[m]] for m in MEMBERS},
        leader=lambda: leader_of(nodes),
    )


def _version(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    conn.request("GET", "/version")
    return json.loads(conn.getresponse().read()).get("etcdserver", "?")
