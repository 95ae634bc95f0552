"""``SERVER_ENV.TRUSTED_PROXIES``: X-Forwarded-* is believed from configured proxies only."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from conexoos.framework.config import load_settings
from conexoos.framework.errors import ConfigError
from conexoos.framework.proxy import TrustedProxies, parse_trusted_proxies
from tests.conftest import AppFactory

SPOOFED = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


def reporting_app(make_app: AppFactory, project: Path, proxies: str) -> Flask:
    app = make_app(project, {"SERVER_ENV": {"TRUSTED_PROXIES": proxies}})

    @app.get("/seen")
    def seen() -> object:
        return jsonify(
            address=request.remote_addr,
            scheme=request.scheme,
            host=request.host,
            forwarded=request.headers.get("X-Forwarded-For"),
        )

    return app


def seen_from(app: Flask, remote: str, headers: dict[str, str]) -> dict[str, str]:
    response = app.test_client().get("/seen", headers=headers, environ_base={"REMOTE_ADDR": remote})
    return response.get_json()  # type: ignore[no-any-return]


def test_by_default_forwarded_headers_are_ignored(make_app: AppFactory, bare_project: Path) -> None:
    app = reporting_app(make_app, bare_project, "")
    seen = seen_from(app, "127.0.0.1", SPOOFED)
    assert seen == {"address": "127.0.0.1", "scheme": "http", "host": "localhost", "forwarded": None}


def test_a_spoofed_header_from_a_client_that_is_not_a_proxy_is_ignored(
    make_app: AppFactory, bare_project: Path
) -> None:
    app = reporting_app(make_app, bare_project, "10.0.0.0/8")
    seen = seen_from(app, "203.0.113.9", SPOOFED)
    assert seen == {"address": "203.0.113.9", "scheme": "http", "host": "localhost", "forwarded": None}


def test_a_trusted_proxy_passes_on_the_client(make_app: AppFactory, bare_project: Path) -> None:
    app = reporting_app(make_app, bare_project, "10.0.0.0/8, 127.0.0.1")
    # The client claimed 6.6.6.6 itself; the proxy appended the address it really saw.
    headers = {**SPOOFED, "X-Forwarded-For": "6.6.6.6, 198.51.100.7"}
    seen = seen_from(app, "10.1.2.3", headers)
    assert seen["address"] == "198.51.100.7"
    assert seen["scheme"] == "https" and seen["host"] == "evil.example"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    middleware = TrustedProxies(lambda environ, start: [], parse_trusted_proxies("10.0.0.0/8,::1"))
    assert middleware.client_address("10.0.0.1", "1.1.1.1, 2.2.2.2, 10.0.0.5") == "2.2.2.2"
    assert middleware.client_address("::1", "2001:db8::1") == "2001:db8::1"
    assert middleware.client_address("10.0.0.1", "not-an-ip") == "10.0.0.1"
    assert middleware.client_address("10.0.0.1", "") == "10.0.0.1"
    assert middleware.client_address("8.8.8.8", "1.1.1.1") == "8.8.8.8"


def test_a_malformed_proxy_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_trusted_proxies("127.0.0.1, nginx.local")
    assert raised.value.problems == [
        "SERVER_ENV.TRUSTED_PROXIES: 'nginx.local' is not an IP address or network; "
        "e.g. 127.0.0.1, 10.0.0.0/8"
    ]


def test_a_malformed_proxy_entry_is_named_without_its_password() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_trusted_proxies("https://u:hunter2tp@x")
    assert "hunter2tp" not in str(raised.value.problems) and "'https://u:***@x'" in raised.value.problems[0]


def test_config_check_names_a_malformed_proxy_entry(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("SERVER_ENV:\n  TRUSTED_PROXIES: 10.0.0.0/33\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    assert [problem.split(":")[0] for problem in raised.value.problems] == ["SERVER_ENV.TRUSTED_PROXIES"]
