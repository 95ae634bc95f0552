"""``conexoos serve``'s worker count: one worker without Redis, since Socket.IO events cross no workers."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from conexoos.framework.scaffold import create_project
from conexoos.framework.serve import GunicornServer
from tests.framework.test_cli import invoke, write_config
from tests.support.services import require_redis


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The gunicorn options each ``serve`` would have run with (the arbiter is not started)."""
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(GunicornServer, "run", lambda server: runs.append(server._options))
    return runs


def serve(tmp_path: Path, services: str, *args: str) -> tuple[int, str]:
    create_project("site", tmp_path / "site")
    config = write_config(
        tmp_path / "config.yml",
        "SERVER_ENV:\n  APP_KEY: test-key-for-workers\n"
        f"  INSTANCE_PATH: {tmp_path / 'instance'}\n"
        "DATABASE:\n  main:\n    url: sqlite:///main.db\n" + services,
    )
    result = invoke("serve", "--project", str(tmp_path / "site"), "--config", str(config), *args)
    return result.exit_code, result.output


def worker_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "conexoos.serve"]


def test_without_redis_the_default_is_one_worker_and_says_why(
    tmp_path: Path, started: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="conexoos.serve"):
        code, output = serve(tmp_path, "")
    assert code == 0, output
    assert started[0]["workers"] == 1
    [line] = worker_lines(caplog)
    assert line.levelno == logging.INFO
    assert "serving with 1 worker: SERVICES.redis is not configured" in line.getMessage()


def test_several_workers_asked_for_without_redis_are_warned_about(
    tmp_path: Path, started: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="conexoos.serve"):
        code, output = serve(tmp_path, "", "--workers", "3")
    assert code == 0, output
    assert started[0]["workers"] == 3
    [line] = worker_lines(caplog)
    assert line.levelno == logging.WARNING
    assert line.getMessage() == (
        "3 workers without SERVICES.redis: Socket.IO events reach only the sockets of the worker that "
        "emits them; configure SERVICES.redis"
    )


def test_one_worker_asked_for_without_redis_is_not_logged(
    tmp_path: Path, started: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="conexoos.serve"):
        code, output = serve(tmp_path, "", "--workers", "1")
    assert code == 0, output
    assert started[0]["workers"] == 1
    assert worker_lines(caplog) == []


@pytest.mark.services
def test_with_redis_the_default_is_one_worker_per_cpu(
    tmp_path: Path, started: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    redis = require_redis()
    services = f"SERVICES:\n  redis: {{HOST: '{redis['HOST']}', PORT: {redis['PORT']}}}\n"
    with caplog.at_level(logging.INFO, logger="conexoos.serve"):
        code, output = serve(tmp_path, services)
    assert code == 0, output
    assert started[0]["workers"] == (os.cpu_count() or 1)
    assert worker_lines(caplog) == []
