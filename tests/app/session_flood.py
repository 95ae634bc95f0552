"""The flood of cookieless form-page requests that must store at most one session, for each session
backend. The backends' tests live in two files (test_sessions_anonymous.py for files,
test_sessions_flood_redis.py for Redis) so that CI's workers (``--dist loadfile``) run the two 10,000-request
floods side by side instead of one after the other."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask

from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.support.services import require_redis

from .conftest import PASSWORD, QUIET, RATE_LIMITS_OFF, form_token, sign_up

FLOOD = 10_000
STORED_AT_MOST = 1
FLOOD_TIMEOUT = 900
"""10,000 requests: about 40-60 s on an idle 2-core machine, 150 s under CI's own load; a rehearsal with
four other jobs on the machine took over 480 s (a hang guard, not a speed target)."""


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


def flood_stores_at_most_one_session(make_app: AppFactory, backend: str) -> None:
    """10,000 cookieless ``GET /login`` add at most one stored session; the form still logs in after."""
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
