"""``conexoos serve`` with its defaults: gevent workers that slow clients cannot exhaust, graceful stops.

Every server here is the real command (gunicorn master, gevent worker) on a loopback port, stopped in a
``finally`` block by the shared helper.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
import simple_websocket

from conexoos.framework.config import load_settings
from conexoos.framework.serve import gunicorn_options
from tests.framework.test_cli import server
from tests.support.certificates import self_signed
from tests.support.green_server import new_port, open_slow_header, serve_args, write_green_project
from tests.support.raw_engineio import (
    hung_up_within,
    open_raw_engineio,
    polling_post,
    polling_session,
    upgrade_raw_engineio,
)
from tests.support.services import require_redis
from tests.support.websocket import WebSocketClient


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, str]:
    """GET ``path`` on the loopback ``port``: status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_defaults_are_gevent_workers_with_bounded_heads() -> None:
    options = gunicorn_options(load_settings(None, environ={}))
    assert options["worker_class"] == "gevent"
    assert options["keepalive"] == 10  # gevent workers bound the read of a request head by it
    assert options["worker_connections"] == 1000
    assert options["graceful_timeout"] == 30
    assert options["secure_scheme_headers"] == {}  # X-Forwarded-Proto is the app's business


def test_workers_are_patched_before_psycopg_and_socketio_is_green(tmp_path: Path) -> None:
    port = new_port()
    project = write_green_project(tmp_path / "green", port)
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        status, body = get(port, "/whoami")
    seen = json.loads(body)
    assert status == 200
    assert seen["patched"] is True
    assert seen["socketio_mode"] == "gevent"
    # wait_c would block the whole worker during a query: psycopg chose it if imported before patching.
    assert seen["psycopg_wait"] != "wait_c"
    assert seen["page_url"] == f"http://127.0.0.1:{port}/"


def test_the_server_answers_while_50_slow_header_clients_are_connected(tmp_path: Path) -> None:
    port = new_port()
    project = write_green_project(tmp_path / "green", port)
    slow: list[socket.socket] = []
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        try:
            slow = [open_slow_header(port) for _ in range(50)]
            for connection in slow:  # one more byte each: they are still sending, slowly
                connection.sendall(b"b")
            for path in ("/", "/healthz", "/whoami"):
                assert get(port, path)[0] == 200
        finally:
            for connection in slow:
                connection.close()


def test_a_request_head_that_never_ends_is_cut_off(tmp_path: Path) -> None:
    port = new_port()
    project = write_green_project(tmp_path / "green", port, {"HEADER_TIMEOUT": 2})
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        connection = open_slow_header(port)
        started = time.monotonic()
        try:
            closed = False
            while time.monotonic() - started < 15 and not closed:
                time.sleep(0.5)
                try:
                    connection.sendall(b"c")
                    connection.settimeout(0.01)
                    closed = connection.recv(1024) == b""
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
        finally:
            connection.close()
    assert closed, "a client trickling its request head was never disconnected"
    assert time.monotonic() - started < 10


def test_sigterm_lets_an_in_flight_request_finish(tmp_path: Path) -> None:
    port = new_port()
    project = write_green_project(tmp_path / "green", port)
    result: dict[str, object] = {}

    def slow_request() -> None:
        try:
            result["answer"] = get(port, "/slow?seconds=3", timeout=20)
        except OSError as error:
            result["answer"] = error

    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz") as log:
        master = _master_pid(project / "instance" / "logs" / "gunicorn.error.log")
        request = threading.Thread(target=slow_request)
        request.start()
        time.sleep(1.0)  # the request is now inside the view
        os.kill(master, signal.SIGTERM)
        request.join(20)
        assert _gone(master, 20), log.read_text()
        # A clean stop prints no teardown traceback (logging's lock under gevent, once greenlets are gone).
        assert "Exception ignored" not in log.read_text() and "Traceback" not in log.read_text()
    assert result["answer"] == (200, "finished")


