"""Live updates: a counted click reaches its owner's dashboards over Socket.IO, and nobody else's.

In one process through Flask-SocketIO's test client; and across processes sharing Redis: a real server in a
subprocess holds the dashboard's socket while this process records the click.
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import select

from conexoos.app.controllers.session_sockets import EXTENSION as SESSION_SOCKETS
from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.framework import db
from tests.app.analytics_support import flush_events
from tests.conftest import AppFactory
from tests.support.services import require_redis

from .analytics_support import ANALYTICS_OVERRIDES, Visitor, analytics_app, count_events
from .conftest import PASSWORD, Account, sign_up

EVENT = "stats:event"
SERVER_START_TIMEOUT = 30.0
DELIVERY_TIMEOUT = 10.0
SILENCE = 0.5
"""How long a socket that should get nothing is watched after the owner's socket got the event."""
_FORM_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product configured for the analytics tests."""
    return analytics_app(make_app)


def dashboard_socket(app: Flask, browser: FlaskClient | None = None) -> SocketIOTestClient:
    """A Socket.IO connection as the dashboard opens it, with ``browser``'s session (None: anonymous)."""
    socketio_server = app.extensions["conexoos"].socketio
    return socketio_server.test_client(app, flask_test_client=browser)  # type: ignore[no-any-return]


def stats_events(connection: SocketIOTestClient) -> list[dict[str, Any]]:
    """The ``stats:event`` payloads received since the last call."""
    return [packet["args"][0] for packet in connection.get_received() if packet["name"] == EVENT]


def recorded_events(app: Flask) -> list[AnalyticsEvent]:
    flush_events(app)  # as the task analytics-buffer-flush does
    """Every stored event, oldest first."""
    with app.app_context():
        events = db.session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)).all()
        db.session.expunge_all()
        return list(events)


# ---------------------------------------------------------------- one process


def test_the_owners_socket_receives_the_click_and_another_users_does_not(
    app: Flask, alice: Account, bob: Account
) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    bobs_link = bob.add_link("Bob's", "https://bob.example/")["id"]
    owner = dashboard_socket(app, alice.client)
    other = dashboard_socket(app, bob.client)
    assert owner.is_connected() and other.is_connected()
    for connection in (owner, other):
        connection.get_received()  # drop anything sent on connect

    Visitor().click(app.test_client(), link)

    [event] = recorded_events(app)
    assert stats_events(owner) == [
        {"kind": "click", "link_id": link, "occurred_at": event.occurred_at.isoformat()}
    ]
    assert stats_events(other) == []

    Visitor().click(app.test_client(), bobs_link)
    assert [payload["link_id"] for payload in stats_events(other)] == [bobs_link]
    assert stats_events(owner) == []


def test_every_open_dashboard_of_the_owner_receives_the_click(app: Flask, alice: Account) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    laptop = dashboard_socket(app, alice.client)
    second_login = sign_up_again(app, alice)
    phone = dashboard_socket(app, second_login)
    Visitor().click(app.test_client(), link)
    assert [payload["link_id"] for payload in stats_events(laptop)] == [link]
    assert [payload["link_id"] for payload in stats_events(phone)] == [link]


