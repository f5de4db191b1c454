"""Fixtures for real components: throwaway PostgreSQL, MariaDB and etcd servers,
started by the same launcher as `mvcc-check test --launch` (mvcc_check/db/launch.py),
Chromium and Graphviz.

Without them the tests that need them skip with the reason; under CI (CI=true)
a missing one is a failure, not a skip.

Under CI, hypothesis draws the same examples on every run (derandomize), so a
red build always means a change broke something; locally it keeps exploring
new examples and remembers failures in .hypothesis/."""

from __future__ import annotations

import os
import shutil

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
