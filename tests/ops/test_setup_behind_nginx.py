"""``/setup`` behind the shipped nginx configuration (deploy/nginx/conexoos.conf) is never "the server
itself": nginx connects from 127.0.0.1 but adds ``X-Forwarded-*``, whether or not it is a trusted proxy.
Straight to the app from the same machine, setup opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.green_server import new_port
from tests.support.live_server import run_live_server

from .test_nginx import get_via, running_nginx


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_setup_through_nginx_needs_the_token(tmp_path: Path, trusted: str) -> None:
    nginx_port = new_port()
    overrides = {"SERVER_ENV": {"TRUSTED_PROXIES": trusted}}
    with (
        run_live_server(tmp_path / "app", overrides) as live,
        running_nginx(tmp_path / "nginx", nginx_port, live.port),
    ):
        status, body = get_via(nginx_port, "/setup", {})
        assert status == 403, body
        assert "setup-token" in body
        assert get_via(live.port, "/setup", {})[0] == 200  # the server itself, no proxy in between
