"""``conexoos run`` under DEV: Werkzeug's debugger shows an error's traceback, but a WebSocket that closes
(Socket.IO's, ended by the client) is no error: it was a 500 and a ConnectionError traceback each time."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.websocket import WebSocketClient

from .test_cli import conexoos, free_port, http_get, server


def test_a_closed_socketio_websocket_is_no_500_under_dev(tmp_path: Path) -> None:
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
