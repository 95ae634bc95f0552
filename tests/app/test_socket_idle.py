"""Anonymous Socket.IO connections cannot linger: the product refuses them and the framework closes them."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
import simple_websocket
import socketio

from tests.support.live_server import run_live_server
from tests.support.raw_engineio import (
    hung_up_within,
    open_raw_engineio,
    polling_post,
    polling_session,
    text_frame,
    upgrade_raw_engineio,
)
from tests.support.services import require_redis
from tests.support.websocket import WebSocketClient

JOIN_TIMEOUT = {"SERVER_ENV": {"SOCKETIO_JOIN_TIMEOUT": 2}}


def engineio_socket(base_url: str) -> simple_websocket.Client:
    """A raw Engine.IO WebSocket that has received its open packet."""
    client = WebSocketClient.connect(
        base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    )
    assert str(client.receive(timeout=5)).startswith("0{")
    return client


def closed_within(client: simple_websocket.Client, seconds: float) -> bool:
    """Whether the server closes ``client`` within ``seconds`` (pings are answered meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message = client.receive(timeout=0.5)
        except simple_websocket.ConnectionClosed:
            return True
        if message == "2":
            client.send("3")
    return False


def test_a_socket_that_never_joins_is_closed(tmp_path: Path) -> None:
    with run_live_server(tmp_path, JOIN_TIMEOUT) as server:
        client = engineio_socket(server.url)
        try:
            assert closed_within(client, 8)
        finally:
            with contextlib.suppress(simple_websocket.ConnectionClosed):
                client.close()


def test_an_anonymous_socket_is_refused_then_closed(tmp_path: Path) -> None:
    with run_live_server(tmp_path, JOIN_TIMEOUT) as server:
        client = engineio_socket(server.url)
        try:
            client.send("40")
            assert str(client.receive(timeout=5)).startswith("44")  # CONNECT_ERROR: not logged in
            assert closed_within(client, 8)
        finally:
            with contextlib.suppress(simple_websocket.ConnectionClosed):
                client.close()


def abandon_a_polling_session(port: int) -> None:
    """Open an Engine.IO long-polling session and never poll again (nothing ever reads its close packet)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/socket.io/?EIO=4&transport=polling")
        response = connection.getresponse()
        assert response.status == 200
        assert response.read().startswith(b"0{")
    finally:
        connection.close()


def redis_queue(folder: Path) -> dict[str, Any]:
    """JOIN_TIMEOUT with Redis as the Socket.IO message queue, on a channel of this test's own."""
    return {
        "SERVER_ENV": {"SOCKETIO_JOIN_TIMEOUT": 2, "APP_NAME": f"sockidle{os.getpid()}{abs(hash(folder))}"},
        "SERVICES": {"redis": {**require_redis(), "DB": 7}},
    }


def test_a_client_that_ignores_the_close_frame_loses_its_tcp_connection(tmp_path: Path) -> None:
    with run_live_server(tmp_path, JOIN_TIMEOUT) as server:
        connection = open_raw_engineio(server.port)
        started = time.monotonic()
        try:
            hung_up, received = hung_up_within(connection, 8)
        finally:
            connection.close()
    assert hung_up, f"the server kept the TCP connection open; it sent {received!r}"
    assert b"\x88" in received  # the WebSocket close frame came first
    assert time.monotonic() - started < 6


def test_an_abandoned_polling_session_does_not_stop_the_deadline(tmp_path: Path) -> None:
    with run_live_server(tmp_path, JOIN_TIMEOUT) as server:
        abandon_a_polling_session(server.port)
        time.sleep(3.5)  # its deadline has passed: the sweeper has closed it
        connection = open_raw_engineio(server.port)
        try:
            hung_up, received = hung_up_within(connection, 8)
        finally:
            connection.close()
    assert hung_up, f"the server kept the TCP connection open; it sent {received!r}"


def test_with_redis_as_message_queue_a_refused_socket_is_still_cut_off(tmp_path: Path) -> None:
    with run_live_server(tmp_path, redis_queue(tmp_path)) as server:
        assert isinstance(server.app.extensions["conexoos"].socketio.server.manager, socketio.RedisManager)
        abandon_a_polling_session(server.port)
        connection = open_raw_engineio(server.port)
        try:
            connection.sendall(text_frame("40"))
            hung_up, received = hung_up_within(connection, 9)
        finally:
            connection.close()
    assert b"44{" in received  # CONNECT_ERROR: not logged in
    assert hung_up, f"the server kept the TCP connection open; it sent {received!r}"


def test_an_upgraded_polling_session_that_ignores_the_close_frame_loses_its_tcp_connection(
    tmp_path: Path,
) -> None:
    with run_live_server(tmp_path, JOIN_TIMEOUT) as server:
        connection = upgrade_raw_engineio(server.port)
        try:
            hung_up, received = hung_up_within(connection, 8)
        finally:
            connection.close()
    assert b"\x88" in received  # the WebSocket close frame came first
    assert hung_up, f"the server kept the TCP connection open; it sent {received!r}"


def polling_handshake(base_url: str, origin: str, host: str | None = None) -> int:
    """The status of an Engine.IO polling handshake sent with ``Origin`` (and a forged ``Host``)."""
    parts = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(parts[0], int(parts[1]), timeout=10)
    headers = {"Origin": origin}
    if host is not None:
        headers["Host"] = host
    try:
        connection.request("GET", "/socket.io/?EIO=4&transport=polling", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_sockets_are_accepted_from_the_public_origin_not_from_the_host_header(tmp_path: Path) -> None:
    """Behind a proxy the Host header may differ from the public address: PUBLIC_URL's origin decides."""
    with run_live_server(tmp_path, JOIN_TIMEOUT) as server:
        assert polling_handshake(server.url, server.url) == 200
        assert polling_handshake(server.url, "http://evil.example", host="evil.example") == 400
        assert polling_handshake(server.url, server.url, host="links.internal:8080") == 200


@pytest.mark.parametrize("packet", [b"0", b"2", b"6", b"7", b"9"])
def test_a_polling_packet_engineio_cannot_take_is_answered_at_once_and_ends_the_session(
    tmp_path: Path, packet: bytes
) -> None:
    """Engine.IO waited forever for a poll that would read its close packet: the POST was never answered,
    its thread and connection held, and a later POST of the session was a 500 ("Session is disconnected")."""
    with run_live_server(tmp_path) as server:
        sid = polling_session(server.port)
        started = time.monotonic()
        status, _ = polling_post(server.port, sid, packet)
        assert status == 400 and time.monotonic() - started < 3
        assert polling_post(server.port, sid, b"40") == (400, f'"Invalid session {sid}"'.encode())
        other = polling_session(server.port)  # the server goes on serving others
        assert polling_post(server.port, other, b"3")[0] == 200


def test_a_post_on_a_session_its_client_just_closed_is_a_400_not_a_500(tmp_path: Path) -> None:
    """A close packet (1) leaves the closed socket known for a while: Engine.IO's KeyError ("Session is
    disconnected") for a POST on it was a 500 with a traceback."""
    with run_live_server(tmp_path) as server:
        sid = polling_session(server.port)
        assert polling_post(server.port, sid, b"1")[0] == 200
        assert polling_post(server.port, sid, b"40") == (400, f'"Invalid session {sid}"'.encode())


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe",
        b"4\xff",
        b"bAAA",
        b"bQUJD!!",
        b"b!!!",
        b"d=b%40%40",
        b"d=%ff",
        b"d=",
        b"\x1e".join([b"3"] * 17),
    ],
    ids=[
        "not-utf-8",
        "not-utf-8-after-a-type",
        "not-base64",
        "base64-and-more",
        "no-base64-at-all",
        "jsonp-not-base64",
        "jsonp-not-a-type",
        "jsonp-empty",
        "17-packets",
    ],
)
def test_a_polling_post_engineio_cannot_read_is_a_400_that_ends_the_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    """Engine.IO logged a traceback for each such POST and answered 200 "OK", the session living on: any
    visitor could fill the log, a traceback a request."""
    caplog.set_level(logging.WARNING)
    with run_live_server(tmp_path) as server:
        sid = polling_session(server.port)
        assert polling_post(server.port, sid, body) == (400, b'"Bad Request"')
        assert polling_post(server.port, sid, b"40") == (400, f'"Invalid session {sid}"'.encode())
        assert polling_post(server.port, polling_session(server.port), b"3")[0] == 200  # others go on
    assert tracebacks(caplog) == []
    assert "a long-polling POST cannot be read" in caplog.text


