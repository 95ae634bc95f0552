"""``/healthz`` and ``/readyz``: for any project, cheap, cookieless, and honest about what is down."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from conexoos.framework.health import DATABASE_DEADLINE, ProbeTimeout, within
from tests.conftest import AppFactory
from tests.framework.helpers import free_port
from tests.support.redis_server import RedisServer
from tests.support.services import require_redis

CLOSED_PORT_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:{port}/nothing?connect_timeout=2"


def test_healthz_is_tiny_and_sets_no_cookie(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data() == b"ok\n"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ok_when_the_database_answers(make_app: AppFactory, bare_project: Path) -> None:
    response = make_app(bare_project).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_readyz_names_a_database_that_is_down(make_app: AppFactory, bare_project: Path) -> None:
    url = CLOSED_PORT_DATABASE.format(port=free_port())
    app = make_app(bare_project, database_url=url, schema=False)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "unavailable", "checks": {"database": "down"}, "down": ["database"]}


def test_readyz_names_redis_when_it_is_down_and_still_routes_to_the_host(
    make_app: AppFactory, bare_project: Path
) -> None:
    """Without Redis the public pages still work: degraded (200), not a host to drop; ``?strict=1`` says
    503 for monitoring."""
    app = make_app(bare_project, {"SERVICES": {"redis": {"HOST": "127.0.0.1", "PORT": free_port()}}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "down"},
        "down": ["redis"],
    }
    strict = app.test_client().get("/readyz?strict=1")
    assert strict.status_code == 503
    assert strict.get_json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "down"},
        "down": ["redis"],
    }


@pytest.mark.services
def test_readyz_checks_a_running_redis(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project, {"SERVICES": {"redis": require_redis()}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_the_probes_are_real_routes_of_every_app(make_app: AppFactory, bare_project: Path) -> None:
    app: Flask = make_app(bare_project)
    rules = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    assert rules["/healthz"] == "conexoos_healthz"
    assert rules["/readyz"] == "conexoos_readyz"


def test_readyz_has_no_database_check_without_a_database(
    make_app: AppFactory, bare_project: Path, tmp_path: Path
) -> None:
    config = tmp_path / "no-database.yml"
    config.write_text(
        "SERVER_ENV: {ENV: DEV, INSTANCE_PATH: " + str(tmp_path / "instance") + "}\nDATABASE: {}\n",
        encoding="utf-8",
    )
    app = make_app(bare_project, config=str(config), schema=False)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {}}


def test_a_failed_probe_logs_one_line_without_a_traceback(
    make_app: AppFactory, bare_project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    app = make_app(bare_project, {"SERVICES": {"redis": {"HOST": "127.0.0.1", "PORT": port}}})
    with caplog.at_level(logging.WARNING, logger="conexoos.health"):
        assert app.test_client().get("/readyz").status_code == 200
    records = [record for record in caplog.records if record.name == "conexoos.health"]
    assert len(records) == 1
    assert records[0].exc_info is None
    assert records[0].getMessage().startswith("readiness check redis failed: ConnectionError: ")
    assert str(port) in records[0].getMessage() and "\n" not in records[0].getMessage()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
def test_readyz_answers_within_a_second_while_redis_is_stopped_or_frozen(
    make_app: AppFactory, bare_project: Path, own_redis: RedisServer, fault: str
) -> None:
    app = make_app(bare_project, {"SERVICES": {"redis": own_redis.service}})
    app.extensions["conexoos"].scheduler.every(60, lambda: None, name="job")  # its records are in Redis
    client = app.test_client()
    assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok", "tasks": "ok"}

    own_redis.stop() if fault == "stopped" else own_redis.freeze()
    for _ in range(2):  # the pooled connections of the first answer are dead or hung too
        started = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - started < 1.0
        assert response.status_code == 200
        assert response.get_json() == {
            "status": "degraded",
            "checks": {"database": "ok", "redis": "down", "tasks": "unknown"},
            "down": ["redis"],
        }


def test_readyz_names_a_database_that_accepts_and_never_answers_within_its_deadline(
    make_app: AppFactory, bare_project: Path
) -> None:
    """A listening socket that never answers, as a frozen (SIGSTOPped) PostgreSQL: the kernel accepts the
    connection, nothing more comes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/nothing"
        app = make_app(bare_project, database_url=url, schema=False)
        client = app.test_client()
        for _ in range(2):  # the second while the first probe may still wait: at once, down too
            started = time.monotonic()
            response = client.get("/readyz")
            assert time.monotonic() - started < DATABASE_DEADLINE + 0.5
            assert response.status_code == 503
            assert response.get_json()["checks"] == {"database": "down"}


def test_a_probe_past_its_deadline_holds_one_thread_and_bounds_every_caller() -> None:
    release, started_probes = threading.Event(), []

    def hung() -> None:
        started_probes.append(1)
        release.wait(5)

    with pytest.raises(ProbeTimeout, match="no answer within 0.2 s"):
        within(0.2, hung)
    started = time.monotonic()
    with pytest.raises(ProbeTimeout, match="an earlier check still waits"):
        within(0.2, hung)  # waits for the earlier probe within its own deadline, starts none
    assert time.monotonic() - started < 0.5 and started_probes == [1]
    release.set()
    within(1.0, lambda: None)  # the earlier probe ended: a new one runs


def test_probes_polled_at_once_wait_for_each_other_within_the_deadline() -> None:
    answers: list[str] = []

    def poll() -> None:
        within(2.0, lambda: time.sleep(0.05))
        answers.append("ok")

    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join(5)
    assert answers == ["ok"] * 4
