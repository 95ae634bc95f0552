"""``conexoos serve`` under ``LOG.ROTATE: external``: every file in LOG.DIR, gunicorn's two included, is
reopened once logrotate moved it, in the master and in the workers, without a signal to gunicorn; under
``size`` gunicorn's two rotate as app.log does.

The server is the real command (gunicorn master, gevent worker) on a loopback port, stopped by the shared
helper.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest
from gunicorn.config import Config

from conexoos.framework import logs
from conexoos.framework.logs import (
    REOPEN_CHECK_SECONDS,
    ROTATE_AT_BYTES,
    ROTATED_FILES_KEPT,
    SharedSizeRotatingFileHandler,
)
from conexoos.framework.serve import SizeRotatingAccessLogger, _log_options
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


def test_captured_output_follows_the_moved_error_log(tmp_path: Path) -> None:
    """With ``CAPTURE: true`` gunicorn points the workers' stdout and stderr at its error log once (and again
    only on SIGUSR1): once logrotate moved the file, what they printed went on into the moved one."""
    port = new_port()
    project = write_green_project(
        tmp_path / "green", port, {"CAPTURE": True, "LOG": {"DIR": "logs", "ROTATE": "external"}}
    )
    logs = project / "instance" / "logs"
    base = f"http://127.0.0.1:{port}"
    with server(serve_args(project, port), tmp_path, base + "/healthz"):
        assert http_get(base + "/say?line=before")[0] == 200
        assert "stderr: before" in written(logs / "gunicorn.error.log", ["stdout: before", "stderr: before"])
        (logs / "gunicorn.error.log").rename(logs / "gunicorn.error.log.1")
        time.sleep(REOPEN_CHECK_SECONDS + 0.2)
        assert http_get(base + "/")[0] == 200  # a request, not an error line, makes the worker look
        assert http_get(base + "/say?line=after")[0] == 200
        now = written(logs / "gunicorn.error.log", ["stdout: after", "stderr: after"])
    assert "stdout: after" in now and "stderr: after" in now, now
    moved = (logs / "gunicorn.error.log.1").read_text(encoding="utf-8")
    assert "stdout: before" in moved and "after" not in moved


def test_gunicorns_logs_rotate_at_the_size_app_log_does(tmp_path: Path) -> None:
    """Under ``LOG.ROTATE: size`` gunicorn's own handlers never rotated its two files: they grew without
    end while app.log and access.log turned over at 10 MB."""
    options = _log_options(str(tmp_path), "size")
    assert options["logger_class"] is SizeRotatingAccessLogger
    config = Config()
    config.set("accesslog", options["accesslog"])
    config.set("errorlog", options["errorlog"])
    logger = SizeRotatingAccessLogger(config)
    for log in (logger.error_log, logger.access_log):
        (handler,) = [handler for handler in log.handlers if getattr(handler, "_gunicorn", False)]
        assert isinstance(handler, SharedSizeRotatingFileHandler)
        assert (handler.maxBytes, handler.backupCount) == (ROTATE_AT_BYTES, ROTATED_FILES_KEPT)
    logger.error("the master's line")
    for handler in logger.error_log.handlers:
        handler.flush()
    assert "the master's line" in (tmp_path / "gunicorn.error.log").read_text(encoding="utf-8")


def test_the_process_that_did_not_rotate_a_shared_file_reopens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn.error.log has two writers, the master and the worker: the one that did not rotate it would
    have gone on writing into the renamed file, which the next rotations push out and delete."""
    now = [1000.0]
    monkeypatch.setattr(logs, "_clock", lambda: now[0])
    path = tmp_path / "gunicorn.error.log"
    worker, master = (
        SharedSizeRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8") for _ in "ab"
    )
    for handler in (worker, master):
        handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        master.emit(_record("master before"))
        for number in range(5):
            worker.emit(_record(f"worker line {number} " + "x" * 40))
        assert (tmp_path / "gunicorn.error.log.1").exists()  # the worker rotated it
        master.emit(_record("master within the second"))  # not looked at yet: into the moved file
        now[0] += REOPEN_CHECK_SECONDS
        master.emit(_record("master after"))
    finally:
        worker.close()
        master.close()
    assert "master after" in path.read_text(encoding="utf-8")
    moved = (tmp_path / "gunicorn.error.log.1").read_text(encoding="utf-8")
    assert "master before" in moved and "master after" not in moved


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("gunicorn.error", logging.INFO, __file__, 0, message, None, None)