@pytest.mark.parametrize("body", [b"4", b"b"], ids=["empty-text", "empty-binary"])
def test_an_empty_message_is_a_malformed_packet_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    """Socket.IO skipped decoding an empty message and took it for an event without data, whose handler
    failed with a traceback in the log."""
    caplog.set_level(logging.WARNING)
    with run_live_server(tmp_path) as server:
        sid = polling_session(server.port)
        assert polling_post(server.port, sid, body)[0] == 200
    assert tracebacks(caplog) == []
    assert "a client's packet is malformed (it is empty)" in caplog.text


def test_a_flood_of_unreadable_posts_is_one_warning_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each unreadable POST or malformed packet was a warning line: anyone could still fill the log."""
    caplog.set_level(logging.WARNING)
    with run_live_server(tmp_path) as server:
        for _ in range(5):
            assert polling_post(server.port, polling_session(server.port), b"\xff")[0] == 400
            assert polling_post(server.port, polling_session(server.port), b"4")[0] == 200
    messages = [record.getMessage() for record in caplog.records]
    assert sum("a long-polling POST cannot be read" in message for message in messages) == 1
    assert sum("a client's packet is malformed" in message for message in messages) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"42",
        b"42[]",
        b"421",
        b'42{"a":1}',
        b"42[1]",
        b"4-1",
        b"4null",
        b"4false",
        b"45",
        b"46",
        b"43",
        b"42" + b"[" * 100_000,
        b"d=42%5B%5D",
        b'451-["x",{"_placeholder":true,"num":0}]',
    ],
)
def test_a_packet_socketio_cannot_handle_is_a_warning_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    """Each was a traceback in the log ("message handler error": TypeError, IndexError, KeyError,
    RecursionError, "Unexpected binary packet"), a request, with no login, and the client stayed."""
    caplog.set_level(logging.WARNING)
    with run_live_server(tmp_path) as server:
        sid = polling_session(server.port)
        assert polling_post(server.port, sid, body)[0] == 200
        assert polling_post(server.port, polling_session(server.port), b"3")[0] == 200  # others go on
    assert tracebacks(caplog) == []
    assert (
        "Socket.IO: a client's packet is malformed" in caplog.text
        or "unexpected binary packet" in caplog.text
    )
