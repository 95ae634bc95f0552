"""A hung S3 store (moto's server under SIGSTOP: connections accepted, nothing answered) costs each media
request at most about ``(CONNECT_TIMEOUT + READ_TIMEOUT) x ATTEMPTS`` (``SERVICES.s3``): an upload and a
served file answer 503, and ``media migrate`` stops at the first file that times out, with one line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conexoos.framework.config import deep_merge
from conexoos.framework.storage import LocalStorage
from conexoos.framework.storage.s3 import make_client
from tests.conftest import AppFactory, base_overrides
from tests.support.cli import run_cli
from tests.support.moto_s3 import S3Server, running_s3_server

from .conftest import QUIET, RATE_LIMITS_OFF, sign_up
from .media_support import noisy_png
from .test_media_migrate import avatar_of
from .test_uploads import upload

CONNECT_TIMEOUT = 1
READ_TIMEOUT = 2
ATTEMPTS = 2
BOUND = (CONNECT_TIMEOUT + READ_TIMEOUT + 1) * ATTEMPTS + 4.0
"""Seconds a call may take against the frozen store: each attempt's timeouts and back-off, and slack."""


@pytest.fixture
def s3_server() -> Iterator[S3Server]:
    """A server of this test's own: it is frozen."""
    with running_s3_server() as server:
        yield server


def s3_settings(server: S3Server) -> dict[str, Any]:
    return {
        **server.settings(server.new_bucket()),
        "CONNECT_TIMEOUT": CONNECT_TIMEOUT,
        "READ_TIMEOUT": READ_TIMEOUT,
        "ATTEMPTS": ATTEMPTS,
    }


def config_file(tmp_path: Path, backend: str, s3: dict[str, Any]) -> Path:
    tree = deep_merge(deep_merge(base_overrides(tmp_path), deep_merge(RATE_LIMITS_OFF, QUIET)), {
        "SERVER_ENV": {"MEDIA": {"BACKEND": backend}}, "SERVICES": {"s3": s3},
    })  # fmt: skip
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(tree))
    return path


def test_the_defaults_bound_every_call() -> None:
    config = make_client({"ENDPOINT_URL": "http://127.0.0.1:9", "REGION": "us-east-1"}).meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (3, 10, 2)


def test_a_frozen_store_answers_503_within_its_timeouts(
    make_app: AppFactory, tmp_path: Path, s3_server: S3Server
) -> None:
    app = make_app(config=str(config_file(tmp_path, "s3", s3_settings(s3_server))))
    alice = sign_up(app, "alice")
    assert upload(alice, noisy_png(seed=7), "me.png").status_code == 302
    avatar = avatar_of(app, alice.id)
    s3_server.freeze()
    try:
        started = time.monotonic()
        response = upload(alice, noisy_png(seed=8), "again.png")
        upload_seconds = time.monotonic() - started
        started = time.monotonic()
        served = app.test_client().get(f"/media/{avatar}")
        serve_seconds = time.monotonic() - started
    finally:
        s3_server.thaw()
    assert response.status_code == 503 and "nothing was saved" in response.get_data(as_text=True)
    assert upload_seconds < BOUND, upload_seconds
    assert served.status_code == 503 and serve_seconds < BOUND, (served.status_code, serve_seconds)
    assert avatar_of(app, alice.id) == avatar  # the new avatar was not recorded
    assert app.test_client().get(f"/media/{avatar}").status_code == 200  # thawed: served again


def test_media_migrate_stops_at_the_first_file_the_frozen_store_does_not_take(
    make_app: AppFactory, tmp_path: Path, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_file(tmp_path, "local", s3_settings(s3_server))
    make_app(config=str(config))
    local = LocalStorage(tmp_path / "instance" / "uploads")
    for number in range(5):
        local.save(f"img/avatars/{number:02d}.bin", bytes([number]) * 100)
    s3_server.freeze()
    try:
        started = time.monotonic()
        result = run_cli(monkeypatch, "--config", str(config), "media", "migrate", "--to", "s3")
        seconds = time.monotonic() - started
    finally:
        s3_server.thaw()
    assert result.exit_code == 1, result.output
    assert seconds < 2 * BOUND, seconds  # one file waited out, not five
    stopped = [line for line in result.output.splitlines() if line.startswith("stopped: ")]
    assert len(stopped) == 1, result.output
    assert "1 files: 0 copied, 0 already there, 1 failed" in result.output
    assert "did not answer" in result.output

    again = run_cli(monkeypatch, "--config", str(config), "media", "migrate", "--to", "s3")
    assert again.exit_code == 0, again.output
    assert "5 files: 5 copied, 0 already there, 0 failed" in again.output
