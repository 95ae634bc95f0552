"""``conexoos run`` under DEV: Werkzeug's debugger shows an error's traceback, but a WebSocket that closes
(Socket.IO's, ended by the client) is no error: it was a 500 and a ConnectionError traceback each time.
Then the development server read what followed the WebSocket on its connection as a new HTTP request
("Bad request syntax", a 400): the connection is closed when the WebSocket ends now."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import struct
import time
from pathlib import Path

from tests.support.websocket import WebSocketClient

from .helpers import write_project
from .test_cli import conexoos, free_port, http_get, server

CLOSE, TEXT = 0x8, 0x1
NORMAL_CLOSURE, GOING_AWAY = 1000, 1001


def test_a_closed_socketio_websocket_is_no_500_nor_a_bad_request_under_dev(tmp_path: Path) -> None:
    assert conexoos("new", "demo", cwd=tmp_path).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(
        ["run", "--project", "demo", "--port", str(port), "--no-reload"], tmp_path, base + "/"
    ) as log:
        for _ in range(2):
            client = WebSocketClient.connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket")
            assert client.receive(timeout=5).startswith('0{"sid"')  # Engine.IO's open packet
            client.send("40")  # Socket.IO's connect to the project's namespace
            assert client.receive(timeout=5).startswith("40")
            client.close()
        for _ in range(2):
            assert the_server_ends_it_and_a_frame_was_in_flight(port) == b""
            assert the_client_ends_it(port) == frame_from_server(CLOSE, struct.pack("!H", GOING_AWAY))
        time.sleep(0.5)  # the server ends the socket's request after the client's close
        assert http_get(base + "/no-such-page")[0] == 404
        written = ""
        for _ in range(50):  # the server writes its request line after answering
            written = log.read_text()
            if "/no-such-page" in written:
                break
            time.sleep(0.1)
    assert "GET /no-such-page" in written, written
    assert "Traceback" not in written and "ConnectionError" not in written and '" 500 ' not in written, (
        written
    )
    assert "Bad request" not in written and '" 400 ' not in written, written


def the_server_ends_it_and_a_frame_was_in_flight(port: int) -> bytes:
    """Engine.IO's close packet ends the WebSocket from the server's side; the client answers the server's
    close frame, and a frame of its own was on its way. What the server sends after its close frame, to the
    end of the connection (a 400 was written there, the frame read as a request line)."""
    with connected(port) as sock:
        sock.sendall(frame(TEXT, b"1"))
        assert read_until(sock, frame_from_server(CLOSE, struct.pack("!H", NORMAL_CLOSURE)))
        sock.sendall(frame(CLOSE, struct.pack("!H", NORMAL_CLOSURE)))
        time.sleep(0.2)  # simple-websocket's reader has taken the answer and stopped
        with contextlib.suppress(OSError):  # the server had closed the connection already, and said so
            sock.sendall(frame(TEXT, b"3"))
        return read_to_the_end(sock)


def the_client_ends_it(port: int) -> bytes:
    """The client closes, as a browser leaving the page does, and waits for the server to end the TCP
    connection (RFC 6455 7.1.1; it was held open until the client gave up): what the server sends."""
    with connected(port) as sock:
        sock.sendall(frame(CLOSE, struct.pack("!H", GOING_AWAY)))
        return read_to_the_end(sock)


def connected(port: int) -> socket.socket:
    """A TCP connection become a Socket.IO WebSocket, its connect packet answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert read_until(sock, b'0{"sid"')  # the 101 and Engine.IO's open packet
    sock.sendall(frame(TEXT, b"40"))
    assert read_until(sock, b"40{")
    return sock


def frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked client frame (the payload under 126 bytes)."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def frame_from_server(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked server frame."""
    return bytes([0x80 | opcode, len(payload)]) + payload


def read_until(sock: socket.socket, wanted: bytes) -> bytes:
    """What the server sends, until it has sent ``wanted``."""
    received = b""
    while wanted not in received:
        piece = sock.recv(65536)
        assert piece, f"closed before {wanted!r}: {received!r}"
        received += piece
    return received


def read_to_the_end(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection, which it must within 3 seconds."""
    sock.settimeout(3)
    received = b""
    while True:
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            raise AssertionError(f"the server kept the connection open; it sent {received!r}") from None
        if not piece:
            return received
        received += piece


SECRET_ROUTE = """
class Route:
    def __init__(self, app):
        app.add_url_rule("/reset/<token>", "reset", lambda token: "a reset page")
"""


def test_the_development_server_s_access_line_leaves_a_one_time_link_s_token_out(tmp_path: Path) -> None:
    """The app's access line wrote ``/reset/<token>``; Werkzeug's own line beside it wrote the token."""
    write_project(tmp_path / "site", {"server/web.py": SECRET_ROUTE})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secret = "eyJ1Ijo1LCJwIjoiYWJjIn0.Z3VkLm5vdC5hLnJlYWwudG9rZW4"
    with server(
        ["run", "--project", "site", "--port", str(port), "--no-reload"], tmp_path, base + "/reset/x"
    ) as log:
        assert http_get(f"{base}/reset/{secret}?token=also-secret")[0] == 200
        written = ""
        for _ in range(50):  # the server writes its request line after answering
            written = log.read_text()
            if "GET /reset/<token>?" in written:
                break
            time.sleep(0.1)
    assert "GET /reset/<token>?" in written, written
    assert secret not in written and "also-secret" not in written, written
