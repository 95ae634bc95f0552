"""Socket.IO: the project's handler receives the server, and events cross processes through Redis."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import socketio
import yaml
from flask_socketio import SocketIO

from conexoos.framework import runtime
from conexoos.framework.realtime import may_be_heard
from tests.conftest import AppFactory
from tests.support.redis_server import RedisServer
from tests.support.services import require_redis

from .helpers import free_port, port_open, python_process, wait_until, write_files, write_project

SOCKET_MODULE = """
    from flask_socketio import emit


    def shout(data):
        # broadcast=True reaches the clients of every server process through the message queue.
        emit("news", {"from": "shout", **data}, broadcast=True)


    class Handler:
        def __init__(self, socketio):
            socketio.on_event("shout", shout)
"""
SERVER = """
    import sys

    from conexoos.framework import create_app

    project, config, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = create_app(project, config)
    socketio = app.extensions["conexoos"].socketio
    socketio.run(app, host="127.0.0.1", port=port, debug=False, use_reloader=False, log_output=False,
                 allow_unsafe_werkzeug=True)
"""


class Listener:
    """A python-socketio client that records the ``news`` events it receives."""

    def __init__(self, url: str) -> None:
        self.received: list[dict[str, Any]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("news", self._on_news)
        self.client.connect(url, wait_timeout=10)

    def _on_news(self, data: dict[str, Any]) -> None:
        self.received.append(data)

    def has(self, expected: dict[str, Any]) -> bool:
        return wait_until(lambda: expected in self.received, timeout=10)


def test_socket_handler_receives_the_server(tmp_path: Path, make_app: AppFactory) -> None:
    app = make_app(write_project(tmp_path / "sockets", {"server/socket.py": SOCKET_MODULE}))
    with app.app_context():
        server = runtime().socketio
    first, second = server.test_client(app), server.test_client(app)
    first.emit("shout", {"id": "local"})
    expected = [{"name": "news", "args": [{"from": "shout", "id": "local"}], "namespace": "/"}]
    assert first.get_received() == expected
    assert second.get_received() == expected
    first.disconnect()
    second.disconnect()


JOIN_MODULE = """
    from flask_socketio import join_room


    class Handler:
        def __init__(self, socketio):
            socketio.on_event("join", lambda data: join_room(data["room"]))