def test_a_socket_that_joins_no_namespace_is_closed_and_one_that_joins_is_kept(tmp_path: Path) -> None:
    port = new_port()
    # Roomy: the joined socket must not be swept while a loaded machine is slow to read its "40".
    project = write_green_project(tmp_path / "green", port, {"SOCKETIO_JOIN_TIMEOUT": 4})
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        joined = WebSocketClient.connect(url)
        idle: simple_websocket.Client | None = None
        try:
            assert str(joined.receive(timeout=5)).startswith("0{")  # Engine.IO open packet
            joined.send("40")  # join the default namespace at once
            assert str(joined.receive(timeout=5)).startswith("40")
            idle = WebSocketClient.connect(url)
            assert str(idle.receive(timeout=5)).startswith("0{")
            assert _closed_within(idle, 15)
            joined.send('420["echo","still here"]')
            assert joined.receive(timeout=5) == '430["still here"]'
        finally:
            for client in (idle, joined):
                with contextlib.suppress(simple_websocket.ConnectionClosed):
                    if client is not None:
                        client.close()


def test_a_socket_that_ignores_the_close_frame_loses_its_tcp_connection(tmp_path: Path) -> None:
    port = new_port()
    project = write_green_project(tmp_path / "green", port, {"SOCKETIO_JOIN_TIMEOUT": 2})
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        connections = [open_raw_engineio(port)]
        try:
            _assert_cut_off(connections[0])
            _abandon_a_polling_session(port)  # its close packet is never read: the deadlines go on
            connections.append(upgrade_raw_engineio(port))
            _assert_cut_off(connections[1])
        finally:
            for connection in connections:
                connection.close()


