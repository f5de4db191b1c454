"""The `kill-connection` fault: the server itself ends one of our client connections.

Only connections the run opened are candidates (each client registers its server
connection id when it connects). One whose COMMIT is in flight is preferred (its
outcome is then unknown to the client: an `info` op); failing that, within the
time allowed, one inside a transaction.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from typing import Any

from mvcc_check.db.dialects import open_session
from mvcc_check.db.target import DbTarget


class Killer:
    """Kills through its own admin connection (straight to the server, never via the proxy)."""

    def __init__(self, target: DbTarget) -> None:
        self.target = target
        self.ours: dict[int, int] = {}  # process -> server connection id
        self.lock = threading.Lock()
        self.admin = None

    def register(self, process: int, session: Any) -> None:
        ident = session.backend_id()
        with self.lock:
            self.ours[process] = ident

    def _ours(self) -> list[int]:
        with self.lock:
            return sorted(set(self.ours.values()))

    def _kill_committing(self) -> int | None:
        """Kill one of ours whose COMMIT is running, in the same statement that finds it
        (a COMMIT takes microseconds: a second round trip would come too late)."""
        if self.target.kind == "postgresql":
            rows = self.admin.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid = ANY(%s) AND state = 'active' AND query = 'COMMIT' LIMIT 1",
                (self._ours(),),
            )
            return rows[0][0] if rows else None
        rows = self.admin.execute(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'COMMIT'"
        )
        ours = set(self._ours())
        victims = [r[0] for r in rows if r[0] in ours]
        if victims:
            self.kill(victims[0])
            return victims[0]
        return None

    def _in_transaction(self) -> list[int]:
        """Ours that are inside a transaction."""
        if self.target.kind == "postgresql":
            rows = self.admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND xact_start IS NOT NULL",
                (self._ours(),),
            )
        else:
            rows = self.admin.execute(
                "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX"
            )
        ours = set(self._ours())
        return sorted(r[0] for r in rows if r[0] in ours)

    def strike(self, rng: random.Random, halt: threading.Event, within: float) -> dict | None:
        """Kill one of our connections: one in COMMIT if one is seen within `within`
        seconds, else one inside a transaction. What was killed, or None (none found,
        or the run ended)."""
        if self.admin is None:
            self.admin = open_session(self.target)
        deadline = time.monotonic() + within
        while not halt.is_set():
            try:
                victim = self._kill_committing()
                if victim is not None:
                    return {"connection": victim, "during": "COMMIT"}
                if time.monotonic() > deadline:
                    cands = self._in_transaction()
                    if cands:
                        victim = rng.choice(cands)
                        self.kill(victim)
                        return {"connection": victim, "during": "transaction"}
            except Exception:  # noqa: BLE001 - the admin connection died (a crash): again
                time.sleep(0.1)
                with contextlib.suppress(Exception):
                    self.admin.reconnect()
            if time.monotonic() > deadline + 5:
                return None
            time.sleep(0.0005)
        return None

    def kill(self, ident: int) -> None:
        if self.target.kind == "postgresql":
            self.admin.execute("SELECT pg_terminate_backend(%s)", (ident,))
        else:
            import pymysql

            try:
                self.admin.execute(f"KILL CONNECTION {int(ident)}")
            except pymysql.err.OperationalError as exc:
                if exc.args[0] != 1094:  # unknown thread: it ended meanwhile
                    raise

    def close(self) -> None:
        if self.admin is not None:
            self.admin.close()
            self.admin = None
