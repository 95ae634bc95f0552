"""``/healthz`` and ``/readyz``: for any project, cheap, cookieless, and honest about what is down."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import AppFactory
from tests.framework.helpers import free_port
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


def test_readyz_names_redis_when_it_is_down(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project, {"SERVICES": {"redis": {"HOST": "127.0.0.1", "PORT": free_port()}}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["down"] == ["redis"]
    assert body["checks"] == {"database": "ok", "redis": "down"}


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
