"""A session store (Redis or memcached of the test's own) that stops or freezes while the app runs: a request
that needs its server session gets a 503 that says so within a second, a ``session_optional`` view serves
the visitor as an anonymous one, and a session that cannot be saved turns its response into that 503."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import AppFactory
from tests.support.memcached_server import MemcachedServer
from tests.support.redis_server import RedisServer

from .helpers import write_project

VIEWS = """
    from flask import jsonify, session

    from conexoos.framework import regenerate_session, require_session_store
    from conexoos.framework.sessions import session_optional


    def login():
        regenerate_session()
        session["user"] = "ana"
        return jsonify(user="ana")


    def checked_login():
        require_session_store()
        return login()


    def private():
        return jsonify(user=session.get("user"))


    @session_optional
    def public():
        return jsonify(user=session.get("user"))


    class Route:
        def __init__(self, app):
            app.add_url_rule("/login", "login", login, methods=["POST"])
            app.add_url_rule("/checked-login", "checked_login", checked_login, methods=["POST"])
            app.add_url_rule("/private", "private", private)
            app.add_url_rule("/public", "public", public)
"""
STORE_DOWN = "The session store is unavailable right now"


@pytest.fixture(params=["redis", "memcached"])
def store(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    """A started Redis or memcached of the test's own, with its SERVICES entry."""
    server: Any = RedisServer() if request.param == "redis" else MemcachedServer()
    server.start()
    yield request.param, server
    server.close()


def timed_get(client: FlaskClient, path: str, **headers: str) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.get(path, headers=headers)
    return response, time.monotonic() - started


def test_a_store_that_is_down_answers_503_fast(
    tmp_path: Path, make_app: AppFactory, store: tuple[str, Any]
) -> None:
    backend, server = store
    project = write_project(tmp_path / "site", {"server/web.py": VIEWS})
    overrides = {"SERVER_ENV": {"SESSION": backend}, "SERVICES": {backend: server.service}}
    app = make_app(project, overrides)
    signed_in = app.test_client()
    assert signed_in.post("/login").status_code == 200
    assert signed_in.get("/private").get_json() == {"user": "ana"}

    outages = [server.freeze, server.stop] if backend == "redis" else [server.stop]
    for outage in outages:
        outage()
        page, took = timed_get(signed_in, "/private", Accept="text/html")
        assert (page.status_code, took < 1.0) == (503, True), (page.status_code, took)
        assert STORE_DOWN in page.get_data(as_text=True) and page.headers["Retry-After"] == "30"
        api, took = timed_get(signed_in, "/private", Accept="application/json")
        assert (api.status_code, api.get_json()["error"]["code"]) == (503, "service_unavailable")
        public = signed_in.get("/public")
        assert (public.status_code, public.get_json()) == (200, {"user": None})  # served as anonymous
        assert "Set-Cookie" not in public.headers  # the cookie still names the session for later
        saved = app.test_client().post("/login")  # the view ran; its session could not be saved
        assert saved.status_code == 503 and STORE_DOWN in saved.get_data(as_text=True)
        assert "Set-Cookie" not in saved.headers
        checked = app.test_client().post("/checked-login", headers={"Accept": "application/json"})
        assert checked.status_code == 503
        if backend == "redis" and outage == server.freeze:
            server.thaw()
            assert signed_in.get("/private").get_json() == {"user": "ana"}


FAST_VIEWS = """
    from flask import jsonify, session

    from conexoos.framework import regenerate_session


    def sign_in(name):
        regenerate_session()
        session["user"] = name
        return jsonify(user=name)
"""
FAST_MIDDLEWARE = """
    from conexoos.framework.fast_path import FastPath, add_fast_path
    from controllers.views import sign_in


    class Load:
        def __init__(self, app):
            app.add_url_rule("/fast/<name>", "fast_sign_in", sign_in)
            add_fast_path(app, FastPath("fast_sign_in", view=sign_in, answer=lambda: sign_in("fast")))
"""


def test_the_access_line_has_the_503_a_session_that_cannot_be_saved_turned_the_answer_into(
    tmp_path: Path, make_app: AppFactory, store: tuple[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The view answered 200, then the session's save failed and the client got the 503: the app's
    access line says 503, for Flask's path and for a fast path's answer alike (it said 200)."""
    backend, server = store
    files = {
        "server/web.py": VIEWS,
        "controllers/views.py": FAST_VIEWS,
        "server/middleware.py": FAST_MIDDLEWARE,
    }
    overrides = {"SERVER_ENV": {"SESSION": backend}, "SERVICES": {backend: server.service}}
    app = make_app(write_project(tmp_path / "site", files), overrides)
    server.stop()
    with caplog.at_level(logging.INFO, logger="conexoos.access"):
        statuses = [
            app.test_client().post("/login").status_code,
            app.test_client().get("/fast/ana").status_code,
        ]
    lines = [record.getMessage() for record in caplog.records if record.name == "conexoos.access"]
    assert statuses == [503, 503]
    assert [line.split()[:3] for line in lines] == [["POST", "/login", "503"], ["GET", "/fast/ana", "503"]]
