"""Fixtures for real components: throwaway PostgreSQL and MariaDB servers
(tests/dbservers.py), Chromium and Graphviz.

Without them the tests that need them skip with the reason; under CI (CI=true)
a missing one is a failure, not a skip.

Under CI, hypothesis draws the same examples on every run (derandomize), so a
red build always means a change broke something; locally it keeps exploring
new examples and remembers failures in .hypothesis/."""

from __future__ import annotations

import os
import shutil

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


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, for the tests that look at a report as a person would."""
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    if path is None:
        _unavailable("chromium is not installed (Debian package chromium)")
    return path


@pytest.fixture(scope="session")
def graphviz_dot() -> str:
    """Graphviz `dot`, which renders the cycle plots' SVG."""
    path = shutil.which("dot")
    if path is None:
        _unavailable("Graphviz dot is not installed (Debian package graphviz)")
    return path
