"""One adapter per database: how to connect, begin a transaction at an isolation
level (the database's own way), run statements, and classify errors.

Error classification is what decides an op's type in the history:

- `FAIL`: the database told us the transaction did not commit (serialization
  failure, deadlock, lock wait timeout, SQLite BUSY...). We roll back.
- `INFO`: we do not know whether it committed (the connection was lost, the
  server went away, a timeout during COMMIT). Never dropped, never guessed.
- anything else is a bug or a usage error and propagates.

Drivers are imported lazily so that SQLite needs nothing installed.
"""

from __future__ import annotations

import contextlib
import sqlite3
from abc import ABC, abstractmethod
from typing import Any

from mvcc_check.db.target import LEVELS, DbError, DbTarget

FAIL = "fail"
INFO = "info"

_SQL_LEVEL = {
    "read-uncommitted": "READ UNCOMMITTED",
    "read-committed": "READ COMMITTED",
    "repeatable-read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class Session(ABC):
    """One connection, used by one thread. Statements use `%s` placeholders."""

    kind = ""
    levels: tuple[str, ...] = LEVELS
    hermitage_levels: tuple[str, ...] = ("serializable",)  # what `hermitage` runs by default
    observer_level = "read-committed"  # Hermitage's setup and final read
    # the model each level is documented to give, for `test`'s default --model
    claimed_models: dict[str, str] = {}

    def __init__(self, target: DbTarget, *, lock_timeout_s: float = 10.0) -> None:
        self.target = target
        self.lock_timeout_s = lock_timeout_s
        self.conn: Any = None
        self.connect()

    # -- connection ------------------------------------------------------------------
    @abstractmethod
    def connect(self) -> None: ...

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.conn.close()
            self.conn = None

    def reconnect(self) -> None:
        self.close()
        self.connect()

    @abstractmethod
    def backend_id(self) -> int:
        """The server's id of this connection (to terminate it in tests)."""
        ...

    # -- transactions ----------------------------------------------------------------
    def check_level(self, level: str) -> None:
        if level not in self.levels:
            raise DbError(
                f"{self.kind} does not offer isolation level {level!r} "
                f"(it offers {', '.join(self.levels)})"
            )

    @abstractmethod
    def begin(self, level: str) -> None: ...

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back, quietly: after an error the transaction may be gone already."""
        with contextlib.suppress(Exception):
            self.execute("ROLLBACK")

    @abstractmethod
    def classify(self, exc: BaseException) -> str | None:
        """FAIL, INFO or None (not a transaction outcome: let it propagate)."""
        ...

    def is_connection_error(self, exc: BaseException) -> bool:
        return self.classify(exc) == INFO

    # -- the key-value tables the workloads use ----------------------------------------
    def create_kv_table(self, table: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {table}")
        self.execute(f"CREATE TABLE {table} (k BIGINT PRIMARY KEY, v TEXT)")

    def drop_table(self, table: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {table}")

    @abstractmethod
    def append_sql(self, table: str) -> str: ...

    @abstractmethod
    def write_sql(self, table: str) -> str: ...

    def read(self, table: str, key: int) -> str | None:
        rows = self.execute(f"SELECT v FROM {table} WHERE k = %s", (key,))
        return rows[0][0] if rows else None

    @abstractmethod
    def server_version(self) -> str: ...

    # -- Hermitage's table: (id, value, hist, w); hist lists every value written ----------
    update_returning = True  # UPDATE ... RETURNING (PostgreSQL, SQLite 3.35+)

    def hist_append(self, expr: str) -> str:
        """SQL for `hist` with the text of `expr` appended after a comma."""
        return f"hist || ',' || CAST({expr} AS TEXT)"

    def hermitage_update_sql(self, table: str, new_value: str, where: str) -> str:
        """UPDATE setting value to `new_value` where `where`, appending it to hist and
        tagging the row with the writing step (`w`). hist is assigned first: MySQL
        evaluates assignments left to right, the others on the old row."""
        sql = (
            f"UPDATE {table} SET hist = {self.hist_append(new_value)}, value = {new_value}, "
            f"w = %s WHERE {where}"
        )
        return sql + " RETURNING id, value" if self.update_returning else sql

    def hermitage_delete_sql(self, table: str, where: str) -> str:
        """DELETE where `where`, returning each row's id and hist (PostgreSQL, SQLite
        3.35+, MariaDB 10.0.5+; MySQL has no DELETE ... RETURNING)."""
        return f"DELETE FROM {table} WHERE {where} RETURNING id, hist"


class SqliteSession(Session):
    kind = "sqlite"
    levels = ("serializable",)
    observer_level = "serializable"  # the one level SQLite has
    claimed_models = {"serializable": "serializable"}

    def connect(self) -> None:
        # autocommit mode (isolation_level=None): we issue BEGIN/COMMIT ourselves.
        try:
            self.conn = sqlite3.connect(
                self.target.path,
                timeout=self.lock_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise DbError(f"cannot open {self.target.display}: {exc}") from None
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def backend_id(self) -> int:
        return id(self.conn)

    def begin(self, level: str) -> None:
        self.check_level(level)
        # SQLite's transactions are serializable; DEFERRED is its default kind.
        self.execute("BEGIN DEFERRED")

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        cur = self.conn.execute(sql.replace("%s", "?"), params)
        try:
            return cur.fetchall()
        finally:
            cur.close()

    def classify(self, exc: BaseException) -> str | None:
        if isinstance(exc, sqlite3.OperationalError):
            msg = str(exc).lower()
            if "locked" in msg or "busy" in msg:
                return FAIL  # SQLITE_BUSY / SQLITE_LOCKED: the transaction did not commit
        return None

    def append_sql(self, table: str) -> str:
        return (
            f"INSERT INTO {table} (k, v) VALUES (%s, %s) "
            f"ON CONFLICT (k) DO UPDATE SET v = {table}.v || ',' || excluded.v"
        )

    def write_sql(self, table: str) -> str:
        return (
            f"INSERT INTO {table} (k, v) VALUES (%s, %s) "
            "ON CONFLICT (k) DO UPDATE SET v = excluded.v"
        )

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"


class PostgresSession(Session):
    kind = "postgresql"
    # PostgreSQL's READ UNCOMMITTED is its READ COMMITTED
    hermitage_levels = ("read-committed", "repeatable-read", "serializable")
    claimed_models = {
        # PostgreSQL docs, "Transaction Isolation" (13.2): READ UNCOMMITTED behaves
        # as READ COMMITTED; REPEATABLE READ is snapshot isolation; SERIALIZABLE is SSI.
        "read-uncommitted": "read-committed",
        "read-committed": "read-committed",
        "repeatable-read": "snapshot-isolation",
        "serializable": "serializable",
    }

    def connect(self) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover
            raise DbError(
                "PostgreSQL needs the psycopg package (pip install 'psycopg[binary]')"
            ) from exc
        try:
            # keepalives: a server or network that goes silent mid-transaction ends the
            # wait with a connection error (-> info) instead of hanging the client
            self.conn = psycopg.connect(
                self.target.url,
                autocommit=True,
                connect_timeout=10,
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
                tcp_user_timeout=60000,
            )
        except psycopg.OperationalError as exc:
            raise DbError(f"cannot connect to {self.target.display}: {_first_line(exc)}") from None
        ms = int(self.lock_timeout_s * 1000)
        self.execute(f"SET lock_timeout = {ms}")
        self.execute("SET client_min_messages = warning")

    def backend_id(self) -> int:
        return int(self.execute("SELECT pg_backend_pid()")[0][0])

    def begin(self, level: str) -> None:
        self.check_level(level)
        self.execute(f"BEGIN ISOLATION LEVEL {_SQL_LEVEL[level]}")

    def classify(self, exc: BaseException) -> str | None:
        import psycopg

        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate in ("40001", "40P01", "55P03"):  # serialization, deadlock, lock timeout
            return FAIL
        if isinstance(exc, psycopg.OperationalError) or (
            isinstance(exc, psycopg.Error) and self.conn is not None and self.conn.closed
        ):
            return INFO  # admin shutdown (57P01), lost connection: outcome unknown
        if isinstance(exc, psycopg.InterfaceError):
            return INFO
        return None

    def append_sql(self, table: str) -> str:
        return (
            f"INSERT INTO {table} AS t (k, v) VALUES (%s, %s) "
            "ON CONFLICT (k) DO UPDATE SET v = t.v || ',' || EXCLUDED.v"
        )

    def write_sql(self, table: str) -> str:
        return (
            f"INSERT INTO {table} AS t (k, v) VALUES (%s, %s) "
            "ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
        )

    def server_version(self) -> str:
        return "PostgreSQL " + self.execute("SHOW server_version")[0][0]


class MysqlSession(Session):
    kind = "mysql"
    hermitage_levels = LEVELS
    claimed_models = {
        "read-uncommitted": "read-uncommitted",
        "read-committed": "read-committed",
        # InnoDB's REPEATABLE READ reads from a snapshot but its UPDATEs and locking
        # reads act on the latest committed version (MariaDB docs, "SET TRANSACTION"
        # and "InnoDB lock modes"): that permits lost updates (P4), so neither
        # snapshot isolation nor Adya's PL-2.99 is promised. We claim what it does.
        "repeatable-read": "read-committed",
        "serializable": "serializable",
    }

    def connect(self) -> None:
        try:
            import pymysql
        except ImportError as exc:  # pragma: no cover
            raise DbError("MariaDB/MySQL needs the PyMySQL package (pip install PyMySQL)") from exc
        import os

        t = self.target
        try:
            self.conn = pymysql.connect(
                host=t.host,
                port=t.port or 3306,
                user=t.user or os.environ.get("USER", "root"),
                password=t.password if t.password is not None else os.environ.get("MYSQL_PWD", ""),
                database=t.database,
                autocommit=True,
                connect_timeout=10,
                read_timeout=max(30, int(self.lock_timeout_s * 3)),
                write_timeout=30,
            )
        except pymysql.err.OperationalError as exc:
            raise DbError(f"cannot connect to {t.display}: {exc.args[-1]}") from None
        self.execute(f"SET SESSION innodb_lock_wait_timeout = {max(1, int(self.lock_timeout_s))}")

    def backend_id(self) -> int:
        return int(self.execute("SELECT CONNECTION_ID()")[0][0])

    def begin(self, level: str) -> None:
        self.check_level(level)
        # Applies to the next transaction only, then START TRANSACTION.
        self.execute(f"SET TRANSACTION ISOLATION LEVEL {_SQL_LEVEL[level]}")
        self.execute("START TRANSACTION")

    def classify(self, exc: BaseException) -> str | None:
        import pymysql

        code = exc.args[0] if getattr(exc, "args", None) else None
        if isinstance(exc, pymysql.err.MySQLError) and code in (1213, 1020, 1205):
            return FAIL  # deadlock, record changed (snapshot isolation), lock wait timeout
        if isinstance(exc, pymysql.err.OperationalError) and code in (2006, 2013, 2014, 1927, 2003):
            return INFO  # server gone / lost connection / killed
        if isinstance(exc, pymysql.err.InterfaceError | ConnectionError | TimeoutError):
            return INFO
        return None

    def append_sql(self, table: str) -> str:
        return (
            f"INSERT INTO {table} (k, v) VALUES (%s, %s) "
            "ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v))"
        )

    def write_sql(self, table: str) -> str:
        return f"INSERT INTO {table} (k, v) VALUES (%s, %s) ON DUPLICATE KEY UPDATE v = VALUES(v)"

    update_returning = False  # MariaDB: RETURNING on INSERT and DELETE only

    def hist_append(self, expr: str) -> str:
        return f"CONCAT(hist, ',', {expr})"

    def server_version(self) -> str:
        v = self.execute("SELECT VERSION()")[0][0]
        return v if "mariadb" in v.lower() else f"MySQL {v}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


SESSIONS: dict[str, type[Session]] = {
    "sqlite": SqliteSession,
    "postgresql": PostgresSession,
    "mysql": MysqlSession,
}


def session_class_of(kind: str) -> type[Session]:
    if kind == "etcd":
        from mvcc_check.db.etcd import EtcdSession

        return EtcdSession
    try:
        return SESSIONS[kind]
    except KeyError:
        raise DbError(f"{kind} is not a database this runner can connect to") from None


def open_session(target: DbTarget, **kw: Any) -> Session:
    return session_class_of(target.kind)(target, **kw)


def session_class(target: DbTarget) -> type[Session]:
    return session_class_of(target.kind)