def test_with_redis_as_message_queue_an_idle_socket_is_cut_off(tmp_path: Path) -> None:
    port = new_port()
    redis = {"redis": {**require_redis(), "DB": 7}}
    project = write_green_project(tmp_path / "green", port, {"SOCKETIO_JOIN_TIMEOUT": 2}, redis)
    with server(serve_args(project, port, workers=2), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        assert "RedisManager" in json.loads(get(port, "/whoami")[1])["socketio_manager"]  # or a subclass
        for _ in range(4):  # each worker gets some
            _abandon_a_polling_session(port)
        connections = [open_raw_engineio(port) for _ in range(4)]
        try:
            for connection in connections:
                _assert_cut_off(connection)
        finally:
            for connection in connections:
                connection.close()


def send_part_of_a_body(port: int, path: str, announced: int, sent: bytes) -> socket.socket:
    """A connection that has sent a POST's head announcing ``announced`` bytes, then only ``sent``."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=15)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {announced}\r\n\r\n"
    )
    connection.sendall(head.encode() + sent)
    return connection


def answer_and_hang_up(connection: socket.socket) -> tuple[bytes, bool]:
    """What the server sends on ``connection`` until it closes it (or 15 s), and whether it closed it."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        return received, False
    finally:
        connection.close()
    return received, True


@pytest.mark.parametrize(
    "path", ["/healthz", "/socket.io/?EIO=4&transport=polling&sid=unknown"], ids=["app", "engineio"]
)
def test_a_request_body_that_stops_arriving_is_a_408_and_the_connection_is_closed(
    tmp_path: Path, path: str
) -> None:
    """A POST announcing 100 bytes and sending 7 was waited for forever, its connection held; the 408 says
    the connection ends (it said ``Connection: keep-alive``, then closed it)."""
    port = new_port()
    project = write_green_project(tmp_path / "green", port, {"BODY_TIMEOUT": 2})
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        started = time.monotonic()
        received, closed = answer_and_hang_up(send_part_of_a_body(port, path, 100, b"a=1&b=2"))
        assert received.startswith(b"HTTP/1.1 408 "), received[:200]
        head = received.split(b"\r\n\r\n")[0].lower().split(b"\r\n")
        assert b"connection: close" in head and b"connection: keep-alive" not in head, head
        assert closed and time.monotonic() - started < 6
        assert get(port, "/")[0] == 200  # the worker goes on


def test_a_body_that_keeps_arriving_is_read_whatever_its_length(tmp_path: Path) -> None:
    """The deadline is a piece's, not the body's: 200 KiB sent over 3 s with a 2 s deadline is read."""
    port = new_port()
    project = write_green_project(tmp_path / "green", port, {"BODY_TIMEOUT": 2})
    body = b"a=" + b"x" * (200 * 1024 - 2)
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        connection = send_part_of_a_body(port, "/echo-length", len(body), b"")
        for start in range(0, len(body), 50 * 1024):
            time.sleep(0.75)
            connection.sendall(body[start : start + 50 * 1024])
        received, _ = answer_and_hang_up(connection)
    assert received.startswith(b"HTTP/1.1 200 "), received[:200]
    assert received.endswith(str(len(body)).encode())


def raw_head(port: int, path: str) -> list[str]:
    """The header lines of the answer to GET ``path``, as sent (repeated headers and all)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received and (chunk := connection.recv(4096)):
            received += chunk
    return received.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]


@pytest.mark.parametrize("command", ["serve", "run"])
def test_an_answer_carries_one_date_header(tmp_path: Path, command: str) -> None:
    """Werkzeug's make_conditional (every ETag answer, every static file) added a Date beside the server's."""
    port = new_port()
    project = write_green_project(tmp_path / "green", port)
    arguments = (
        serve_args(project, port) if command == "serve" else ["run", "--project", str(project), "--no-reload"]
    )
    with server(arguments, tmp_path, f"http://127.0.0.1:{port}/healthz"):
        for path in ("/conditional", "/healthz"):
            dates = [line for line in raw_head(port, path) if line.lower().startswith("date:")]
            assert len(dates) == 1, (path, dates)


def test_a_polling_packet_engineio_cannot_take_is_answered_at_once(tmp_path: Path) -> None:
    """Under gevent too, an unknown Engine.IO packet held its POST (and the worker's stop) forever."""
    port = new_port()
    project = write_green_project(tmp_path / "green", port)
    with server(serve_args(project, port), tmp_path, f"http://127.0.0.1:{port}/healthz"):
        sid = polling_session(port)
        started = time.monotonic()
        assert polling_post(port, sid, b"9")[0] == 400 and time.monotonic() - started < 3
        assert polling_post(port, sid, b"40") == (400, f'"Invalid session {sid}"'.encode())


def _assert_cut_off(connection: socket.socket) -> None:
    hung_up, received = hung_up_within(connection, 8)
    assert b"\x88" in received  # the WebSocket close frame came first
    assert hung_up, f"the server kept the TCP connection open; it sent {received!r}"


def _abandon_a_polling_session(port: int) -> None:
    status, body = get(port, "/socket.io/?EIO=4&transport=polling")
    assert status == 200
    assert body.startswith("0{")


def _closed_within(client: simple_websocket.Client, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            client.receive(timeout=0.5)
        except simple_websocket.ConnectionClosed:
            return True
    return False


def _master_pid(error_log: Path) -> int:
    for line in error_log.read_text().splitlines():
        if "Listening at:" in line:
            return int(line.rsplit("(", 1)[1].rstrip(")"))
    pytest.fail(f"no master pid in {error_log}")


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def unverified() -> ssl.SSLContext:
    """A TLS client context that accepts the test's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def https_status(port: int, path: str) -> int:
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=unverified())
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_failed_tls_handshake_is_one_log_line_not_a_traceback(tmp_path: Path) -> None:
    """Plain HTTP to the TLS port, a client that connects and leaves: gevent printed 17 lines each."""
    certificate, key = self_signed(tmp_path)
    port = new_port()
    tls = {"SSL": {"Certificate": str(certificate), "PrivateKey": str(key)}, "HEADER_TIMEOUT": 2}
    project = write_green_project(tmp_path / "tls", port, server_env=tls)
    ready = f"https://127.0.0.1:{port}/healthz"
    with server(serve_args(project, port), tmp_path, ready, tls=unverified()) as output:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
            plain.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            with contextlib.suppress(OSError):
                plain.recv(1024)
        for _ in range(3):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with socket.create_connection(("127.0.0.1", port), timeout=8) as silent:  # never says hello
            started = time.monotonic()
            with contextlib.suppress(ConnectionResetError):
                assert silent.recv(1) == b""  # the server hung up
            assert time.monotonic() - started < 6  # at HEADER_TIMEOUT (it held the connection for ever)
        assert https_status(port, "/healthz") == 200  # the worker goes on serving
        time.sleep(0.5)
    printed = output.read_text()
    assert "Traceback" not in printed and "failed with SSLError" not in printed, printed
    logged = (project / "instance" / "logs" / "app.log").read_text()
    assert logged.count("TLS handshake with 127.0.0.1 failed") >= 2, logged


def test_over_tls_the_408_of_a_stalled_body_is_sent_inside_tls_and_the_connection_closed(
    tmp_path: Path,
) -> None:
    """Closing the reading side of a TLS socket through ``ssl.SSLSocket.shutdown`` drops its TLS layer:
    the 408 (and any cookie it carried) went out in clear text after the TLS records."""
    certificate, key = self_signed(tmp_path)
    port = new_port()
    tls = {"SSL": {"Certificate": str(certificate), "PrivateKey": str(key)}, "BODY_TIMEOUT": 2}
    project = write_green_project(tmp_path / "tls", port, server_env=tls)
    with server(serve_args(project, port), tmp_path, f"https://127.0.0.1:{port}/healthz", tls=unverified()):
        raw = socket.create_connection(("127.0.0.1", port), timeout=15)
        connection = unverified().wrap_socket(raw, server_hostname="127.0.0.1")
        head = (
            "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 100\r\n\r\n"
        )
        connection.sendall(head.encode() + b"a=1&b=2")
        received, closed = b"", False
        with contextlib.suppress(ssl.SSLEOFError, ConnectionResetError):
            while chunk := connection.recv(65536):  # an SSLError here: bytes that are not TLS
                received += chunk
            closed = True
        connection.close()
        assert received.startswith(b"HTTP/1.1 408 "), received[:200]
        assert closed or received.endswith(b"Send it again.")  # then ended (a reset, at worst)
        assert https_status(port, "/healthz") == 200


def raw_upgrade(port: int, headers: str) -> bytes:
    """The answer's head to a WebSocket upgrade of Engine.IO sent with ``headers`` (CRLF-separated lines)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        request = (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n\r\n"
        )
        connection.sendall(request.encode())
        received = b""
        while b"\r\n\r\n" not in received and (chunk := connection.recv(4096)):
            received += chunk
    return received.split(b"\r\n\r\n")[0]


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_websocket_upgrade_without_a_valid_version_is_refused_not_a_500(
    tmp_path: Path, command: str
) -> None:
    """simple-websocket's handshake raised wsproto's error: gunicorn's bare 500, a traceback, every time."""
    port = new_port()
    project = write_green_project(tmp_path / "green", port)
    arguments = (
        serve_args(project, port) if command == "serve" else ["run", "--project", str(project), "--no-reload"]
    )
    upgrade = "Connection: Upgrade\r\nUpgrade: websocket"
    key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
    with server(arguments, tmp_path, f"http://127.0.0.1:{port}/healthz") as output:
        missing = raw_upgrade(port, f"{upgrade}\r\n{key}")
        other_version = raw_upgrade(port, f"{upgrade}\r\n{key}\r\nSec-WebSocket-Version: 8")
        no_key = raw_upgrade(port, f"{upgrade}\r\nSec-WebSocket-Version: 13")
        assert get(port, "/healthz")[0] == 200
    assert missing.startswith(b"HTTP/1.1 400 "), missing
    assert other_version.startswith(b"HTTP/1.1 426 "), other_version
    assert b"\r\nSec-WebSocket-Version: 13" in other_version
    assert no_key.startswith(b"HTTP/1.1 400 "), no_key
    logs = [output, *(project / "instance" / "logs").glob("*.log")]
    text = "\n".join(path.read_text() for path in logs if path.exists())
    assert "Traceback" not in text and "Error handling request" not in text
    assert text.count("refused a client's WebSocket handshake") == 1  # one line a minute
