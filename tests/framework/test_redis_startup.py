"""``run`` and ``serve`` ping SERVICES.redis before serving: one warning line when it does not answer, saying
what cannot work until it does; they serve anyway (public pages and click redirects need no Redis), also when
the sessions live there (logging in answers 503 until Redis answers: tests/faults shows it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask_socketio import SocketIO

from conexoos.framework.scaffold import create_project
from conexoos.framework.serve import GunicornServer
from tests.framework.test_cli import invoke, write_config
from tests.support.services import require_redis

from .helpers import free_port


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which servers would have started (neither gunicorn's arbiter nor Socket.IO's server runs)."""
    runs: list[str] = []
    monkeypatch.setattr(GunicornServer, "run", lambda _server: runs.append("serve"))
    monkeypatch.setattr(SocketIO, "run", lambda *_args, **_kwargs: runs.append("run"))
    return runs


def command(tmp_path: Path, redis: dict[str, Any], session: str, *args: str) -> tuple[int, list[str]]:
    """Run ``conexoos ARGS`` on a new project with SERVICES.redis and SESSION; exit status, stderr lines."""
    create_project("site", tmp_path / "site")
    config = write_config(
        tmp_path / "config.yml",
        f"SERVER_ENV:\n  ENV: PROD\n  APP_KEY: test-key-for-redis-start\n  SESSION: {session}\n"
        "  PUBLIC_URL: https://example.test\n"
        f"  INSTANCE_PATH: {tmp_path / 'instance'}\n"
        "DATABASE:\n  main:\n    url: sqlite:///main.db\n"
        f"SERVICES:\n  redis: {{HOST: '{redis['HOST']}', PORT: {redis['PORT']}}}\n",
    )
    result = invoke(*args, "--project", str(tmp_path / "site"), "--config", str(config))
    lines = [line for line in result.stderr.splitlines() if line.startswith(("warning:", "error:"))]
    return result.exit_code, lines


@pytest.mark.parametrize("args", [("serve", "--workers", "1"), ("run", "--reload")])
def test_an_unreachable_redis_is_one_warning_line(
    tmp_path: Path, started: list[str], args: tuple[str, ...]
) -> None:
    port = free_port()
    code, lines = command(tmp_path, {"HOST": "127.0.0.1", "PORT": port}, "filesystem", *args)
    assert code == 0, lines
    assert started == [args[0]]
    [line] = lines
    assert line.startswith(
        f"warning: SERVICES.redis: 127.0.0.1:{port} does not answer (connection refused: nothing listens "
    )
    assert line.endswith(
        "Socket.IO has no message queue between workers, and rate limits are counted in each process's "
        "memory until it answers"
    )


@pytest.mark.parametrize("args", [("serve",), ("run", "--reload")])
def test_redis_sessions_without_redis_start_with_a_warning(
    tmp_path: Path, started: list[str], args: tuple[str, ...]
) -> None:
    port = free_port()
    code, lines = command(tmp_path, {"HOST": "127.0.0.1", "PORT": port}, "redis", *args)
    assert code == 0, lines
    assert started == [args[0]]
    [line] = lines
    assert line.startswith(f"warning: SERVICES.redis: 127.0.0.1:{port} does not answer (connection refused")
    assert "SESSION: redis keeps the sessions there, so logging in and signed-in pages answer 503" in line


@pytest.mark.services
def test_a_running_redis_is_not_mentioned(tmp_path: Path, started: list[str]) -> None:
    code, lines = command(tmp_path, require_redis(), "redis", "serve")
    assert code == 0, lines
    assert started == ["serve"]
    assert lines == []
