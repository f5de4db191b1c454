"""Database fixtures: throwaway PostgreSQL and MariaDB servers, started by the same
launcher as `mvcc-check test --launch` (mvcc_check/db/launch.py).

Without the server binaries the tests that need them skip with the reason;
under CI (CI=true) a missing server is a failure, not a skip.

Under CI, hypothesis draws the same examples on every run (derandomize), so a
red build always means a change broke something; locally it keeps exploring
new examples and remembers failures in .hypothesis/."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from mvcc_check.db.launch import LaunchError, check_binaries, launch

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def launched_target(kind: str, **options):
    """Yield a launched `kind` target; skip (fail under CI) when it cannot run here."""
    try:
        check_binaries(kind)
    except LaunchError as exc:
        _unavailable(str(exc))
    try:
        import psycopg  # noqa: F401
        import pymysql  # noqa: F401
    except ImportError as exc:
        _unavailable(f"database driver missing: {exc}")
    with launch(kind, **options) as target:
        yield target


@pytest.fixture(scope="session")
def pg_server():
    yield from launched_target("postgresql")


@pytest.fixture(scope="session")
def maria_server():
    yield from launched_target("mariadb")


@pytest.fixture(scope="session")
def etcd_binary():
    """etcd-server is installed (else skip; under CI=true, fail)."""
    try:
        check_binaries("etcd")
    except LaunchError as exc:
        _unavailable(str(exc))
