"""Throwaway targets for `mvcc-check test --launch KIND`, the tests and the benchmark.

Each target lives in its own temporary directory, listens on free loopback
ports, runs as an unprivileged user when we are root (postgres, mysql, else
nobody), and is removed when the context manager exits: also on Ctrl-C or
SIGTERM (the context exits) and when the tool is killed or crashes (a watchdog
process outlives it and cleans up, see watchdog.py). `keep=True` leaves the
servers running and the directory in place (the watchdog is told so).

Durability: commits reach the OS at COMMIT (PostgreSQL fsync and
synchronous_commit on, as in production, which also gives COMMIT a real duration
for faults to land in; InnoDB flush_log_at_trx_commit=2), so a killed server
(the `crash` fault) loses no acknowledged transaction.

Kinds: sqlite, postgresql, mariadb, postgresql-replica (replica.py), etcd (etcd.py).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mvcc_check.db import procs
from mvcc_check.db.target import DbError

KINDS = ("sqlite", "postgresql", "mariadb", "postgresql-replica", "etcd")
PACKAGES = {"postgresql": "postgresql", "mariadb": "mariadb-server", "etcd": "etcd-server"}


class LaunchError(DbError):
    """A target cannot be launched (a missing binary: names the Debian package)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def reserved_ports(count: int) -> Iterator[list[int]]:
    """`count` distinct free loopback ports, held (bound) until the block ends, so that
    nothing started inside the block (a proxy on port 0, say) can take one of them;
    the servers that listen on them start after the block."""
    held = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            held.append(s)
        yield [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def server_user(preferred: str) -> pwd.struct_passwd | None:
    """The user servers run as: None when we are not root (they run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in (preferred, "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise LaunchError("running as root and no unprivileged user to run the server as")


def chown_tree(path: str, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)


def as_user(user: pwd.struct_passwd | None) -> dict:
    """Popen arguments that run the child as `user` (no wrapper process in between)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def run_as(user: pwd.struct_passwd | None, argv: list[str], what: str) -> None:
    res = subprocess.run(argv, capture_output=True, text=True, **as_user(user))
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise LaunchError(f"{what} failed (exit {res.returncode}): {tail[0]}")


@dataclass
class Node:
    """One server process, started in its own session, with every process of it
    (the main process and all its descendants) paused, resumed or killed as one."""

    name: str
    argv: list[str]
    port: int
    log: Path
    user: pwd.struct_passwd | None
    watchdog: procs.Watchdog
    ready: Callable[[Node], None] = field(repr=False)
    proc: subprocess.Popen | None = field(default=None, repr=False)
    paused: bool = False
    stop_signal: int = signal.SIGTERM  # PostgreSQL: SIGINT, its fast shutdown

    def start(self, timeout: float = 60.0, wait: bool = True) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C at the terminal is the tool's, not the server's
                **as_user(self.user),
            )
        self.watchdog.track_pid(self.proc.pid)
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise LaunchError(
                    f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}"
                )
            try:
                self.ready(self)
                return
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise LaunchError(f"{self.name} did not come up: {self.log_tail()}") from None
                time.sleep(0.1)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log.read_text(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:])
        return "(no log)"

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else -1

    def pids(self) -> list[int]:
        return procs.tree(self.pid) if self.alive() else []

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> list[int]:
        self.paused = True
        return procs.signal_tree(self.pid, signal.SIGSTOP)

    def resume(self) -> list[int]:
        self.paused = False
        return procs.signal_tree(self.pid, signal.SIGCONT)

    def crash(self) -> None:
        """SIGKILL every process of the server at once (no shutdown of any kind)."""
        procs.kill_tree(self.pid)
        self.proc.wait(10)
        self.paused = False

    def stop(self) -> None:
        """A clean shutdown (`stop_signal`), SIGKILL of the whole tree if it does not end."""
        if not self.alive():
            return
        if self.paused:
            self.resume()
        self.proc.send_signal(self.stop_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)
        if self.proc.poll() is None:
            procs.kill_tree(self.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)


