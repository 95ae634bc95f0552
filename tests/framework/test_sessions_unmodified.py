"""A request that did not modify its server session does not write it back (a request that read it before
another one stored a flash would otherwise write its older copy back last); the session's expiry in the
store and the cookie's still slide with every request, on every backend. And a request still carrying an
id that a login's second step, a password change or a logout replaced moments ago writes nothing: no old
session stored back, no cookie over the new one."""

from __future__ import annotations

import os
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pymemcache.exceptions import MemcacheUnexpectedCloseError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import create_engine, text

from conexoos.framework import sessions
from tests.conftest import AppFactory
from tests.support.services import fresh_database, require_memcached

from .helpers import write_project
from .test_sessions import BACKENDS, cookie_value, forget, prefix, session_overrides, stored_in_backend

VIEWS = """
    from flask import current_app, flash, get_flashed_messages, jsonify, session

    from conexoos.framework import end_session, regenerate_session


    def login():
        regenerate_session()
        session["user"] = "ana"
        return jsonify(user="ana")


    def notify(message):
        flash(message)
        return jsonify(flashed=message)


    def messages():
        return jsonify(messages=get_flashed_messages())


    def slow_read():
        user = session.get("user")
        current_app.config["WHILE_READING"]()  # the test stores something in the session meanwhile
        return jsonify(user=user)


    def recall():
        return jsonify(user=session.get("user"))


    def slow_write():
        user = session.get("user")
        current_app.config["WHILE_READING"]()
        session["note"] = "written late"  # a CSRF secret, a passkey challenge, a flash
        return jsonify(user=user)


    def rotate():
        regenerate_session()  # a login's second step, a password change
        return jsonify(rotated=True)


    def logout():
        end_session()
        return jsonify(user=None)


    class Route:
        def __init__(self, app):
            app.add_url_rule("/login", "login", login, methods=["POST"])
            app.add_url_rule("/notify/<message>", "notify", notify, methods=["POST"])
            app.add_url_rule("/messages", "messages", messages)
            app.add_url_rule("/slow-read", "slow_read", slow_read)
            app.add_url_rule("/recall", "recall", recall)
            app.add_url_rule("/slow-write", "slow_write", slow_write)
            app.add_url_rule("/rotate", "rotate", rotate, methods=["POST"])
            app.add_url_rule("/logout", "logout", logout, methods=["POST"])
"""
LIFETIME = timedelta(days=14)
SHORT = 100
"""Seconds of life the tests leave a stored session before an unmodified request slides it again."""


@pytest.fixture
def logged_in(tmp_path: Path, make_app: AppFactory) -> Iterator[Callable[[str], tuple[Flask, Any, str]]]:
    """An app on ``backend`` and a client signed in to it (its session id); the session is forgotten after."""
    project = write_project(tmp_path / "unmodified", {"server/web.py": VIEWS})
    app_name = f"unmodified-{secrets.token_hex(4)}"
    made: list[tuple[Flask, str, str]] = []
    databases = ExitStack()

    def make(backend: str) -> tuple[Flask, Any, str]:
        backend, _, kind = backend.partition(":")
        options = {"database_url": databases.enter_context(fresh_database(kind))} if kind else {}
        app = make_app(project, session_overrides(backend, app_name), **options)
        client = app.test_client()
        assert client.post("/login").status_code == 200
        sid = cookie_value(client)
        made.append((app, backend, sid))
        return app, client, sid

    yield make
    for app, backend, sid in made:
        forget(app, backend, sid)
    databases.close()


STORES = [
    *BACKENDS,
    *(pytest.param(f"sqlalchemy:{kind}", marks=pytest.mark.services) for kind in ("postgresql", "mariadb")),
]
"""Every backend; the database one on SQLite (the default), PostgreSQL and MariaDB."""


@pytest.mark.parametrize("backend", STORES)
def test_an_unmodified_session_does_not_overwrite_a_flash_stored_meanwhile(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str
) -> None:
    app, client, sid = logged_in(backend)
    reader = app.test_client()  # the dashboard's JSON call: the same cookie, another connection
    reader.set_cookie("session", sid)

    def store_a_flash() -> None:
        assert client.post("/notify/saved").status_code == 200

    answers = while_a_slow_read(app, reader, store_a_flash)
    assert answers == [{"user": "ana"}]
    assert client.get("/messages").get_json() == {"messages": ["saved"]}
    assert client.get("/messages").get_json() == {"messages": []}  # the flash, once shown, is gone


