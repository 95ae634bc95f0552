"""Anonymous Socket.IO connections cannot linger: the product refuses them and the framework closes them."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import simple_websocket

from tests.support.live_server import run_live_server

JOIN_TIMEOUT = {"SERVER_ENV": {"SOCKETIO_JOIN_TIMEOUT": 2}}


def engineio_socket(base_url: str) -> simple_websocket.Client:
    """A raw Engine.IO WebSocket that has received its open packet."""
    client = simple_websocket.Client.connect(
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