"""


def test_an_event_is_heard_in_a_room_of_this_process_or_anywhere_through_a_queue(
    tmp_path: Path, make_app: AppFactory, bare_project: Path
) -> None:
    """Without a message queue, only a room a client of this process joined can hear an event (a sender
    skips the rest); with Redis any room may be heard on another process."""
    app = make_app(write_project(tmp_path / "rooms", {"server/socket.py": JOIN_MODULE}))
    server = app.extensions["conexoos"].socketio
    assert not may_be_heard(server, "owner:7")
    client = server.test_client(app)
    assert not may_be_heard(server, "owner:7")  # connected, in its own room only
    client.emit("join", {"room": "owner:7"})
    assert may_be_heard(server, "owner:7") and not may_be_heard(server, "owner:8")
    client.disconnect()
    assert not may_be_heard(server, "owner:7")

    queued = make_app(bare_project, {"SERVICES": {"redis": require_redis()}}).extensions["conexoos"]
    assert may_be_heard(queued.socketio, "owner:8")


def test_socketio_uses_redis_as_message_queue_when_configured(
    tmp_path: Path, make_app: AppFactory, bare_project: Path
) -> None:
    redis_entry = require_redis()
    app = make_app(bare_project, {"SERVICES": {"redis": redis_entry}})
    manager = app.extensions["conexoos"].socketio.server.manager
    assert isinstance(manager, socketio.RedisManager)
    assert (
        make_app(bare_project).extensions["conexoos"].socketio.server.manager.__class__.__name__
        != "RedisManager"
    )


@pytest.mark.services
def test_an_event_crosses_processes_through_redis(tmp_path: Path) -> None:
    redis_entry = require_redis()
    project = write_project(tmp_path / "sockets", {"server/socket.py": SOCKET_MODULE})
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "SERVER_ENV": {
                    "APP_KEY": "socket-key-" + "s" * 40,
                    "INSTANCE_PATH": str(tmp_path / "instance"),
                },
                "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'socket.db'}"}},
                "SERVICES": {"redis": redis_entry},
                "FLASK": {"CONFIG": {"DEBUG": False}},
            }
        ),
        encoding="utf-8",
    )
    scripts = write_files(tmp_path, {"server.py": SERVER})
    redis_url = f"redis://{redis_entry['HOST']}:{redis_entry['PORT']}/{redis_entry['DB']}"
    port_a, port_b = free_port(), free_port()
    token = uuid.uuid4().hex

    with (
        python_process(
            scripts / "server.py", str(project), str(config), str(port_a), log=tmp_path / "a.log"
        ) as server_a,
        python_process(
            scripts / "server.py", str(project), str(config), str(port_b), log=tmp_path / "b.log"
        ) as server_b,
    ):
        up = wait_until(
            lambda: (
                (port_open(port_a) and port_open(port_b))
                or server_a.poll() is not None
                or server_b.poll() is not None
            ),
            timeout=60,
        )
        assert up and server_a.poll() is None and server_b.poll() is None, (
            tmp_path / "a.log"
        ).read_text() + (tmp_path / "b.log").read_text()
        on_a = Listener(f"http://127.0.0.1:{port_a}")
        on_b = Listener(f"http://127.0.0.1:{port_b}")
        try:
            # A client of server B triggers a broadcast that the client of server A receives.
            on_b.client.emit("shout", {"id": token})
            assert on_a.has({"from": "shout", "id": token}), on_a.received
            assert on_b.has({"from": "shout", "id": token}), on_b.received

            # This test's own process, which is no server at all, emits through the same Redis.
            SocketIO(message_queue=redis_url).emit("news", {"from": "emitter", "id": token})
            assert on_a.has({"from": "emitter", "id": token}), on_a.received
            assert on_b.has({"from": "emitter", "id": token}), on_b.received
        finally:
            on_a.client.disconnect()
            on_b.client.disconnect()


@pytest.mark.services
def test_live_events_while_redis_is_down_log_one_line_per_outage(
    make_app: AppFactory, bare_project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer()
    try:
        app = make_app(bare_project, {"SERVICES": {"redis": server.service}})
        socketio_ = app.extensions["conexoos"].socketio
        with caplog.at_level("INFO"):
            for number in range(20):  # Redis not started: every publish fails
                socketio_.emit("stats", {"n": number}, namespace="/")
            server.start()
            socketio_.emit("stats", {"n": "back"}, namespace="/")
        lines = [record.getMessage() for record in caplog.records if "redis" in record.getMessage().lower()]
        assert len(lines) == 2, lines
        assert lines[0].startswith("live events: cannot publish to Redis (ConnectionError: ")
        assert "\n" not in lines[0]
        assert lines[1] == "live events: Redis answers again; 20 event(s) were dropped meanwhile"
    finally:
        server.close()


@pytest.mark.parametrize(
    ("packet", "said"),
    [
        ('2["shout", {"id": ', "Expecting value"),
        ("9", "type 9 is not one a client sends"),
        ('4{"message": "forged"}', "type 4 is not one a client sends"),
        ("x", "invalid literal for int()"),
    ],
)
def test_a_malformed_packet_disconnects_its_client_in_one_warning_line(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture, packet: str, said: str
) -> None:
    """python-socketio raised on these, and Engine.IO logged each with its traceback."""
    app = make_app(write_project(tmp_path / "sockets", {"server/socket.py": SOCKET_MODULE}))
    server = app.extensions["conexoos"].socketio
    client, other = server.test_client(app), server.test_client(app)
    manager = server.server.manager

    def connected(test_client: Any) -> bool:
        return bool(manager.is_connected(manager.sid_from_eio_sid(test_client.eio_sid, "/"), "/"))

    assert connected(client)
    with caplog.at_level("WARNING", logger="conexoos.realtime"):
        server.server._handle_eio_message(client.eio_sid, packet)
    assert not connected(client)
    assert connected(other)  # the others go on
    warnings = [record for record in caplog.records if record.name == "conexoos.realtime"]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "a client's packet is malformed" in warnings[0].getMessage()
    assert said in warnings[0].getMessage()
    other.emit("shout", {"id": "still"})
    assert other.get_received()[-1]["args"] == [{"from": "shout", "id": "still"}]
    other.disconnect()


def test_a_request_engineio_refuses_is_a_warning_line_not_an_error(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Engine.IO logged the first refusal of each kind in every process at ERROR: any client put ERROR lines
    in the operator's log. A problem of the server's own stays at ERROR."""
    app = make_app(write_project(tmp_path / "sockets", {"server/socket.py": SOCKET_MODULE}))
    client = app.test_client()
    with caplog.at_level("INFO"):
        for query in ("EIO=3&transport=polling", "EIO=4&transport=websocket", "EIO=4&sid=%0aFORGED"):
            assert client.get(f"/socket.io/?{query}").status_code == 400
        logged = [(record.name, record.levelname, record.getMessage()) for record in caplog.records]
        assert [line for line in logged if line[1] == "ERROR"] == []
        assert logged == [
            (
                "conexoos.realtime",
                "WARNING",
                "Engine.IO refused a client's request: The client is using an unsupported version of the "
                "Socket.IO or Engine.IO protocols",  # the next ones counted, said with the next line
            )
        ]
        caplog.clear()
        engine = app.extensions["conexoos"].socketio.server.eio
        engine._log_error_once("The WebSocket transport is not available", "no-websocket")
    assert [(record.name, record.levelname) for record in caplog.records] == [("engineio.server", "ERROR")]


@pytest.mark.parametrize(
    ("headers", "status", "said"),
    [
        ({}, 400, "Sec-WebSocket-Version"),
        ({"Sec-WebSocket-Version": "8"}, 426, "WebSocket version '8' is not supported; only 13 is"),
        ({"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": None}, 400, "Sec-WebSocket-Key"),
        ({"Sec-WebSocket-Version": "13", "Connection": "keep-alive"}, 400, "Connection"),
        ({"Sec-WebSocket-Version": "13", "Connection": "Upgrade, é"}, 400, "not ASCII"),
    ],
)
def test_a_websocket_upgrade_wsproto_would_refuse_is_refused_before_a_session_opens(
    tmp_path: Path,
    make_app: AppFactory,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, Any],
    status: int,
    said: str,
) -> None:
    """simple-websocket's handshake raised once Engine.IO had opened the session: a 500 and a traceback."""
    app = make_app(write_project(tmp_path / "sockets", {"server/socket.py": SOCKET_MODULE}))
    sent = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    sent = {name: value for name, value in {**sent, **headers}.items() if value is not None}
    with caplog.at_level("INFO"):
        answer = app.test_client().get("/socket.io/?EIO=4&transport=websocket", headers=sent)
    assert answer.status_code == status
    assert answer.headers["Sec-WebSocket-Version"] == "13"
    assert app.extensions["conexoos"].socketio.server.eio.sockets == {}
    logged = [(record.name, record.levelname) for record in caplog.records]
    assert logged == [("conexoos.realtime", "WARNING")]
    assert "WebSocket handshake" in caplog.records[0].getMessage()
    assert said in answer.get_data(as_text=True) and said in caplog.records[0].getMessage()
