"""Throwaway database servers, for the tests and the benchmark: PostgreSQL and
MariaDB started in a temporary directory, listening on a free loopback port,
run as an unprivileged user when we are root. Never a shared system service;
everything is removed when the context manager exits.

`find_postgres()` / `find_mariadb()` return (None, reason) when the binaries
are missing; the test fixtures skip on that, or fail when CI=true.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    kind: str
    url: str  # what `mvcc-check test --db` takes
    version: str
    pid: int
    socket_dir: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unprivileged_user(preferred: str) -> str | None:
    """The user a server runs as: None when we are not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in (preferred, "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no unprivileged user to run the server as")


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", user, "--", *argv]


def _chown_tree(path: str, user: str | None) -> None:
    if user is None:
        return
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on port {port}:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: a fast, clean shutdown for both servers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --- PostgreSQL -----------------------------------------------------------------------


def find_postgres() -> tuple[str | None, str]:
    """(bin dir, reason): the newest Debian PostgreSQL, or one on PATH."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    for d in reversed(dirs):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d, ""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return os.path.dirname(initdb), ""
    return (
        None,
        "PostgreSQL server binaries (initdb, postgres) not found; apt-get install postgresql",
    )


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    bindir, why = find_postgres()
    if bindir is None:
        raise FileNotFoundError(why)
    user = _unprivileged_user("postgres")
    base = tempfile.mkdtemp(prefix="mvcc-pg-")
    os.chmod(base, 0o755)
    data, sock = os.path.join(base, "data"), os.path.join(base, "sock")
    os.makedirs(sock)
    log = Path(base, "server.log")
    log.touch()
    _chown_tree(base, user)
    port = _free_port()
    subprocess.run(
        _as_user(
            user,
            [
                f"{bindir}/initdb",
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "mvcc",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
        ),
        check=True,
        capture_output=True,
    )
    argv = [
        f"{bindir}/postgres",
        "-D",
        data,
        "-p",
        str(port),
        "-k",
        sock,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=100",
        "-c",
        "deadlock_timeout=200ms",
        "-c",
        "shared_buffers=64MB",
    ]
    with open(log, "ab") as out:
        proc = subprocess.Popen(_as_user(user, argv), stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, proc, log)
        version = subprocess.run(
            [f"{bindir}/postgres", "--version"], capture_output=True, text=True
        ).stdout.strip()
        url = f"postgresql://mvcc@127.0.0.1:{port}/postgres"
        # the port answers a moment before the server accepts logins
        deadline = time.monotonic() + 30
        import psycopg

        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Server("postgresql", url, version, proc.pid, sock)
    finally:
        _stop(proc)
        shutil.rmtree(base, ignore_errors=True)


# --- MariaDB --------------------------------------------------------------------------


def find_mariadb() -> tuple[str | None, str]:
    for name in ("mariadbd", "mysqld"):
        path = shutil.which(name) or (
            f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None
        )
        if path and (shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")):
            return path, ""
    return (
        None,
        "MariaDB server binaries (mariadbd, mariadb-install-db) not found; apt-get install mariadb-server",
    )


@contextlib.contextmanager
def mariadb_server() -> Iterator[Server]:
    mariadbd, why = find_mariadb()
    if mariadbd is None:
        raise FileNotFoundError(why)
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    user = _unprivileged_user("mysql")
    base = tempfile.mkdtemp(prefix="mvcc-maria-")
    os.chmod(base, 0o755)
    data = os.path.join(base, "data")
    sock = os.path.join(base, "mysqld.sock")
    log = Path(base, "server.log")
    log.touch()
    os.makedirs(data)
    _chown_tree(base, user)
    port = _free_port()
    user_args = [f"--user={user}"] if user else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            *user_args,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        check=True,
        capture_output=True,
    )
    argv = [
        mariadbd,
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={sock}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--pid-file={base}/mariadbd.pid",
        f"--log-error={log}",
        "--skip-name-resolve",
        "--innodb-flush-log-at-trx-commit=0",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        "--max-connections=100",
        *user_args,
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc, log)
        import pymysql

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS mvcc")
            cur.execute("SELECT VERSION()")
            version = "MariaDB " + cur.fetchone()[0]
        conn.close()
        yield Server("mysql", f"mysql://root@127.0.0.1:{port}/mvcc", version, proc.pid, sock)
    finally:
        _stop(proc)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":  # manual smoke test: python -m mvcc_check.db.servers
    for factory in (postgres_server, mariadb_server):
        with factory() as srv:
            print(srv)
