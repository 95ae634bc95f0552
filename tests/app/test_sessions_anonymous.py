"""Anonymous visitors store no session on the server: a flood of cookieless requests to a form page
cannot fill Redis or the session folder, and the public page sets no cookie at all."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.support.services import require_redis

from .conftest import PASSWORD, QUIET, RATE_LIMITS_OFF, Account, form_token, sign_up

FLOOD = 10_000
STORED_AT_MOST = 1


def product(make_app: AppFactory, backend: str) -> Flask:
    services: dict[str, Any] = {"redis": require_redis()} if backend == "redis" else {}
    name = f"flood-{secrets.token_hex(4)}"  # its own key prefix in the shared Redis
    overrides = {"SERVER_ENV": {"SESSION": backend, "APP_NAME": name}, "SERVICES": services}
    return make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides))


def stored_sessions(app: Flask, backend: str) -> int:
    if backend == "redis":
        redis = app.extensions["conexoos"].services.redis
        return len(list(redis.scan_iter(match=app.config["SESSION_KEY_PREFIX"] + "*", count=1000)))
    folder = Path(app.config["SERVICES"]["filesystem"]["PATH"])
    return sum(1 for path in folder.iterdir() if path.is_file())


@pytest.mark.timeout(480)  # 10,000 requests: about 60 s on an idle 2-core machine, 150 s under load
@pytest.mark.parametrize("backend", ["filesystem", pytest.param("redis", marks=pytest.mark.services)])
def test_ten_thousand_cookieless_login_pages_store_at_most_one_session(
    make_app: AppFactory, backend: str
) -> None:
    app = product(make_app, backend)
    before = stored_sessions(app, backend)
    started = time.perf_counter()
    visitor = app.test_client(use_cookies=False)  # every request arrives without a cookie
    for _ in range(FLOOD):
        response = visitor.get("/login")
        assert response.status_code == 200
    elapsed = time.perf_counter() - started
    added = stored_sessions(app, backend) - before
    print(f"{FLOOD} cookieless GET /login on {backend}: {added} stored sessions added ({elapsed:.1f} s)")
    assert added <= STORED_AT_MOST
    # The form still works: the token of that page (kept in its signed cookie) logs in, and only then
    # is a session stored.
    sign_up(app, "flooded")
    client = app.test_client()
    token = form_token(client.get("/login"))
    response = client.post("/login", data={"csrf_token": token, "login": "flooded", "password": PASSWORD})
    assert response.status_code == 302
    assert stored_sessions(app, backend) - before == 2  # the two logged-in browsers, nothing else
    if backend == "redis":
        redis = app.extensions["conexoos"].services.redis
        for key in redis.scan_iter(match=app.config["SESSION_KEY_PREFIX"] + "*"):
            redis.delete(key)


def test_anonymous_pages_set_no_cookie(app: Flask, alice: Account) -> None:
    link_id = alice.add_link()["id"]
    for path in ("/", f"/{alice.username}", f"/go/{link_id}", "/robots.txt", "/no-such-page"):
        response = app.test_client().get(path)
        assert response.status_code < 500, path
        assert response.headers.getlist("Set-Cookie") == [], path


def test_a_form_page_gives_a_short_lived_signed_cookie_only(app: Flask) -> None:
    response = app.test_client().get("/signup")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    value = cookies[0].split(";")[0].split("=", 1)[1]
    assert value.count(".") >= 2  # payload.timestamp.signature: the data is in the cookie, not a store id
    expires = parsedate_to_datetime(cookies[0].split("Expires=")[1].split(";")[0])
    assert expires - datetime.now(UTC) <= timedelta(hours=2, minutes=1)
    assert stored_sessions(app, "filesystem") == 0


def test_login_replaces_a_planted_anonymous_session(app: Flask, alice: Account) -> None:
    """An attacker who plants their own anonymous cookie in a victim's browser learns nothing: at login the
    session gets a new server-side id and a new CSRF secret."""
    attacker = app.test_client()
    planted_token = form_token(attacker.get("/login"))
    planted = attacker.get_cookie("session")
    assert planted is not None
    victim = app.test_client()
    victim.set_cookie("session", planted.value)
    response = victim.post(
        "/login", data={"csrf_token": planted_token, "login": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert victim.get_cookie("session").value != planted.value  # type: ignore[union-attr]
    forged = victim.post("/dashboard/settings", data={"csrf_token": planted_token, "display_name": "pwned"})
    assert forged.status_code == 400
