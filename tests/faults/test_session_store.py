"""Redis as the session store, down or frozen while serving, and down when ``serve`` starts: whatever needs a
signed-in session answers 503 within a second, saying so; public pages and click redirects keep working; and
everything recovers on its own when Redis answers again."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.faults.harness import ServedProduct, Visitor, new_port, product_config
from tests.support.redis_server import RedisServer

STORE_DOWN = "The session store is unavailable right now"


def serve_with_redis_sessions(tmp_path: Path, redis: RedisServer) -> ServedProduct:
    port = new_port()
    database = {"driver": "sqlite", "database": "faults.db"}
    config = product_config(
        tmp_path, port, database, SERVER_ENV={"SESSION": "redis"}, SERVICES={"redis": redis.service}
    )
    return ServedProduct(config, port)


def timed(call: object) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def assert_store_down(owner: Visitor, newcomer: Visitor, username: str) -> None:
    """What a session needs is a quick 503 that says why; what it does not need still works."""
    dashboard, took = timed(lambda: owner.get("/dashboard"))
    assert (dashboard.status_code, took < 1.0) == (503, True), (dashboard.status_code, took)
    assert STORE_DOWN in dashboard.text and dashboard.headers["Retry-After"] == "30"
    api, took = timed(lambda: owner.get("/api/links"))
    assert (api.status_code, took < 1.0) == (503, True), (api.status_code, took)
    assert api.json()["error"]["code"] == "service_unavailable"
    form = newcomer.get("/login")
    assert form.status_code == 200  # the form's CSRF secret lives in a signed cookie
    login, took = timed(lambda: newcomer.log_in(username))
    assert (login.status_code, took < 1.0) == (503, True), (login.status_code, took)
    assert STORE_DOWN in login.text and "session" not in login.cookies
    for visitor in (newcomer, owner):  # anonymous, and signed in (served as anonymous)
        assert visitor.get(f"/{username}").status_code == 200
        assert visitor.get(f"/go/{owner_link(owner)}").status_code == 302


def owner_link(owner: Visitor) -> int:
    return int(owner.http.headers["X-Test-Link"])


def test_redis_sessions_down_then_back(tmp_path: Path, redis_server: RedisServer) -> None:
    redis_server.start()
    server = serve_with_redis_sessions(tmp_path, redis_server)
    try:
        server.wait_ready()
        username = f"owner{server.port}"
        owner = Visitor(server.url)
        owner.sign_up(username)
        owner.http.headers["X-Test-Link"] = str(owner.add_link())
        assert Visitor(server.url).log_in(username).status_code == 302

        redis_server.freeze()  # connections are accepted, nothing answers
        assert_store_down(owner, Visitor(server.url), username)
        redis_server.thaw()
        assert owner.get("/dashboard").status_code == 200  # the session survived a frozen Redis

        redis_server.stop()  # refused
        assert_store_down(owner, Visitor(server.url), username)
        redis_server.start()  # empty: the sessions are gone, logging in again works
        assert Visitor(server.url).log_in(username).status_code == 302
        assert "session store unreachable" in server.output()
        assert "Exception on /" not in server.output()
    finally:
        server.stop()


def test_redis_down_when_serve_starts(tmp_path: Path, redis_server: RedisServer) -> None:
    server = serve_with_redis_sessions(tmp_path, redis_server)  # Redis not started
    try:
        server.wait_ready()
        assert f"SERVICES.redis: 127.0.0.1:{redis_server.port} does not answer" in server.output()
        visitor = Visitor(server.url)
        assert visitor.get("/").status_code == 200
        refused = visitor.submit(
            "/signup", {"email": "late@example.com", "username": "late", "password": "correct horse battery"}
        )
        assert refused.status_code == 503 and STORE_DOWN in refused.text
        redis_server.start()
        visitor.sign_up("late")  # the refused sign-up created no account
        assert visitor.get("/dashboard").status_code == 200
    finally:
        server.stop()
