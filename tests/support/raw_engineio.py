"""A raw-socket Engine.IO WebSocket client that behaves like an attacker: it answers pings, never the
close frame, and tells whether the server hangs up the TCP connection by itself."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import time

HANDSHAKE = (
    "GET /socket.io/?EIO=4&transport=websocket{sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def open_raw_engineio(port: int) -> socket.socket:
    """A WebSocket to ``/socket.io/`` on the loopback ``port`` that has received its Engine.IO open packet."""
    connection = _websocket(port, "")
    received = b""
    while b'"sid"' not in received:
        received += _recv(connection, received)
    assert b" 101 " in received.split(b"\r\n", 1)[0], received
    return connection


def upgrade_raw_engineio(port: int) -> socket.socket:
    """A long-polling Engine.IO session upgraded to a WebSocket (a new TCP connection), as browsers do."""
    polling = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        polling.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b'"upgrades"' not in received:
            received += _recv(polling, received)
    finally:
        polling.close()
    sid = json.loads(received[received.index(b"0{") + 1 :].split(b"}", 1)[0] + b"}")["sid"]
    connection = _websocket(port, sid)
    received = b""
    while b"\r\n\r\n" not in received:
        received += _recv(connection, received)
    assert b" 101 " in received.split(b"\r\n", 1)[0], received
    connection.sendall(text_frame("2probe"))
    while b"3probe" not in received:
        received += _recv(connection, received)
    connection.sendall(text_frame("5"))  # upgrade done: the session now lives on this connection
    return connection


def _websocket(port: int, sid: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall(HANDSHAKE.format(key=key, sid=f"&sid={sid}" if sid else "").encode())
    return connection


def _recv(connection: socket.socket, so_far: bytes) -> bytes:
    chunk = connection.recv(4096)
    assert chunk, f"the server closed the connection during the handshake: {so_far!r}"
    return chunk


def text_frame(text: str) -> bytes:
    """A masked client text frame (payloads under 126 bytes)."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def hung_up_within(connection: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server ends the TCP connection within ``seconds``, and everything it sent meanwhile.

    Engine.IO pings (``2``) are answered with pongs; a close frame is ignored, as a hostile client would.
    """
    deadline = time.monotonic() + seconds
    received = b""
    while time.monotonic() < deadline:
        connection.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
        try:
            chunk = connection.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
        if chunk.endswith(b"\x81\x012"):
            connection.sendall(text_frame("3"))
    return False, received


def polling_session(port: int) -> str:
    """The sid of a new Engine.IO long-polling session."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/socket.io/?EIO=4&transport=polling")
        body = connection.getresponse().read()
    finally:
        connection.close()
    return str(json.loads(body[1:].split(b"\x1e")[0])["sid"])


def polling_post(port: int, sid: str, body: bytes) -> tuple[int, bytes]:
    """POST ``body`` to the polling session ``sid``: its status and answer (a timeout raises)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", f"/socket.io/?EIO=4&transport=polling&sid={sid}", body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
