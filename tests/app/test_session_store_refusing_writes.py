"""A Redis session store that answers but refuses writes (out of memory under ``noeviction``, or a read-only
replica after a failover): what needs a session is the session store's 503, what does not keeps working,
and nothing is a 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from conexoos.framework.config import deep_merge
from tests.app.conftest import QUIET, RATE_LIMITS_OFF, form_token, sign_up
from tests.conftest import AppFactory
from tests.framework.helpers import free_port
from tests.support.redis_server import RedisServer

STORE_DOWN = "The session store is unavailable right now"


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except RuntimeError as error:
        pytest.skip(str(error))
    try:
        yield server
    finally:
        server.close()


def refuse_writes(server: RedisServer, how: str) -> None:
    client = redis.Redis(host=server.host, port=server.port)
    if how == "out of memory":
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", 1)
    else:  # a replica of a master that is not there: it keeps its data, answers reads, refuses writes
        client.execute_command("REPLICAOF", "127.0.0.1", str(free_port()))
    client.close()


def redis_sessions_app(make_app: AppFactory, server: RedisServer) -> Flask:
    overrides = {"SERVER_ENV": {"SESSION": "redis"}, "SERVICES": {"redis": server.service}}
    return make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides))


@pytest.mark.parametrize("how", ["out of memory", "read-only replica"])
def test_a_store_refusing_writes_is_a_503_where_a_session_is_needed(
    make_app: AppFactory, own_redis: RedisServer, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    app = redis_sessions_app(make_app, own_redis)
    owner = sign_up(app, "owner")
    link = owner.add_link("Shop", "https://shop.example/")["id"]
    newcomer = app.test_client()
    token = form_token(newcomer.get("/login"))
    refuse_writes(own_redis, how)

    with caplog.at_level(logging.WARNING):
        dashboard = owner.client.get("/dashboard")
        api = owner.api("GET", "/api/links")
        if how == "out of memory":
            # Reading pages stores nothing: the session's expiry slides (EXPIRE needs no memory) and the
            # owner stays signed in; what must store (the login below) is refused.
            assert (dashboard.status_code, api.status_code) == (200, 200)
        else:  # a replica refuses even the expiry's refresh: the signed-in pages say why
            assert (dashboard.status_code, STORE_DOWN in dashboard.get_data(as_text=True)) == (503, True)
            assert (api.status_code, api.get_json()["error"]["code"]) == (503, "service_unavailable")
        assert owner.client.get("/owner").status_code == 200  # public: served, nothing written
        assert owner.client.get(f"/go/{link}").status_code == 302
        assert owner.client.get("/readyz").status_code == 200
        assert owner.client.get("/login").status_code in (200, 302, 503)
        login = newcomer.post(
            "/login", data={"csrf_token": token, "login": "owner", "password": owner.password}
        )
        assert (login.status_code, STORE_DOWN in login.get_data(as_text=True)) == (503, True)
    assert not [record for record in caplog.records if record.exc_info], [
        r.getMessage() for r in caplog.records
    ]
    assert any("session store unreachable" in record.getMessage() for record in caplog.records)
