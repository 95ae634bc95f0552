"""Servers the fault tests own and break: one PostgreSQL cluster for the run (created in ~5 s, each
test finds it running), a Redis per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support.postgres_cluster import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.services import REQUIRE_SERVICES

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every fault test is a ``services`` test: it starts, stops or freezes real servers. CI runs those
    beside the product's database runs, after the tests that need no server (scripts/test)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.services)


DB_USER = "conexoos_app"
DB_PASSWORD = "right-password"
DB_NAME = "conexoos_faults"


@pytest.fixture(scope="session")
def cluster() -> Iterator[PostgresCluster]:
    """A running PostgreSQL cluster with a role that logs in with DB_PASSWORD and owns DB_NAME."""
    try:
        postgres = PostgresCluster()
    except RuntimeError as error:
        missing(str(error))
    with postgres:
        postgres.add_database(DB_USER, DB_PASSWORD, DB_NAME)
        yield postgres


@pytest.fixture
def postgres(cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    """The module's cluster, running at the start of the test and again after it."""
    cluster.ensure_running()
    yield cluster
    cluster.ensure_running()


def missing(reason: str) -> NoReturn:
    """Skip, or fail under CONEXOOS_REQUIRE_SERVICES=1 (CI never goes green on skips)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def database_entry(
    cluster: PostgresCluster, password: str = DB_PASSWORD, name: str = DB_NAME
) -> dict[str, Any]:
    """The ``DATABASE.main`` entry for the cluster."""
    return {
        "driver": "postgresql",
        "user": DB_USER,
        "password": password,
        "database": name,
        "address": cluster.host,
        "port": cluster.port,
    }


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own, not started."""
    try:
        server = RedisServer()
    except RuntimeError as error:
        missing(str(error))
    yield server
    server.close()


@pytest.fixture
def persistent_redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own, not started, configured as the README asks when Redis holds the write
    buffer: an AOF fsync'd at every write, so a restart keeps the clicks the flush has not inserted yet."""
    try:
        server = RedisServer(persistent=True)
    except RuntimeError as error:
        missing(str(error))
    yield server
    server.close()
