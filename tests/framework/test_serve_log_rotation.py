"""``conexoos serve`` under ``LOG.ROTATE: external``: every file in LOG.DIR, gunicorn's two included, is
reopened once logrotate moved it, in the master and in the workers, without a signal to gunicorn.

The server is the real command (gunicorn master, gevent worker) on a loopback port, stopped by the shared
helper.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from conexoos.framework.logs import REOPEN_CHECK_SECONDS
from tests.framework.test_cli import http_get, server
from tests.framework.test_serve_green import _master_pid
from tests.support.green_server import new_port, serve_args, write_green_project


def written(path: Path, expected: list[str], seconds: float = 10) -> str:
    """``path``'s text once it holds every one of ``expected`` (or the time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if all(line in text for line in expected) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def test_gunicorns_logs_are_reopened_once_moved(tmp_path: Path) -> None:
    """Gunicorn's own file handlers kept writing into the moved files until the master got SIGUSR1, while
    app.log and access.log were recreated."""
    port = new_port()
    project = write_green_project(tmp_path / "green", port)  # LOG: {DIR: logs, ROTATE: external}
    logs = project / "instance" / "logs"
    base = f"http://127.0.0.1:{port}"
    with server(serve_args(project, port), tmp_path, base + "/healthz"):
        master = _master_pid(logs / "gunicorn.error.log")
        for name in ("gunicorn.access.log", "gunicorn.error.log", "access.log"):
            (logs / name).rename(logs / f"{name}.1")  # as logrotate moves them
        time.sleep(REOPEN_CHECK_SECONDS + 0.2)
        assert http_get(base + "/?after=move")[0] == 200  # a worker's access line
        os.kill(master, signal.SIGTTIN)  # the master's line, and that of the worker it starts
        access = written(logs / "gunicorn.access.log", ["GET /?after=move"])
        error = written(logs / "gunicorn.error.log", ["Handling signal: ttin", "Booting worker with pid"])
        app_access = written(logs / "access.log", ["GET / 200"])
    assert "GET /?after=move" in access, access
    assert "Handling signal: ttin" in error and "Booting worker with pid" in error, error
    assert "GET / 200" in app_access  # the framework's own, as before
    assert "after=move" not in (logs / "gunicorn.access.log.1").read_text(encoding="utf-8")
    assert "ttin" not in (logs / "gunicorn.error.log.1").read_text(encoding="utf-8")
