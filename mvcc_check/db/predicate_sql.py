"""The closed-predicate workload in SQL: a table of rows (k, value), predicate reads
`SELECT k, value FROM t WHERE value % m = r`, INSERT, UPDATE and DELETE.

The init op's rows are inserted and committed by the admin connection before the
clients start, and recorded as Elle's `{"f": "init", "value": {k: v}}` op. There
is no index on `value`: a predicate read scans the table, as it does on every
database here. Values are non-negative, so SQL's `%` (the sign of the dividend)
and Elle's `mod` (the sign of the divisor) agree.
"""

from __future__ import annotations

import time
from typing import Any

from mvcc_check.db.dialects import Session
from mvcc_check.db.target import DbError
from mvcc_check.history.recorder import HistoryRecorder


def create_table(session: Session, table: str) -> None:
    session.execute(f"DROP TABLE IF EXISTS {table}")
    session.execute(f"CREATE TABLE {table} (k BIGINT PRIMARY KEY, value BIGINT NOT NULL)")


def load_init(session: Session, table: str, rows: dict[int, int], rec: HistoryRecorder) -> None:
    """Insert the init op's rows in one committed transaction; record the init op."""
    value = {str(k): v for k, v in sorted(rows.items())}
    rec.record("invoke", 0, value, time.time_ns(), f="init")
    session.begin(_strongest(session))
    for k, v in sorted(rows.items()):
        session.execute(f"INSERT INTO {table} (k, value) VALUES (%s, %s)", (k, v))
    session.commit()
    rec.record("ok", 0, value, time.time_ns(), f="init")


def _strongest(session: Session) -> str:
    levels = session.levels
    return "serializable" if "serializable" in levels else levels[-1]


def where_sql(session: Session, pred: Any) -> str:
    """The WHERE clause of a predicate (integers only: they are inlined)."""
    if pred in ("true", True, ["true"]):
        return ""
    if isinstance(pred, list) and len(pred) == 2 and pred[0] == "=" and type(pred[1]) is int:
        return f" WHERE value = {pred[1]}"
    if (
        isinstance(pred, list)
        and len(pred) == 3
        and pred[0] == "mod"
        and all(type(x) is int for x in pred[1:])
    ):
        mod = "%" if session.kind == "sqlite" else "%%"  # the drivers' parameter syntax
        return f" WHERE value {mod} {pred[1]} = {pred[2]}"
    raise DbError(f"closed-predicate: cannot run the predicate {pred!r} in SQL")


def run_txn(session: Session, table: str, level: str, txn: list, state: dict) -> list:
    """Run one closed-predicate transaction; the micro-ops with what was read."""
    if hasattr(session, "transact"):
        raise DbError("the closed-predicate workload needs a SQL database")
    state["commit-sent"] = False
    session.begin(level)
    out: list = []
    for f, k, v in txn:
        if f == "r":
            rows = session.execute(f"SELECT value FROM {table} WHERE k = %s", (k,))
            out.append(["r", k, int(rows[0][0]) if rows else None])
        elif f == "rp":
            rows = session.execute(f"SELECT k, value FROM {table}{where_sql(session, k)}")
            out.append(["rp", k, {str(int(a)): int(b) for a, b in sorted(rows)}])
        elif f == "insert":
            session.execute(f"INSERT INTO {table} (k, value) VALUES (%s, %s)", (k, v))
            out.append([f, k, v])
        elif f == "w":
            session.execute(f"UPDATE {table} SET value = %s WHERE k = %s", (v, k))
            out.append([f, k, v])
        else:
            session.execute(f"DELETE FROM {table} WHERE k = %s", (k,))
            out.append(["delete", k, None])
    state["commit-sent"] = True
    session.commit()
    return out