@pytest.mark.parametrize("backend", STORES)
def test_an_unmodified_session_still_slides_its_expiry_and_its_cookie(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str
) -> None:
    app, client, sid = logged_in(backend)
    backend = backend.partition(":")[0]
    key = prefix(app) + sid
    assert seconds_left(app, backend, key) > LIFETIME.total_seconds() - 60
    shorten(app, backend, key)
    assert seconds_left(app, backend, key) <= SHORT

    response = client.get("/recall")
    assert response.get_json() == {"user": "ana"}
    assert seconds_left(app, backend, key) > LIFETIME.total_seconds() - 60
    assert "Cookie" in response.headers["Vary"]
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.value == sid and cookie.expires is not None
    assert cookie.expires > datetime.now(UTC) + LIFETIME - timedelta(minutes=1)
    assert client.get("/recall").get_json() == {"user": "ana"}  # the data is still read back whole


@pytest.mark.parametrize("backend", STORES)
def test_an_expiry_refresh_does_not_bring_a_deleted_session_back(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str
) -> None:
    """A request that read the session before a logout elsewhere deleted it keeps it deleted."""
    app, client, sid = logged_in(backend)

    def log_out_elsewhere() -> None:
        store: Any = app.session_interface.store  # type: ignore[attr-defined]
        with app.app_context():
            store._delete_session(prefix(app) + sid)

    while_a_slow_read(app, client, log_out_elsewhere)
    other = app.test_client()
    other.set_cookie("session", sid)
    assert other.get("/recall").get_json() == {"user": None}


@pytest.mark.parametrize("backend", STORES)
def test_a_read_that_ends_after_a_logout_leaves_the_cookie_the_logout_set(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str
) -> None:
    """The dashboard's JSON calls still in flight when "Log out" answers do not set the old session's id
    again over the logout's cookie (which says where to sign out at the identity provider)."""
    app, client, sid = logged_in(backend)
    after_logout = "the-logout-answer.set-this.cookie"

    def log_out() -> None:
        store: Any = app.session_interface.store  # type: ignore[attr-defined]
        with app.app_context():
            store._delete_session(prefix(app) + sid)
        client.set_cookie("session", after_logout)

    assert while_a_slow_read(app, client, log_out) == [{"user": "ana"}]
    assert cookie_value(client) == after_logout


@pytest.mark.parametrize("backend", STORES)
def test_a_request_with_an_id_replaced_moments_ago_writes_nothing(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str
) -> None:
    """A form page requested before the second step's answer arrived: it is an anonymous visitor's, and
    sets no cookie over the new session's."""
    app, client, sid = logged_in(backend)
    assert client.post("/rotate").status_code == 200
    assert cookie_value(client) != sid
    app.config["WHILE_READING"] = lambda: None
    late = app.test_client()
    late.set_cookie("session", sid)
    answer = late.get("/slow-write")
    assert answer.get_json() == {"user": None}
    assert "Set-Cookie" not in answer.headers
    assert not stored_in_backend(app, backend.partition(":")[0], sid)
    assert client.get("/recall").get_json() == {"user": "ana"}


