"""Sessions: anonymous ones in a short-lived signed cookie that stores nothing on the server; at
``regenerate_session()`` (login) they move to files, Redis, memcached or the database under a new id, and
``end_session()`` (logout) deletes them there. Secure cookie flags outside DEV."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import create_engine, text

from conexoos.framework import ConfigError, db
from tests.conftest import AppFactory
from tests.support.services import require_memcached, require_redis

from .helpers import write_project

VIEWS = """
    from flask import jsonify, session

    from conexoos.framework import end_session, regenerate_session
    from conexoos.framework.sessions import session_read_only


    def remember(value):
        session["value"] = value
        session["visits"] = session.get("visits", 0) + 1
        return jsonify(stored=value)


    def recall():
        return jsonify(value=session.get("value"), visits=session.get("visits"), user=session.get("user"))


    @session_read_only
    def peek():
        return jsonify(value=session.get("value"))


    @session_read_only
    def peek_and_count():
        session["visits"] = session.get("visits", 0) + 1
        return jsonify(visits=session["visits"])


    def logo():
        session.get("user")  # read, as a site's before_request hooks read it for every request
        response = jsonify(logo="png")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


    def login():
        regenerate_session()
        session["user"] = "ana"
        return jsonify(user="ana")


    def logout():
        end_session()
        return jsonify(user=None)


    class Route:
        def __init__(self, app):
            app.add_url_rule("/remember/<value>", "remember", remember, methods=["POST"])
            app.add_url_rule("/recall", "recall", recall)
            app.add_url_rule("/peek", "peek", peek)
            app.add_url_rule("/peek-and-count", "peek_and_count", peek_and_count, methods=["POST"])
            app.add_url_rule("/logo", "logo", logo)
            app.add_url_rule("/login", "login", login, methods=["POST"])
            app.add_url_rule("/logout", "logout", logout, methods=["POST"])
"""
EMPTY = {"value": None, "visits": None, "user": None}


def session_overrides(backend: str, app_name: str) -> dict[str, Any]:
    services: dict[str, Any] = {}
    if backend == "redis":
        services["redis"] = require_redis()
    if backend == "memcached":
        services["memcached"] = require_memcached()
    return {"SERVER_ENV": {"SESSION": backend, "APP_NAME": app_name}, "SERVICES": services}


def prefix(app: Flask) -> str:
    return str(app.config["SESSION_KEY_PREFIX"])


def stored_in_backend(app: Flask, backend: str, sid: str) -> bool:
    """Whether the backend itself holds the session ``sid`` (so it is not a cookie session in disguise)."""
    services = app.extensions["conexoos"].services
    key = prefix(app) + sid
    if backend == "redis":
        return bool(services.redis.exists(key))
    if backend == "memcached":
        return services.memcached.get(key) is not None
    if backend == "sqlalchemy":
        return key in database_session_ids(app)
    interface: Any = app.session_interface.store  # type: ignore[attr-defined]  # Flask-Session's cachelib
    return bool(interface.cache.has(key))


def database_session_ids(app: Flask) -> list[str]:
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        ids = list(connection.execute(text("SELECT session_id FROM framework_sessions")).scalars())
    engine.dispose()
    return ids


def stored_count(app: Flask, backend: str) -> int | None:
    """How many sessions the backend holds for this app; None where it cannot be listed (memcached)."""
    services = app.extensions["conexoos"].services
    if backend == "redis":
        return len(list(services.redis.scan_iter(match=prefix(app) + "*", count=1000)))
    if backend == "sqlalchemy":
        return len(database_session_ids(app))
    if backend == "filesystem":
        return sum(
            1 for path in Path(app.config["SERVICES"]["filesystem"]["PATH"]).iterdir() if path.is_file()
        )
    return None


def forget(app: Flask, backend: str, *sids: str) -> None:
    """Remove the test's sessions from the shared Redis or memcached."""
    services = app.extensions["conexoos"].services
    for sid in sids:
        if backend == "redis":
            services.redis.delete(prefix(app) + sid)
        elif backend == "memcached":
            services.memcached.delete(prefix(app) + sid)


@contextmanager
def signed_in(app: Flask, backend: str) -> Iterator[tuple[FlaskClient, str]]:
    """A client logged in on ``backend`` and its session id; the session leaves a shared store after."""
    client = app.test_client()
    client.post("/login")
    sid = cookie_value(client)
    try:
        yield client, sid
    finally:
        forget(app, backend, sid)