@dataclass
class Launched:
    """A running target: the URL its clients use, and its nodes for the nemesis."""

    kind: str
    url: str  # what `--db` would take (the primary, for a replicated target)
    version: str
    base: str
    nodes: dict[str, Node]
    read_url: str | None = None  # where read-only transactions go (a standby)
    notes: list[str] = field(default_factory=list)
    member_proxies: dict = field(default_factory=dict)  # a cluster: name -> [proxy.Proxy]
    leader: Callable[[], str | None] | None = None  # a cluster: the leader's name now

    def close(self) -> None:
        for node in reversed(list(self.nodes.values())):
            node.stop()
        for proxies in self.member_proxies.values():
            for p in proxies:
                p.close()


# --- finding binaries ---------------------------------------------------------------------


def _missing(kind: str, what: str) -> LaunchError:
    return LaunchError(
        f"{what} not found; install the Debian package: apt-get install {PACKAGES[kind]}"
    )


def find_postgres() -> str:
    """The bin directory of the newest Debian PostgreSQL, or of one on PATH."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    for d in reversed(dirs):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return os.path.dirname(initdb)
    raise _missing("postgresql", "PostgreSQL server binaries (initdb, postgres)")


def find_mariadb() -> tuple[str, str]:
    """(server binary, install-db script)."""
    for name in ("mariadbd", "mysqld"):
        path = shutil.which(name) or (
            f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None
        )
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if path and install:
            return path, install
    raise _missing("mariadb", "MariaDB server binaries (mariadbd, mariadb-install-db)")


def check_binaries(kind: str) -> None:
    """Raise LaunchError (naming the Debian package) when `kind` cannot be launched here."""
    if kind in ("postgresql", "postgresql-replica"):
        find_postgres()
    elif kind == "mariadb":
        find_mariadb()
    elif kind == "etcd":
        from mvcc_check.db.etcd import find_etcd

        find_etcd()
    elif kind != "sqlite":
        raise LaunchError(f"unknown target {kind!r} (expected one of {', '.join(KINDS)})")


# --- PostgreSQL -----------------------------------------------------------------------------

PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",
    "synchronous_commit": "on",  # WAL is flushed at COMMIT: a killed server loses nothing
    "full_page_writes": "on",
    "max_connections": "100",
    "deadlock_timeout": "200ms",
    "shared_buffers": "64MB",
}


def pg_ready(node: Node) -> None:
    import psycopg

    psycopg.connect(f"postgresql://mvcc@127.0.0.1:{node.port}/postgres", connect_timeout=2).close()


def pg_initdb(bindir: str, data: str, user) -> None:
    argv = [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "mvcc", "-E", "UTF8"]
    run_as(user, [*argv, "--no-sync", "--locale=C"], "initdb")


def pg_node(name: str, bindir: str, base: str, data: str, wd, settings: dict) -> Node:
    user = server_user("postgres")
    sock = os.path.join(base, f"{name}-sock")
    os.makedirs(sock, exist_ok=True)
    log = Path(base, f"{name}.log")
    log.touch()
    chown_tree(base, user)
    port = free_port()
    argv = [f"{bindir}/postgres", "-D", data, "-p", str(port), "-k", sock]
    for k, v in {**PG_SETTINGS, **settings}.items():
        argv += ["-c", f"{k}={v}"]
    return Node(name, argv, port, log, user, wd, pg_ready, stop_signal=signal.SIGINT)


def pg_version(bindir: str) -> str:
    out = subprocess.run([f"{bindir}/postgres", "--version"], capture_output=True, text=True)
    return out.stdout.strip().replace("postgres (PostgreSQL)", "PostgreSQL")


def start_postgres(base: str, wd: procs.Watchdog, **_: object) -> Launched:
    bindir = find_postgres()
    data = os.path.join(base, "data")
    chown_tree(base, server_user("postgres"))
    pg_initdb(bindir, data, server_user("postgres"))
    node = pg_node("postgresql", bindir, base, data, wd, {})
    node.start()
    url = f"postgresql://mvcc@127.0.0.1:{node.port}/postgres"
    return Launched("postgresql", url, pg_version(bindir), base, {"postgresql": node})


# --- MariaDB --------------------------------------------------------------------------------


def maria_ready(node: Node) -> None:
    import pymysql

    pymysql.connect(host="127.0.0.1", port=node.port, user="root", connect_timeout=2).close()


def start_mariadb(base: str, wd: procs.Watchdog, **_: object) -> Launched:
    mariadbd, install = find_mariadb()
    user = server_user("mysql")
    data, sock = os.path.join(base, "data"), os.path.join(base, "mysqld.sock")
    log = Path(base, "mariadb.log")
    log.touch()
    os.makedirs(data)
    chown_tree(base, user)
    user_args = [f"--user={user.pw_name}"] if user else []
    run_as(
        None,
        [install, "--no-defaults", f"--datadir={data}", *user_args]
        + ["--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
        "mariadb-install-db",
    )
    port = free_port()
    argv = [mariadbd, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}"]
    argv += [
        "--bind-address=127.0.0.1",
        f"--pid-file={base}/mariadbd.pid",
        f"--log-error={log}",
        "--skip-name-resolve",
        "--innodb-flush-log-at-trx-commit=2",  # written to the OS at commit: survives a kill
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        "--max-connections=100",
    ]
    node = Node("mariadb", argv, port, log, user, wd, maria_ready)
    node.start()
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS mvcc")
        cur.execute("SELECT VERSION()")
        version = "MariaDB " + cur.fetchone()[0]
    conn.close()
    return Launched(
        "mariadb", f"mysql://root@127.0.0.1:{port}/mvcc", version, base, {"mariadb": node}
    )


# --- SQLite ---------------------------------------------------------------------------------


def start_sqlite(base: str, wd: procs.Watchdog, **_: object) -> Launched:
    import sqlite3

    path = os.path.join(base, "mvcc.db")
    return Launched("sqlite", f"sqlite:///{path}", f"SQLite {sqlite3.sqlite_version}", base, {})


def _parent_dir() -> str:
    """The temp directory, unless we are root and the server's user could not reach it
    (a private TMPDIR): then /tmp."""
    d = tempfile.gettempdir()
    if os.geteuid() != 0:
        return d
    path = os.path.abspath(d)
    while path != "/":
        if not os.stat(path).st_mode & 0o001:
            return "/tmp"
        path = os.path.dirname(path)
    return d


def _starter(kind: str) -> Callable[..., Launched]:
    if kind == "postgresql-replica":
        from mvcc_check.db.replica import start_postgres_replica

        return start_postgres_replica
    if kind == "etcd":
        from mvcc_check.db.etcd import start_etcd

        return start_etcd
    return {"sqlite": start_sqlite, "postgresql": start_postgres, "mariadb": start_mariadb}[kind]


@contextlib.contextmanager
def launch(kind: str, *, keep: bool = False, **options: object) -> Iterator[Launched]:
    """Start a throwaway `kind` target; stop it and remove its directory on exit
    (`keep`: leave it running). Options go to the kind's starter (e.g. replica_lag)."""
    check_binaries(kind)
    base = tempfile.mkdtemp(prefix=f"mvcc-{kind}-", dir=_parent_dir())
    os.chmod(base, 0o755)
    wd = procs.Watchdog(os.path.join(base, "watchdog.json"))
    wd.track_dir(base)
    launched: Launched | None = None
    try:
        launched = _starter(kind)(base, wd, **options)
        yield launched
    finally:
        if keep and launched is not None:
            wd.keep()
        else:
            if launched is not None:
                launched.close()
            from mvcc_check.db.watchdog import clean

            clean(wd.state)  # anything started before the failure, then the directory
        wd.close()
