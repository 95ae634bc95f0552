"""Run the real app behind a real HTTP server on 127.0.0.1, for tests that drive a browser or a client.

The app is built by the real factory and served by werkzeug's threaded server in a background thread of
the test process, so a test can both talk HTTP to ``server.url`` and look inside ``server.app``'s database
(``with server.app.app_context(): ...``). Binding port 0 lets the kernel pick a free port with no race.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from conexoos.framework import create_app
from conexoos.framework.config import deep_merge
from conexoos.framework.database import create_schema, db

HOST = "127.0.0.1"
APP_KEY = "live-server-test-key-" + "k" * 40
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
STOP_POLL = 0.05
"""How often the serving thread looks for a stop: socketserver's default (0.5 s) made each stop wait
0.46 s on average; a browser test starts a server of its own."""


FLUSH_TASK = "analytics-buffer-flush"
FLUSH_EVERY = 0.2


@dataclass(frozen=True)
class LiveServer:
    """A running app: ``url`` has no trailing slash (``http://127.0.0.1:PORT``)."""

    url: str
    app: Flask
    port: int


def live_server_overrides(folder: Path) -> dict[str, Any]:
    """A live test server's configuration: own instance folder and SQLite file, DEV, no rate limits."""
    return {
        "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(folder / "instance"), "APP_KEY": APP_KEY},
        "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{folder / 'live.db'}"}},
        "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": False, "DEBUG": False}},
    }


@contextmanager
def run_live_server(
    folder: Path, overrides: dict[str, Any] | None = None, host_name: str = HOST, project: Path | None = None
) -> Iterator[LiveServer]:
    """Build the app in ``folder`` and serve it until the block ends; then stop it and free the database.

    ``host_name`` is the host of its PUBLIC_URL and ``url``: ``localhost`` for passkeys, whose relying
    party must be a domain name, never an IP address. The server listens on 127.0.0.1 either way.
    ``project`` is the project folder to serve (default: the Conexoos product).
    """
    # Bound first, so that the app's PUBLIC_URL is the address it is really served at.
    server = make_server(HOST, 0, _not_ready, threaded=True)
    public_url = f"http://{host_name}:{server.server_port}"
    settings = deep_merge(live_server_overrides(folder), {"SERVER_ENV": {"PUBLIC_URL": public_url}})
    if overrides:
        settings = deep_merge(settings, overrides)
    try:
        app = create_app(project, overrides=settings)
        create_schema(app, app.extensions["conexoos"].settings)
    except BaseException:
        server.server_close()
        raise
    server.app = app
    name = f"live-server-{server.server_port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": STOP_POLL}, name=name, daemon=True
    )
    thread.start()
    flushing = threading.Event()
    flusher = threading.Thread(target=_flush_buffers, args=(app, flushing), name=f"{name}-flush", daemon=True)
    flusher.start()
    try:
        _wait_until_ready(server)
        yield LiveServer(url=public_url, app=app, port=server.server_port)
    finally:
        flushing.set()
        flusher.join(STOP_TIMEOUT)
        _stop(server, thread)
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def _flush_buffers(app: Flask, stop: threading.Event) -> None:
    """Run the app's write-buffer flush (task ``analytics-buffer-flush``) every FLUSH_EVERY seconds until
    ``stop``, as its scheduler would in production (the live server starts no scheduler: the other tasks
    would change what the tests see); a project without that task has nothing to flush."""
    task = app.extensions["conexoos"].scheduler.tasks.get(FLUSH_TASK)
    while task is not None and not stop.wait(FLUSH_EVERY):
        with app.app_context():
            task.function()


def _not_ready(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The placeholder app of a server whose real app is still being built."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def _wait_until_ready(server: BaseWSGIServer) -> None:
    # The socket listens as soon as make_server returns; this checks the app itself answers a request.
    deadline = time.monotonic() + READY_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(HOST, server.server_port, timeout=2)
        try:
            connection.request("GET", "/")
            status = connection.getresponse().status
        except OSError as error:
            last_error = error
        else:
            if status < 500:
                return
            last_error = RuntimeError(f"GET / answered {status}")
        finally:
            connection.close()
        time.sleep(0.05)
    raise RuntimeError(
        f"the live server on port {server.server_port} did not answer within "
        f"{READY_TIMEOUT:.0f} s: {last_error}"
    )


def _stop(server: BaseWSGIServer, thread: threading.Thread) -> None:
    server.shutdown()
    thread.join(STOP_TIMEOUT)
    server.server_close()
    if thread.is_alive():
        raise RuntimeError(f"the live server thread did not stop within {STOP_TIMEOUT:.0f} s")
