"""Find the real servers the service tests need, and make a throw-away database on each.

A test that needs a server that is not running is skipped with the reason; with
``CONEXOOS_REQUIRE_SERVICES=1`` (set by .ci/run) it fails instead, so CI never goes green on skips.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

REQUIRE_SERVICES = os.environ.get("CONEXOOS_REQUIRE_SERVICES") == "1"

POSTGRES_URL = os.environ.get("CONEXOOS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("CONEXOOS_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS = (
    os.environ.get("CONEXOOS_TEST_REDIS_HOST", "127.0.0.1"),
    int(os.environ.get("CONEXOOS_TEST_REDIS_PORT", "6379")),
)
MEMCACHED = (
    os.environ.get("CONEXOOS_TEST_MEMCACHED_HOST", "127.0.0.1"),
    int(os.environ.get("CONEXOOS_TEST_MEMCACHED_PORT", "11211")),
)
DATABASE_KINDS = ("sqlite", "postgresql", "mariadb")


def is_listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip (or, under CONEXOOS_REQUIRE_SERVICES=1, fail) when the server is not listening."""
    if is_listening(host, port):
        return
    reason = f"{name} is not running at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def require_redis() -> dict[str, object]:
    """The SERVICES.redis entry for the test Redis, after checking it is up."""
    require_server("Redis", *REDIS)
    return {"HOST": REDIS[0], "PORT": REDIS[1], "DB": 0}


def require_memcached() -> dict[str, object]:
    """The SERVICES.memcached entry for the test memcached, after checking it is up."""
    require_server("memcached", *MEMCACHED)
    return {"HOST": MEMCACHED[0], "PORT": MEMCACHED[1]}


def server_url(kind: str) -> URL:
    """The administrative URL of the PostgreSQL or MariaDB test server."""
    url = make_url(POSTGRES_URL if kind == "postgresql" else MARIADB_URL)
    require_server(kind, url.host or "127.0.0.1", url.port or (5432 if kind == "postgresql" else 3306))
    return url


@contextmanager
def fresh_database(kind: str, tmp_path_factory: pytest.TempPathFactory | None = None) -> Iterator[str]:
    """Yield the URL of a new empty database of ``kind``; it is dropped afterwards."""
    if kind == "sqlite":
        folder = tmp_path_factory.mktemp("sqlite") if tmp_path_factory else None
        path = (folder / "test.db") if folder else f"/tmp/conexoos-{uuid.uuid4().hex}.db"
        yield f"sqlite:///{path}"
        return
    admin_url = server_url(kind)
    name = f"conexoos_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
        if kind == "postgresql":
            # A test database is thrown away: a commit need not wait for the WAL to reach the disk.
            connection.execute(text(f"ALTER DATABASE {name} SET synchronous_commit = off"))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if kind == "postgresql" else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()
