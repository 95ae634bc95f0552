"""Server-side sessions in files, Redis, memcached and the database; regenerating the id; secure cookies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from tests.conftest import AppFactory
from tests.support.services import require_memcached, require_redis

from .helpers import write_project

VIEWS = """
    from flask import jsonify, session

    from conexoos.framework import regenerate_session


    def remember(value):
        session["value"] = value
        session["visits"] = session.get("visits", 0) + 1
        return jsonify(stored=value)


    def recall():
        return jsonify(value=session.get("value"), visits=session.get("visits"), user=session.get("user"))


    def login():
        regenerate_session()
        session["user"] = "ana"
        return jsonify(user="ana")


    class Route:
        def __init__(self, app):
            app.add_url_rule("/remember/<value>", "remember", remember, methods=["POST"])
            app.add_url_rule("/recall", "recall", recall)
            app.add_url_rule("/login", "login", login, methods=["POST"])
"""
PREFIX = "conexoos:session:"


def session_overrides(backend: str) -> dict[str, Any]:
    services: dict[str, Any] = {}
    if backend == "redis":
        services["redis"] = require_redis()
    if backend == "memcached":
        services["memcached"] = require_memcached()
    return {"SERVER_ENV": {"SESSION": backend}, "SERVICES": services}


def stored_in_backend(app: Flask, backend: str, sid: str) -> bool:
    """Whether the backend itself holds the session ``sid`` (so it is not a cookie session in disguise)."""
    services = app.extensions["conexoos"].services
    if backend == "redis":
        return bool(services.redis.exists(PREFIX + sid))
    if backend == "memcached":
        return services.memcached.get(PREFIX + sid) is not None
    if backend == "sqlalchemy":
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT COUNT(*) FROM framework_sessions WHERE session_id = :id"), {"id": PREFIX + sid}
            ).scalar_one()
        engine.dispose()
        return bool(count)
    interface: Any = app.session_interface  # Flask-Session's cachelib store
    return bool(interface.cache.has(PREFIX + sid))


def forget(app: Flask, backend: str, *sids: str) -> None:
    """Remove the test's sessions from the shared Redis or memcached."""
    services = app.extensions["conexoos"].services
    for sid in sids:
        if backend == "redis":
            services.redis.delete(PREFIX + sid)
        elif backend == "memcached":
            services.memcached.delete(PREFIX + sid)


def cookie_sid(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie was set"
    return str(cookie.value)


BACKENDS = [
    pytest.param(name, marks=pytest.mark.services if name in ("redis", "memcached") else ())
    for name in ("filesystem", "redis", "memcached", "sqlalchemy")
]


@pytest.fixture
def session_app(tmp_path: Path, make_app: AppFactory) -> Callable[[str], Flask]:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    return lambda backend: make_app(project, session_overrides(backend))


@pytest.mark.parametrize("backend", BACKENDS)
def test_session_round_trips_through_the_backend(session_app: Callable[[str], Flask], backend: str) -> None:
    app = session_app(backend)
    client = app.test_client()

    assert client.post("/remember/blue").status_code == 200
    sid = cookie_sid(client)
    try:
        assert "blue" not in sid
        assert stored_in_backend(app, backend, sid)
        assert client.get("/recall").get_json() == {"value": "blue", "visits": 1, "user": None}
        client.post("/remember/green")
        assert cookie_sid(client) == sid
        assert client.get("/recall").get_json() == {"value": "green", "visits": 2, "user": None}

        # Another app on the same configuration (another worker) reads the same session.
        other = session_app(backend).test_client()
        other.set_cookie("session", sid)
        assert other.get("/recall").get_json()["value"] == "green"
        # Without the cookie there is no session.
        assert app.test_client().get("/recall").get_json() == {"value": None, "visits": None, "user": None}
    finally:
        forget(app, backend, sid)


@pytest.mark.parametrize("backend", BACKENDS)
def test_regenerate_session_gives_a_new_id_and_keeps_the_data(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    app = session_app(backend)
    client = app.test_client()
    client.post("/remember/red")
    old_sid = cookie_sid(client)

    assert client.post("/login").status_code == 200
    new_sid = cookie_sid(client)
    try:
        assert new_sid != old_sid
        assert client.get("/recall").get_json() == {"value": "red", "visits": 1, "user": "ana"}
        assert stored_in_backend(app, backend, new_sid)
        assert not stored_in_backend(app, backend, old_sid)

        stolen = app.test_client()
        stolen.set_cookie("session", old_sid)
        assert stolen.get("/recall").get_json() == {"value": None, "visits": None, "user": None}
    finally:
        forget(app, backend, old_sid, new_sid)


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_cookies_outside_dev_are_secure_httponly_lax(tmp_path: Path, make_app: AppFactory, env: str) -> None:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    app = make_app(project, {"SERVER_ENV": {"ENV": env}})
    cookie = app.test_client().post("/remember/x", base_url="https://localhost").headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"


def test_cookies_under_dev_work_over_plain_http(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    app = make_app(project, {"SERVER_ENV": {"ENV": "DEV"}})
    cookie = app.test_client().post("/remember/x").headers["Set-Cookie"]
    parts = [part.strip().lower() for part in cookie.split(";")]
    assert "secure" not in parts
    assert "httponly" in parts and "samesite=lax" in parts


def test_flask_config_still_overrides_cookie_settings(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    app = make_app(
        project,
        {
            "SERVER_ENV": {"ENV": "PROD"},
            "FLASK": {"CONFIG": {"SESSION_COOKIE_SAMESITE": "Strict", "SESSION_COOKIE_NAME": "shop_session"}},
        },
    )
    cookie = app.test_client().post("/remember/x", base_url="https://localhost").headers["Set-Cookie"]
    assert cookie.startswith("shop_session=")
    assert "SameSite=Strict" in cookie and "Secure" in cookie
