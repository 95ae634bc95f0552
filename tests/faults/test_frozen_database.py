"""PostgreSQL frozen (SIGSTOP: the kernel still accepts and acknowledges, nothing answers) under the real
``conexoos serve``: every request that needs the database answers 503 within a bounded time (the
connection's ``request_timeout`` and ``connect_timeout``), never hangs past the client's patience, and the
server answers normally again once PostgreSQL is thawed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests

from tests.faults.conftest import database_entry
from tests.faults.harness import ServedProduct, Visitor, new_port, product_config
from tests.support.postgres_cluster import PostgresCluster

BOUND = 12.0
"""Seconds within which a request must be answered while the database is frozen (request_timeout 5 s,
the cancel attempt 1 s, then a reconnection bounded by connect_timeout 4 s)."""
PARALLEL = 20
"""Requests at once while frozen: more than the pool holds (5 + 10 overflow)."""


def timed_get(visitor: Visitor, path: str) -> tuple[float, int | str]:
    started = time.monotonic()
    try:
        status: int | str = visitor.get(path, timeout=BOUND + 10).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return time.monotonic() - started, status


def test_a_frozen_postgresql_gets_bounded_503s_then_recovers(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    port = new_port()
    # Without the page cache, which would answer the page and the seen link (each after its view's or
    # click's INSERT timed out): this test is about requests that need the database.
    config = product_config(tmp_path, port, database_entry(postgres), APP={"PAGE_CACHE": {"ENABLED": False}})
    server = ServedProduct(config, port)
    try:
        server.wait_ready()
        owner = Visitor(server.url)
        username = f"owner{port}"
        owner.sign_up(username)
        link_id = owner.add_link()
        assert Visitor(server.url).get(f"/{username}").status_code == 200
        postgres.freeze()
        try:
            answers: list[tuple[float, int | str]] = []

            def visit(path: str) -> None:
                answers.append(timed_get(Visitor(server.url), path))

            paths = [f"/{username}" if number % 2 else f"/go/{link_id}" for number in range(PARALLEL)]
            threads = [threading.Thread(target=visit, args=(path,), daemon=True) for path in paths]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(BOUND + 15)
            second = timed_get(Visitor(server.url), f"/{username}")  # after the first wave, alone
        finally:
            postgres.thaw()
        assert len(answers) == PARALLEL
        assert {status for _seconds, status in answers} == {503}, answers
        assert max(seconds for seconds, _status in answers) < BOUND, answers
        assert second[1] == 503 and second[0] < BOUND, second
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and Visitor(server.url).get(f"/{username}").status_code != 200:
            time.sleep(0.5)
        assert Visitor(server.url).get(f"/{username}").status_code == 200
        log = server.output()
        assert "request_timeout" in log or "timeout" in log.lower()
    finally:
        server.stop()