@pytest.mark.parametrize("backend", STORES)
def test_a_browser_that_lost_the_new_cookie_is_an_anonymous_visitor_again_soon(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-flight window, a request naming the replaced id gets a new anonymous cookie: a browser
    that never got the replacing answer could not log in again (its form's token was never kept) for the
    two minutes the id is remembered. The old id is still never stored back."""
    app, client, sid = logged_in(backend)
    assert client.post("/rotate").status_code == 200
    monkeypatch.setattr(sessions, "IN_FLIGHT_FOR", timedelta(0))
    app.config["WHILE_READING"] = lambda: None
    lost = app.test_client()
    lost.set_cookie("session", sid)
    answer = lost.get("/slow-write")
    assert answer.get_json() == {"user": None}
    assert cookie_value(lost) not in (None, sid)  # a new anonymous cookie: its next form works
    assert not stored_in_backend(app, backend.partition(":")[0], sid)
    assert client.get("/recall").get_json() == {"user": "ana"}


@pytest.mark.parametrize("backend", STORES)
@pytest.mark.parametrize("replace", ["/rotate", "/logout"])
def test_a_write_that_ends_after_its_id_was_replaced_is_not_stored_back(
    logged_in: Callable[[str], tuple[Flask, Any, str]], backend: str, replace: str
) -> None:
    """A JSON call that read the session, then stored something after the second step (or a logout)
    answered: the old id is not stored again, and its cookie is not set over the newer one."""
    app, client, sid = logged_in(backend)
    writer = app.test_client()  # the same browser's other connection
    writer.set_cookie("session", sid)
    newer: list[str | None] = []

    def replace_it() -> None:
        assert client.post(replace).status_code == 200
        cookie = client.get_cookie("session")
        newer.append(cookie.value if cookie else None)
        writer.set_cookie("session", newer[0] or "")

    assert while_a_slow_read(app, writer, replace_it, "/slow-write") == [{"user": "ana"}]
    assert not stored_in_backend(app, backend.partition(":")[0], sid)
    assert (writer.get_cookie("session").value or None) == newer[0]  # type: ignore[union-attr]
    expected = {"user": "ana"} if replace == "/rotate" else {"user": None}
    assert client.get("/recall").get_json() == expected


def while_a_slow_read(
    app: Flask, reader: Any, action: Callable[[], None], path: str = "/slow-read"
) -> list[Any]:
    """Run ``action`` while ``reader``'s ``GET path`` has read its session and not yet answered; what
    that read answered, once it has."""
    reading, done = threading.Event(), threading.Event()

    def while_reading() -> None:
        reading.set()
        assert done.wait(10), "the action did not finish"

    app.config["WHILE_READING"] = while_reading
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(reader.get(path).get_json()))
    thread.start()
    try:
        assert reading.wait(10), "the reader did not start"
        action()
    finally:
        done.set()
        thread.join(10)
    return answers


def seconds_left(app: Flask, backend: str, key: str) -> float:
    """How long the store itself still keeps the session ``key``, read from the store."""
    if backend == "redis":
        return float(app.extensions["conexoos"].services.redis.ttl(key))
    if backend == "memcached":
        return float(memcached_meta(f"mg {key} t").split(" t")[1])
    if backend == "sqlalchemy":
        with database(app) as connection:
            expiry = connection.execute(
                text("SELECT expiry FROM framework_sessions WHERE session_id = :key"), {"key": key}
            ).scalar_one()
        if isinstance(expiry, str):  # SQLite
            expiry = datetime.fromisoformat(expiry)
        return (expiry - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    with open(session_file(app, key), "rb") as file:
        return float(struct.unpack("I", file.read(4))[0] - time.time())


def shorten(app: Flask, backend: str, key: str) -> None:
    """Leave the session ``key`` only SHORT seconds in the store, as if its last request were long ago."""
    if backend == "redis":
        app.extensions["conexoos"].services.redis.expire(key, SHORT)
    elif backend == "memcached":
        assert memcached_meta(f"mg {key} T{SHORT}").startswith("HD")
    elif backend == "sqlalchemy":
        soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=SHORT)
        with database(app) as connection:
            connection.execute(
                text("UPDATE framework_sessions SET expiry = :soon WHERE session_id = :key"),
                {"soon": soon, "key": key},
            )
            connection.commit()
    else:
        descriptor = os.open(session_file(app, key), os.O_WRONLY)
        os.pwrite(descriptor, struct.pack("I", int(time.time()) + SHORT), 0)
        os.close(descriptor)


def memcached_meta(command: str) -> str:
    """One memcached meta command's answer line (pymemcache has no meta commands)."""
    conf = require_memcached()
    with socket.create_connection((conf["HOST"], conf["PORT"]), timeout=5) as connection:
        connection.sendall(command.encode() + b"\r\n")
        answer = b""
        while not answer.endswith(b"\r\n"):
            chunk = connection.recv(256)
            assert chunk, "memcached closed the connection"
            answer += chunk
    return answer.decode().strip()


class database:
    """A connection of its own to the app's database (not the app's session)."""

    def __init__(self, app: Flask) -> None:
        self.engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def __enter__(self) -> Any:
        self.connection = self.engine.connect()
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()
        self.engine.dispose()


def session_file(app: Flask, key: str) -> str:
    store: Any = app.session_interface.store  # type: ignore[attr-defined]
    return str(store.cache._get_filename(key))


@pytest.mark.services
@pytest.mark.parametrize(
    ("backend", "method", "error"),
    [
        ("redis", "expire", RedisConnectionError("refused")),
        ("memcached", "touch", MemcacheUnexpectedCloseError()),
    ],
)
def test_an_expiry_refresh_the_store_refuses_answers_503(
    logged_in: Callable[[str], tuple[Flask, Any, str]],
    backend: str,
    method: str,
    error: Exception,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store answered the read, then not the refresh: the response becomes the store's 503, as when a
    modified session cannot be saved, never a 500."""
    app, client, _ = logged_in(backend)
    store: Any = app.session_interface.store  # type: ignore[attr-defined]

    def refused(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(store.client, method, refused)
    response = client.get("/recall", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers
