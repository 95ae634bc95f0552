"""A small project served by the real ``conexoos serve`` (gunicorn, gevent workers) on a loopback port.

Shared by the serve, deploy and Socket.IO tests: the project has a slow route (for graceful stops), one
that prints a line to stdout and stderr (for ``CAPTURE``), a route that reports what the worker sees
(client address, public URL, monkey-patching) and a Socket.IO namespace that accepts everyone (so a
socket that joins it is not closed as idle).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from tests.framework.helpers import free_port, write_project

PROJECT_FILES = {
    "server/__init__.py": "",
    "server/web.py": """
        import sys
        import time

        # Imported when the master loads the project, as a PostgreSQL project would: the test shows that
        # the workers still get psycopg's cooperative wait function.
        import psycopg.waiting
        from flask import Response, jsonify, request

        from conexoos.framework import runtime
        from conexoos.framework.urls import external_url


        def home():
            return "home"


        def echo_length():
            return str(len(request.get_data()))


        def conditional():
            return Response("kept", headers={"ETag": '"v1"'}).make_conditional(request)


        def slow():
            time.sleep(float(request.args.get("seconds", "2")))
            return "finished"


        def say():
            print("stdout:", request.args["line"], flush=True)
            print("stderr:", request.args["line"], file=sys.stderr, flush=True)
            return "said"


        def whoami():
            monkey = sys.modules.get("gevent.monkey")
            return jsonify(
                remote_addr=request.remote_addr,
                scheme=request.scheme,
                host=request.host,
                page_url=external_url("home"),
                patched=bool(monkey and monkey.is_module_patched("socket")),
                socketio_mode=runtime().socketio.async_mode,
                socketio_manager=[cls.__name__ for cls in type(runtime().socketio.server.manager).__mro__],
                psycopg_wait=psycopg.waiting.wait.__name__,
            )


        class Route:
            def __init__(self, app):
                app.add_url_rule("/", "home", home)
                app.add_url_rule("/echo-length", "echo_length", echo_length, methods=["POST"])
                app.add_url_rule("/conditional", "conditional", conditional)
                app.add_url_rule("/slow", "slow", slow)
                app.add_url_rule("/say", "say", say)
                app.add_url_rule("/whoami", "whoami", whoami)
    """,
    "server/socket.py": """
        class Handler:
            def __init__(self, socketio):
                socketio.on_event("connect", lambda auth=None: True)
                socketio.on_event("echo", lambda data: data)
    """,
}


def write_green_project(
    root: Path, port: int, server_env: dict[str, Any] | None = None, services: dict[str, Any] | None = None
) -> Path:
    """The project in ``root`` with a config.yml serving it on ``port`` (JSON is valid YAML)."""
    write_project(root, PROJECT_FILES)
    config = {
        "SERVER_ENV": {
            "APP_NAME": f"green{port}",
            "APP_KEY": "green-server-test-key-" + "g" * 40,
            "BIND": {"ADDRESS": "127.0.0.1", "PORT": port},
            "INSTANCE_PATH": "instance",
            "LOG": {"DIR": "logs", "LEVEL": "INFO", "ROTATE": "external"},
            **(server_env or {}),
        },
        "DATABASE": {"default": "main", "main": {"driver": "sqlite", "database": "green.db"}},
        **({"SERVICES": services} if services else {}),
    }
    (root / "config.yml").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return root


def serve_args(project: Path, port: int, workers: int = 1) -> list[str]:
    """The ``conexoos serve`` arguments for ``project``."""
    return ["serve", "--project", str(project), "--port", str(port), "--workers", str(workers)]


def new_port() -> int:
    """A free loopback port."""
    return free_port()


def open_slow_header(port: int) -> socket.socket:
    """A connection that has sent only the start of a request head."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a")
    return connection
