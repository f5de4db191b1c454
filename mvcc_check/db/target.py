"""Database URLs and isolation level names.

`parse_db_url("postgresql://user@host:5432/db")` gives a `DbTarget`; its
`display` never holds a password. Passwords come from the URL or from the
standard environment variables (PGPASSWORD is read by libpq itself; MYSQL_PWD
for MariaDB/MySQL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from mvcc_check.errors import MvccCheckError

LEVELS = ("read-uncommitted", "read-committed", "repeatable-read", "serializable")


class DbError(MvccCheckError):
    """A database cannot be used: bad URL, unsupported level, connection refused..."""


READ_LEVELS = ("linearizable",)  # etcd's read option besides "serializable"


def normalize_level(level: str) -> str:
    name = level.strip().lower().replace("_", "-").replace(" ", "-")
    if name not in LEVELS + READ_LEVELS:
        raise DbError(f"unknown isolation level {level!r} (expected one of {', '.join(LEVELS)})")
    return name


@dataclass(frozen=True)
class DbTarget:
    kind: str  # "sqlite" | "postgresql" | "mysql" | "engine"
    url: str = field(repr=False)  # the URL as given (may hold a password): never print it
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    path: str | None = None  # sqlite file

    @property
    def display(self) -> str:
        """The URL with any password left out: safe to print and to record."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        if self.kind in ("engine", "etcd"):
            return self.url
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.kind}://{user}{self.host or ''}{port}/{self.database or ''}"


def parse_db_url(url: str) -> DbTarget:
    if url.startswith("engine:"):
        return DbTarget("engine", url)
    if url.startswith("etcd://"):  # etcd://host:port[,host:port...]
        return DbTarget("etcd", url, host=url[len("etcd://") :].strip("/"))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////abs/path.db; sqlite:///tmp/x.db means /tmp/x.db
        # when the first path segment exists as a directory at the root.
        raw = url[len("sqlite://") :]
        if not raw.startswith("/"):
            raise DbError(f"bad sqlite URL {url!r}: expected sqlite:///path/to/file.db")
        if raw.startswith("//"):  # sqlite:////abs/path.db
            path = raw[1:]
        else:  # sqlite:///x.db is relative (as in SQLAlchemy), unless only /x.db's directory exists
            rel = raw[1:]
            rel_dir = os.path.dirname(rel)
            abs_dir = os.path.dirname(raw)
            path = (
                raw if (rel_dir and not os.path.isdir(rel_dir) and os.path.isdir(abs_dir)) else rel
            )
        if not path:
            raise DbError(f"bad sqlite URL {url!r}: no file name")
        return DbTarget("sqlite", url, path=path)
    if scheme in ("postgresql", "postgres"):
        kind = "postgresql"
    elif scheme in ("mysql", "mariadb", "mysql+pymysql"):
        kind = "mysql"
    else:
        raise DbError(
            f"unsupported database URL scheme {scheme!r} "
            "(expected sqlite:///file.db, postgresql://user@host:port/db, mysql://user@host:port/db "
            "or engine:)"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise DbError(f"bad port in database URL: {exc}") from None
    return DbTarget(
        kind,
        url,
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=parts.path.lstrip("/") or None,
    )
