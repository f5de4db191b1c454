"""The throwaway servers the db tests use (they live in mvcc_check.db.servers so
that the benchmark can start one too)."""

from mvcc_check.db.servers import (  # noqa: F401
    Server,
    find_mariadb,
    find_postgres,
    mariadb_server,
    postgres_server,
)
