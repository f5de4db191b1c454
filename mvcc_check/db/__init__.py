"""Real databases: connection adapters (SQLite, PostgreSQL, MariaDB/MySQL), the
concurrent workload runner behind `mvcc-check test`, and the Hermitage scenarios
behind `mvcc-check hermitage`. These only *produce* histories; the checker judges them."""

from mvcc_check.db.target import LEVELS, DbError, DbTarget, normalize_level, parse_db_url

__all__ = ["LEVELS", "DbError", "DbTarget", "normalize_level", "parse_db_url"]
