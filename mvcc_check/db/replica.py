"""`--launch postgresql-replica`: a PostgreSQL primary and one hot standby fed by
streaming replication, both throwaway (see launch.py).

Read-write transactions go to the primary at the run's level; read-only ones to
the standby, as applications with read replicas do. A hot standby refuses
SERIALIZABLE ("cannot use serializable mode in a hot standby"), so they run at
REPEATABLE READ, the strongest it offers: a snapshot of what the standby has
replayed so far, which may be behind the primary.

`replica_lag`: "async" (the default: a commit returns once the primary has it;
the standby applies it a little later) or "remote-apply" (synchronous_commit =
remote_apply with the standby as the synchronous one: a commit returns only
once the standby has applied it, so a read that starts after a commit returned
sees it).
"""

from __future__ import annotations

import os
import time

from mvcc_check.db import procs
from mvcc_check.db.launch import (
    Launched,
    LaunchError,
    chown_tree,
    find_postgres,
    pg_initdb,
    pg_node,
    pg_version,
    run_as,
    server_user,
)

LAGS = ("async", "remote-apply")
STANDBY_NAME = "standby"


def _primary_settings(lag: str) -> dict:
    settings = {"wal_level": "replica", "max_wal_senders": "5", "wal_keep_size": "256MB"}
    if lag == "remote-apply":
        settings |= {
            "synchronous_standby_names": STANDBY_NAME,
            "synchronous_commit": "remote_apply",
        }
    return settings


def _wait_streaming(url: str, timeout: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT state FROM pg_stat_replication WHERE application_name = %s",
                (STANDBY_NAME,),
            ).fetchall()
        if rows and rows[0][0] == "streaming":
            return
        time.sleep(0.1)
    raise LaunchError("the standby did not start streaming from the primary")


def start_postgres_replica(
    base: str, wd: procs.Watchdog, replica_lag: str = "async", **_: object
) -> Launched:
    if replica_lag not in LAGS:
        raise LaunchError(
            f"unknown replica lag {replica_lag!r} (expected one of {', '.join(LAGS)})"
        )
    bindir = find_postgres()
    user = server_user("postgres")
    primary_data, standby_data = os.path.join(base, "primary"), os.path.join(base, "standby")
    chown_tree(base, user)
    pg_initdb(bindir, primary_data, user)
    primary = pg_node("primary", bindir, base, primary_data, wd, _primary_settings(replica_lag))
    primary.start()
    run_as(
        user,
        [f"{bindir}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "mvcc"]
        + ["-D", standby_data, "-X", "stream", "-R", "-c", "fast", "--no-sync"],
        "pg_basebackup",
    )
    conninfo = f"host=127.0.0.1 port={primary.port} user=mvcc application_name={STANDBY_NAME}"
    with open(os.path.join(standby_data, "postgresql.auto.conf"), "a") as f:
        f.write(f"primary_conninfo = '{conninfo}'\n")
    standby = pg_node("standby", bindir, base, standby_data, wd, {"hot_standby": "on"})
    standby.start()
    url = f"postgresql://mvcc@127.0.0.1:{primary.port}/postgres"
    _wait_streaming(url)
    lag_note = (
        "a commit returns once the standby has applied it (synchronous_commit = remote_apply)"
        if replica_lag == "remote-apply"
        else "asynchronous streaming: the standby applies a commit shortly after it returns"
    )
    return Launched(
        "postgresql-replica",
        url,
        pg_version(bindir),
        base,
        {"primary": primary, "standby": standby},
        read_url=f"postgresql://mvcc@127.0.0.1:{standby.port}/postgres",
        notes=[
            "read-write txns go to the primary; read-only txns to the hot standby at "
            "repeatable-read, the strongest a standby offers (it refuses serializable)",
            lag_note,
        ],
    )
