"""Every logger's lines, and a Socket.IO event handler's exception, reach app.log with their secrets hidden,
under ``conexoos run`` and ``conexoos serve`` (gunicorn, gevent worker) alike; nothing reaches the terminal
in clear.

Each server here is the real command on a loopback port, stopped by the shared helper.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.framework.helpers import write_project
from tests.framework.test_cli import http_get, server
from tests.support.green_server import new_port, serve_args, write_green_project
from tests.support.raw_engineio import polling_post, polling_session

SECRET = "zq9-every-logger-secret"
LOGGING_PROJECT = {
    "server/web.py": """
        import logging

        from flask import current_app


        def home():
            return "home"


        def leak():
            secret = current_app.config["DB_PASSWORD"]
            logging.getLogger().warning("the root logger warns with %s", secret)
            logging.getLogger("urllib3.connectionpool").info("urllib3 informs with %s", secret)
            logging.getLogger("sqlalchemy.engine").warning("sqlalchemy warns with %s", secret)
            logging.getLogger("elsewhere.custom").error("a custom logger fails with %s", secret)
            return "logged"


        class Route:
            def __init__(self, app):
                app.add_url_rule("/", "home", home)
                app.add_url_rule("/leak", "leak", leak)
    """,
    "server/socket.py": """
        from flask import current_app


        def explode(data):
            raise ValueError(f"the event handler fails with {current_app.config['DB_PASSWORD']}")


        class Handler:
            def __init__(self, socketio):
                socketio.on_event("connect", lambda auth=None: True)
                socketio.on_event("explode", explode)
    """,
}


def logging_project(root: Path, port: int) -> Path:
    """The green project, with routes and an event that log or raise the configured secret."""
    project = write_green_project(root, port)
    write_project(project, LOGGING_PROJECT)
    config_file = project / "config.yml"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["FLASK"] = {"CONFIG": {"DB_PASSWORD": SECRET}}
    config_file.write_text(json.dumps(config), encoding="utf-8")
    return project


def command_args(command: str, project: Path, port: int) -> list[str]:
    if command == "serve":
        return serve_args(project, port)
    return ["run", "--project", str(project), "--port", str(port), "--no-reload"]


def written_once(terminal: Path, app_log: Path, expected: list[str]) -> tuple[str, str]:
    """The terminal's output and app.log once app.log holds every line of ``expected`` (lines are written
    after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        logged = app_log.read_text(encoding="utf-8") if app_log.exists() else ""
        if all(line in logged for line in expected) or time.monotonic() > deadline:
            return terminal.read_text(encoding="utf-8"), logged
        time.sleep(0.1)


@pytest.mark.parametrize("command", ["serve", "run"])
def test_every_loggers_lines_reach_app_log_redacted(tmp_path: Path, command: str) -> None:
    """Under serve, a logger outside the framework and the project's package (the root logger, a
    library's, a custom name) wrote through Python's last-resort handler: to stderr, unformatted, the
    configured secret in clear, never to app.log, its INFO lines dropped."""
    port = new_port()
    project = logging_project(tmp_path / "green", port)
    base = f"http://127.0.0.1:{port}"
    with server(command_args(command, project, port), tmp_path, base + "/healthz") as terminal:
        assert http_get(base + "/leak")[::2] == (200, "logged")
        expected = [
            "WARNING root: the root logger warns with ***",
            "INFO urllib3.connectionpool: urllib3 informs with ***",
            "WARNING sqlalchemy.engine: sqlalchemy warns with ***",
            "ERROR elsewhere.custom: a custom logger fails with ***",
        ]
        output, app_log = written_once(terminal, project / "instance" / "logs" / "app.log", expected)
    for line in expected:
        assert app_log.count(line) == 1, (line, app_log)
    assert SECRET not in app_log and SECRET not in output
    assert "informs with" not in output and "warns with" not in output  # app.log only, as LOG.DIR says
    if command == "run":  # the development server's own lines stay on the terminal
        assert "Running on" in output and "GET /leak" in output
        assert "Running on" not in app_log


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_socketio_event_handlers_exception_is_logged_once_redacted(tmp_path: Path, command: str) -> None:
    """Under serve, gevent's hub printed the exception ("<Greenlet ...> failed with ValueError") and its
    traceback to stderr with the secret in clear; under run it went to stderr only; neither reached
    app.log."""
    port = new_port()
    project = logging_project(tmp_path / "green", port)
    base = f"http://127.0.0.1:{port}"
    with server(command_args(command, project, port), tmp_path, base + "/healthz") as terminal:
        sid = polling_session(port)
        assert polling_post(port, sid, b"40")[0] == 200
        assert polling_post(port, sid, b'42["explode","now"]')[0] == 200
        expected = ["ValueError: the event handler fails with ***"]
        output, app_log = written_once(terminal, project / "instance" / "logs" / "app.log", expected)
    assert app_log.count("Traceback (most recent call last)") == 1, app_log
    assert app_log.count("ValueError: the event handler fails with ***") == 1, app_log
    assert "ERROR conexoos.realtime: Socket.IO event 'explode' failed (namespace /)" in app_log
    assert SECRET not in app_log and SECRET not in output
    assert "ValueError" not in output  # logged, not printed by the hub or by threading's excepthook
