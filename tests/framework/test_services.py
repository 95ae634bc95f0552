"""The SERVICES section: exposed to project code, with clients for Redis and memcached."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from conexoos.framework import ConfigError, runtime
from conexoos.framework.services import Services
from tests.conftest import AppFactory
from tests.support.services import require_memcached, require_redis

from .helpers import write_project


def test_services_reach_project_code(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(
        tmp_path / "uses_services",
        {
            "server/web.py": """
        from flask import jsonify

        from conexoos.framework import runtime


        def stripe_mode():
            services = runtime().services
            return jsonify(mode=services.config("stripe")["MODE"], has_redis=services.has("redis"),
                           missing=services.config("nothing"))


        class Route:
            def __init__(self, app):
                app.add_url_rule("/mode", "mode", stripe_mode)
    """
        },
    )
    app = make_app(project, {"SERVICES": {"stripe": {"MODE": "test", "RETRIES": "${RETRIES:-3}"}}})
    assert app.test_client().get("/mode").get_json() == {"mode": "test", "has_redis": False, "missing": {}}
    with app.app_context():
        assert runtime().services.config("stripe")["RETRIES"] == 3
        assert app.config["SERVICES"]["stripe"]["MODE"] == "test"


def test_redis_url_escapes_the_password(tmp_path: Path, make_app: AppFactory, bare_project: Path) -> None:
    password = "p@ss/w#rd:?"
    app = make_app(
        bare_project,
        {"SERVICES": {"redis": {"HOST": "cache.example", "PORT": 6390, "DB": 2, "PASSWORD": password}}},
    )
    url = app.extensions["conexoos"].services.redis_url
    assert url == "redis://:p%40ss%2Fw%23rd%3A%3F@cache.example:6390/2"
    parsed = redis.ConnectionPool.from_url(url).connection_kwargs
    assert (parsed["password"], parsed["host"], parsed["port"], parsed["db"]) == (
        password,
        "cache.example",
        6390,
        2,
    )


def test_a_service_that_is_not_configured_is_a_clear_error(make_app: AppFactory, bare_project: Path) -> None:
    services: Services = make_app(bare_project).extensions["conexoos"].services
    with pytest.raises(ConfigError) as caught:
        _ = services.redis
    assert caught.value.problems == ["SERVICES.redis: is not configured; add SERVICES.redis.HOST and PORT"]
    with pytest.raises(ConfigError, match="SERVICES.memcached: is not configured"):
        _ = services.memcached


@pytest.mark.services
def test_redis_and_memcached_clients_talk_to_their_servers(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project, {"SERVICES": {"redis": require_redis(), "memcached": require_memcached()}})
    services: Services = app.extensions["conexoos"].services
    key = f"conexoos-test-{id(services)}"
    try:
        services.redis.set(key, "from redis", ex=30)
        services.memcached.set(key, b"from memcached", expire=30)
        assert services.redis.get(key) == b"from redis"
        assert services.memcached.get(key) == b"from memcached"
    finally:
        services.redis.delete(key)
        services.memcached.delete(key)
