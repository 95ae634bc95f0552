"""With Redis unreachable, rate limits are counted in process memory: log-in and sign-up still answer,
and their limits still apply. One WARNING line when counting falls back, one when Redis answers again."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from conexoos.app.utils import rate_limit
from conexoos.framework import create_app
from conexoos.framework.config import deep_merge
from conexoos.framework.database import create_schema
from tests.conftest import base_overrides
from tests.framework.helpers import free_port
from tests.support.services import require_redis

from .test_accounts import post_login, post_signup


def product(tmp_path: Path, redis_port: int) -> Flask:
    """The product with rate limits on, SERVICES.redis at ``redis_port``, sessions in files."""
    name = f"fallback{uuid.uuid4().hex[:8]}"
    overrides = deep_merge(
        base_overrides(tmp_path),
        {
            "SERVER_ENV": {"APP_NAME": name, "SESSION": "filesystem"},
            "SERVICES": {"redis": {"HOST": "127.0.0.1", "PORT": redis_port}},
            "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}},
        },
    )
    app = create_app(None, overrides=overrides)
    create_schema(app, app.extensions["conexoos"].settings)
    return app


def fallback_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "conexoos.rate_limit"]


def test_login_failures_are_still_limited_with_redis_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = product(tmp_path, free_port()).test_client()
    with caplog.at_level(logging.WARNING, logger="conexoos.rate_limit"):
        statuses = [post_login(client, "nobody", "wrong password").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # login-network: 5 per 15 minutes, counted in memory
    [line] = fallback_lines(caplog)  # one line for the whole outage, not one per request
    assert line.startswith("rate limit storage unreachable (ConnectionError: ")
    assert "counting rate limits in this process's memory" in line


def test_signup_works_with_redis_down(tmp_path: Path) -> None:
    client = product(tmp_path, free_port()).test_client()
    assert post_signup(client).status_code == 302
    assert post_signup(client.application.test_client(), username="ab").status_code == 422


def test_signup_per_ip_limit_applies_with_redis_down(tmp_path: Path) -> None:
    app = product(tmp_path, free_port())
    statuses = [post_signup(app.test_client(), username="x").status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]  # signup-ip: 5/minute


class RedisDoor:
    """A TCP port that is closed until ``open()``, then forwards every connection to the test Redis."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.port = free_port()
        self._target = target
        self._listener: socket.socket | None = None

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the other side closed: this direction ends too
        finally:
            sink.close()


@pytest.fixture
def redis_door() -> Iterator[RedisDoor]:
    settings = require_redis()
    door = RedisDoor((str(settings["HOST"]), int(str(settings["PORT"]))))
    yield door
    door.close()


@pytest.mark.services
def test_counting_returns_to_redis_when_it_answers_again(
    tmp_path: Path, redis_door: RedisDoor, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limit, "RETRY_SECONDS", 0.0)
    client = product(tmp_path, redis_door.port).test_client()
    login = f"someone{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.WARNING, logger="conexoos.rate_limit"):
        assert post_login(client, login, "wrong password").status_code == 401
        redis_door.open()
        assert post_login(client, login, "wrong password").status_code == 401
        assert post_login(client, login, "wrong password").status_code == 401
    first, second = fallback_lines(caplog)
    assert first.startswith("rate limit storage unreachable")
    assert second.startswith("rate limit storage answers again after ")
    redis = client.application.extensions["conexoos"].services.redis
    keys = list(redis.scan_iter(match=f"*login-network*{login}*"))
    assert keys, "the hits after the recovery are counted in Redis"
    redis.delete(*keys)