def cookie_value(client: Any) -> str:
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
    app_name = f"sessions-{secrets.token_hex(4)}"  # a key prefix of its own in the shared Redis
    first: list[Flask] = []

    def build(backend: str) -> Flask:
        # Every app of a test is another worker of one site: the first app's database too (with
        # CONEXOOS_TEST_DATABASE each app would otherwise get a pooled database of its own).
        shared = {"database_url": _database_url(first[0])} if first else {}
        app = make_app(project, session_overrides(backend, app_name), **shared)
        first[:] = first or [app]
        return app

    return build


def _database_url(app: Flask) -> str:
    with app.app_context():
        return db.engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_anonymous_session_is_a_signed_cookie_and_stores_nothing(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    app = session_app(backend)
    client = app.test_client()
    before = stored_count(app, backend)

    assert client.post("/remember/blue").status_code == 200
    value = cookie_value(client)
    assert "." in value  # payload.timestamp.signature, never a server id
    assert client.post("/remember/green").status_code == 200
    assert client.get("/recall").get_json() == {"value": "green", "visits": 2, "user": None}
    assert stored_count(app, backend) == before
    assert not stored_in_backend(app, backend, value)

    # Another worker reads the same cookie; a changed byte is an empty session.
    other = session_app(backend).test_client()
    other.set_cookie("session", cookie_value(client))
    assert other.get("/recall").get_json()["value"] == "green"
    forged = app.test_client()
    forged.set_cookie("session", cookie_value(client).replace("e", "f", 1))
    assert forged.get("/recall").get_json() == EMPTY


def test_an_anonymous_cookie_expires_after_its_short_lifetime(
    session_app: Callable[[str], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = session_app("filesystem")
    client = app.test_client()
    signed_at = int(time.time()) - 3 * 3600  # older than the two hours an anonymous session lasts
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
    client.post("/remember/old")
    monkeypatch.undo()
    expires = client.get_cookie("session").expires  # type: ignore[union-attr]
    assert expires is not None
    response = client.get("/recall")
    assert response.get_json() == EMPTY
    assert "session=;" in response.headers["Set-Cookie"]  # the useless cookie is deleted


@pytest.mark.parametrize("backend", BACKENDS)
def test_login_moves_the_session_to_the_backend_under_a_new_id(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    app = session_app(backend)
    client = app.test_client()
    client.post("/remember/red")
    anonymous = cookie_value(client)

    assert client.post("/login").status_code == 200
    sid = cookie_value(client)
    try:
        assert sid != anonymous and "." not in sid and "red" not in sid
        assert stored_in_backend(app, backend, sid)
        assert client.get("/recall").get_json() == {"value": "red", "visits": 1, "user": "ana"}
        client.post("/remember/green")
        assert cookie_value(client) == sid
        # Another app on the same configuration (another worker) reads the same session.
        other = session_app(backend).test_client()
        other.set_cookie("session", sid)
        assert other.get("/recall").get_json() == {"value": "green", "visits": 2, "user": "ana"}
        # The anonymous cookie from before the login is worth nothing more than before.
        planted = app.test_client()
        planted.set_cookie("session", anonymous)
        assert planted.get("/recall").get_json()["user"] is None
        # Without the cookie there is no session.
        assert app.test_client().get("/recall").get_json() == EMPTY
    finally:
        forget(app, backend, sid)


@pytest.mark.parametrize("backend", BACKENDS)
def test_regenerate_session_gives_a_stored_session_a_new_id_and_keeps_the_data(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    app = session_app(backend)
    client = app.test_client()
    client.post("/remember/red")
    client.post("/login")
    old_sid = cookie_value(client)

    assert client.post("/login").status_code == 200
    new_sid = cookie_value(client)
    try:
        assert new_sid != old_sid
        assert client.get("/recall").get_json() == {"value": "red", "visits": 1, "user": "ana"}
        assert stored_in_backend(app, backend, new_sid)
        assert not stored_in_backend(app, backend, old_sid)

        stolen = app.test_client()
        stolen.set_cookie("session", old_sid)
        assert stolen.get("/recall").get_json() == EMPTY
    finally:
        forget(app, backend, old_sid, new_sid)


def test_a_read_only_view_writes_the_stored_session_back_only_when_it_changed_it(
    session_app: Callable[[str], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = session_app("filesystem")
    client = app.test_client()
    client.post("/remember/red")
    client.post("/login")
    store = app.session_interface.store  # type: ignore[attr-defined]
    written: list[str] = []
    upsert = store._upsert_session
    monkeypatch.setattr(
        store, "_upsert_session", lambda *args: (written.append(str(args[-1])), upsert(*args))
    )

    recalled = client.get("/recall")
    assert recalled.status_code == 200
    assert written == []  # an ordinary view that only read it slides its expiry, never stores it
    assert "Set-Cookie" in recalled.headers  # ... and the cookie's
    peeked = client.get("/peek")
    assert peeked.get_json() == {"value": "red"} and written == []
    assert "Set-Cookie" not in peeked.headers and "Cookie" in peeked.headers["Vary"]
    assert client.post("/peek-and-count").get_json() == {"visits": 2}
    assert len(written) == 1 and client.get("/recall").get_json()["visits"] == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_response_for_shared_caches_carries_no_session_cookie(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    """A CDN keeping a year's copy of a file would hand the cookie sent with it to every later visitor."""
    app = session_app(backend)
    with signed_in(app, backend) as (client, _sid):
        assert "Set-Cookie" in client.get("/recall").headers  # an ordinary view slides the cookie's expiry
        logo = client.get("/logo")
        assert logo.status_code == 200 and "Set-Cookie" not in logo.headers
        assert "Cookie" not in logo.headers.get("Vary", "")
    anonymous = app.test_client()
    anonymous.post("/remember/red")  # a session in the signed cookie
    assert "Set-Cookie" not in anonymous.get("/logo").headers
    assert anonymous.get("/recall").get_json()["value"] == "red"


@pytest.mark.parametrize("backend", BACKENDS)
def test_end_session_deletes_the_stored_session_and_the_cookie(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    app = session_app(backend)
    with signed_in(app, backend) as (client, sid):
        response = client.post("/logout")
        assert "session=;" in response.headers["Set-Cookie"]
        assert client.get_cookie("session") is None
        assert not stored_in_backend(app, backend, sid)
        replayed = app.test_client()
        replayed.set_cookie("session", sid)
        assert replayed.get("/recall").get_json() == EMPTY


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cookie_that_is_no_session_is_an_empty_one_and_is_deleted(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    """A forged value never reaches the store as a lookup it would choke on (NUL, spaces, long keys)."""
    app = session_app(backend)
    for value in ("a" * 42 + "\x00", "a b c d e f g h i j k l m n o p", "x" * 3000, "\xe9" * 43):
        client = app.test_client()
        client.set_cookie("session", value)
        response = client.get("/recall")
        assert response.status_code == 200, repr(value[:50])
        assert response.get_json() == EMPTY
        assert "session=;" in response.headers.get("Set-Cookie", ""), repr(value[:50])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_id_of_a_session_that_is_gone_is_an_empty_one_whose_cookie_is_left(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    """A request that started before a logout (or a login) answered must not delete the cookie that answer
    set: the id of a server session that is no longer stored is read as an empty session, and its cookie is
    replaced only when something is stored in the session."""
    app = session_app(backend)
    client = app.test_client()
    client.set_cookie("session", "A" * 43)
    response = client.get("/recall")
    assert response.status_code == 200
    assert response.get_json() == EMPTY
    assert "Set-Cookie" not in response.headers
    client.post("/remember/blue")
    assert "." in cookie_value(client)  # now an anonymous signed cookie
    assert client.get("/recall").get_json()["value"] == "blue"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_flood_of_cookieless_requests_stores_no_session(
    session_app: Callable[[str], Flask], backend: str
) -> None:
    app = session_app(backend)
    before = stored_count(app, backend)
    for _ in range(200):
        response = app.test_client().post("/remember/x")
        assert "." in response.headers["Set-Cookie"].split(";")[0]
    assert stored_count(app, backend) == before


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_cookies_outside_dev_are_secure_httponly_lax(tmp_path: Path, make_app: AppFactory, env: str) -> None:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    app = make_app(project, {"SERVER_ENV": {"ENV": env}})
    client = app.test_client()
    anonymous = client.post("/remember/x", base_url="https://localhost").headers["Set-Cookie"]
    stored = client.post("/login", base_url="https://localhost").headers["Set-Cookie"]
    for cookie in (anonymous, stored):
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
    client = app.test_client()
    for path in ("/remember/x", "/login"):  # the anonymous cookie, then the stored session's
        cookie = client.post(path, base_url="https://localhost").headers["Set-Cookie"]
        assert cookie.startswith("shop_session=")
        assert "SameSite=Strict" in cookie and "Secure" in cookie


def test_the_anonymous_lifetime_can_be_configured(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    app = make_app(project, {"FLASK": {"CONFIG": {"ANONYMOUS_SESSION_LIFETIME": 60}}})
    client = app.test_client()
    client.post("/remember/x")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    assert 0 < (cookie.expires - datetime.now(UTC)).total_seconds() <= 61


def test_a_bad_anonymous_lifetime_names_the_key(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "sessions", {"server/web.py": VIEWS})
    with pytest.raises(ConfigError, match="ANONYMOUS_SESSION_LIFETIME"):
        make_app(project, {"FLASK": {"CONFIG": {"ANONYMOUS_SESSION_LIFETIME": "soon"}}})