def sign_up_again(app: Flask, account: Account) -> FlaskClient:
    """A second browser logged in as ``account`` through the real log-in form."""
    browser = app.test_client()
    page = browser.get("/login")
    match = _FORM_TOKEN.search(page.get_data(as_text=True))
    assert match, "the log-in page has no csrf_token"
    response = browser.post(
        "/login", data={"csrf_token": match.group(1), "login": account.username, "password": account.password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def test_a_socket_ends_with_the_session_it_was_opened_in(app: Flask, alice: Account) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    laptop = dashboard_socket(app, alice.client)
    second_login = sign_up_again(app, alice)
    phone = dashboard_socket(app, second_login)
    assert laptop.is_connected() and phone.is_connected()
    token = _FORM_TOKEN.search(second_login.get("/settings/security").get_data(as_text=True))
    assert token
    assert second_login.post("/logout", data={"csrf_token": token.group(1)}).status_code == 302
    sockets = app.extensions[SESSION_SOCKETS]
    with app.app_context():
        assert len(sockets.sweep()) == 1  # as the sweep every SWEEP_SECONDS does
    assert not phone.is_connected() and laptop.is_connected()
    laptop.get_received()
    Visitor().click(app.test_client(), link)
    assert [payload["link_id"] for payload in stats_events(laptop)] == [link]
    with app.app_context():
        assert sockets.sweep() == []  # a live session's socket stays


def test_an_anonymous_socket_is_refused(app: Flask, alice: Account) -> None:
    anonymous = dashboard_socket(app, app.test_client())
    assert not anonymous.is_connected()
    assert not dashboard_socket(app).is_connected()


def test_a_click_that_is_not_counted_is_not_announced(app: Flask, alice: Account) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    owner = dashboard_socket(app, alice.client)
    owner.get_received()

    Visitor(user_agent="facebookexternalhit/1.1").click(app.test_client(), link)
    Visitor().click(alice.client, link)  # the owner's own click
    assert stats_events(owner) == []
    assert count_events(app) == 0

    Visitor().click(app.test_client(), link)
    assert len(stats_events(owner)) == 1


def test_after_logging_out_the_dashboard_socket_is_refused(app: Flask, alice: Account) -> None:
    assert dashboard_socket(app, alice.client).is_connected()
    assert alice.client.post("/logout", data={"csrf_token": alice.csrf}).status_code == 302
    assert not dashboard_socket(app, alice.client).is_connected()


# ---------------------------------------------------------------- two processes sharing Redis


@dataclass
class ServerProcess:
    """The app served by ``conexoos run`` in a subprocess."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(server: ServerProcess) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if requests.get(server.url + "/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    output = server.log.read_text(errors="replace")[-3000:]
    raise AssertionError(
        f"the server in a subprocess did not start within {SERVER_START_TIMEOUT:.0f} s:\n{output}"
    )


@pytest.fixture
def redis_settings() -> dict[str, object]:
    """SERVICES.redis for the test Redis (skips, or fails under CONEXOOS_REQUIRE_SERVICES=1, without it)."""
    return require_redis()


@pytest.fixture
def site_name() -> str:
    """The APP_NAME both processes share: the keys they keep in the shared Redis (the write buffer's
    stream among them) are this site's alone, never another test's running at the same time."""
    return f"live{uuid.uuid4().hex[:12]}"


@pytest.fixture
def shared_database(tmp_path: Path) -> str:
    """The SQLite file both processes use."""
    return f"sqlite:///{tmp_path / 'shared.db'}"


@pytest.fixture
def served(
    tmp_path: Path, shared_database: str, redis_settings: dict[str, object], site_name: str
) -> Iterator[ServerProcess]:
    """``conexoos run`` on a free port with SERVICES.redis, its own instance folder, the shared database."""
    port = _free_port()
    config = {
        "SERVER_ENV": {
            "ENV": "DEV",
            "APP_NAME": site_name,
            "APP_KEY": "live-updates-key-" + "r" * 40,
            "INSTANCE_PATH": str(tmp_path / "server-instance"),
            "BIND": {"ADDRESS": "127.0.0.1", "PORT": port},
        },
        "DATABASE": {"default": "main", "main": {"url": shared_database}},
        "SERVICES": {"redis": redis_settings},
        **{key: value for key, value in ANALYTICS_OVERRIDES.items() if key in ("FLASK", "APP")},
    }
    config_file = tmp_path / "server-config.json"
    config_file.write_text(json.dumps(config))
    log = tmp_path / "server.log"
    command = [
        str(Path(sys.executable).with_name("conexoos")),
        "run",
        "--config",
        str(config_file),
        "--no-reload",
    ]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CONEXOOS_")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=tmp_path
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _log_in(server: ServerProcess, username: str) -> str:
    """Log in over HTTP to the subprocess; returns the Cookie header a browser would send."""
    browser = requests.Session()
    page = browser.get(server.url + "/login", timeout=10)
    match = _FORM_TOKEN.search(page.text)
    assert match, "the log-in page has no csrf_token"
    response = browser.post(
        server.url + "/login",
        data={"csrf_token": match.group(1), "login": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies)


def _socket_client(server: ServerProcess, cookie: str | None) -> tuple[socketio.Client, queue.Queue[Any]]:
    received: queue.Queue[Any] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on(EVENT, received.put)
    headers = {"Cookie": cookie} if cookie else {}
    client.connect(server.url, headers=headers, wait_timeout=10)
    return client, received


@pytest.mark.services
def test_a_click_in_another_process_reaches_the_owners_socket_through_redis(
    make_app: AppFactory,
    served: ServerProcess,
    shared_database: str,
    redis_settings: dict[str, object],
    site_name: str,
) -> None:
    # This process is the second one: it records the click and publishes the event to Redis.
    recorder = analytics_app(
        make_app,
        SERVICES={"redis": redis_settings},
        DATABASE={"main": {"url": shared_database}},
        SERVER_ENV={"APP_NAME": site_name},
    )
    assert recorder.extensions["conexoos"].socketio.server_options["client_manager"] is not None
    alice = sign_up(recorder, "alice")
    sign_up(recorder, "bob")
    link = alice.add_link("Shop", "https://shop.example/")["id"]

    owner, owner_events = _socket_client(served, _log_in(served, "alice"))
    other, other_events = _socket_client(served, _log_in(served, "bob"))
    with pytest.raises(socketio.exceptions.ConnectionError):
        _socket_client(served, None)
    try:
        # The write buffer's stream is on the shared Redis (under this site's name): the events already in it
        # are flushed first.
        before = {event.id for event in recorded_events(recorder)}
        Visitor().click(recorder.test_client(), link)
        [event] = [event for event in recorded_events(recorder) if event.id not in before]
        expected = {"kind": "click", "link_id": link, "occurred_at": event.occurred_at.isoformat()}

        # The Redis channel is shared with anything else using it: wait for this very event.
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        seen: list[Any] = []
        while expected not in seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the owner's socket got no event in {DELIVERY_TIMEOUT:.0f} s; got {seen}"
            try:
                seen.append(owner_events.get(timeout=remaining))
            except queue.Empty:
                continue
        time.sleep(SILENCE)
        leaked = [payload for payload in list(other_events.queue) if payload == expected]
        assert leaked == [], "another user's socket received the owner's click"
    finally:
        owner.disconnect()
        other.disconnect()
