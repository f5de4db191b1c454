"""Database fixtures: throwaway PostgreSQL and MariaDB servers (tests/dbservers.py).

Without the server binaries the tests that need them skip with the reason;
under CI (CI=true) a missing server is a failure, not a skip.

Under CI, hypothesis draws the same examples on every run (derandomize), so a
red build always means a change broke something; locally it keeps exploring
new examples and remembers failures in .hypothesis/."""

from __future__ import annotations

import os

import dbservers
import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def _server(factory, find):
    found, reason = find()
    if found is None:
        _unavailable(reason)
    try:
        import psycopg  # noqa: F401
        import pymysql  # noqa: F401
    except ImportError as exc:
        _unavailable(f"database driver missing: {exc}")
    with factory() as srv:
        yield srv


@pytest.fixture(scope="session")
def pg_server():
    yield from _server(dbservers.postgres_server, dbservers.find_postgres)


@pytest.fixture(scope="session")
def maria_server():
    yield from _server(dbservers.mariadb_server, dbservers.find_mariadb)
