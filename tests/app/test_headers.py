"""Security headers: HSTS under UAT and PROD only, ``no-store`` on everything a logged-in user is sent
(except the same-for-everyone static files), and the Content-Security-Policy kept."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing.converters import AnyConverter, IntegerConverter, PathConverter
from werkzeug.test import TestResponse

from conexoos.app.utils.csp import CONTENT_SECURITY_POLICY
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory

from .conftest import QUIET, RATE_LIMITS_OFF, Account

SHARED_FILES = {"static", "media.serve", "public.robots", "public.favicon", "public.security_txt"}


def logged_in_responses(app: Flask, account: Account) -> dict[str, TestResponse]:
    """One response per GET route of the URL map (variables filled with the account's own values), plus
    API writes and errors."""
    link_id = account.add_link()["id"]
    responses: dict[str, TestResponse] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in SHARED_FILES:
            continue
        values: dict[str, Any] = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, PathConverter):
                break
            if isinstance(converter, IntegerConverter):
                values[name] = link_id
            elif isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = account.username
        else:
            url = rule.rule
            for value in values.values():
                url = url.replace(url[url.index("<") : url.index(">") + 1], str(value), 1)
            responses[f"GET {url}"] = account.client.get(url)
    responses["POST /api/add/link"] = account.api(
        "POST", "/api/add/link", {"title": "t", "url": "https://e.x/"}
    )
    responses["422 from the API"] = account.api("POST", "/api/add/link", {"title": ""})
    responses["404 page"] = account.client.get("/no-such-user-here")
    responses["404 API"] = account.api("GET", "/api/nothing")
    return responses


def test_every_response_to_a_logged_in_user_is_no_store(app: Flask, alice: Account) -> None:
    responses = logged_in_responses(app, alice)
    assert len(responses) >= 15, sorted(responses)
    assert {"GET /dashboard", "GET /api/links", f"GET /{alice.username}", "GET /api/openapi.json"} <= set(
        responses
    )
    failures = [
        f"{what}: {response.status_code} Cache-Control={response.headers.get('Cache-Control')!r}"
        for what, response in responses.items()
        if response.headers.get("Cache-Control") != "no-store"
    ]
    assert not failures, "\n".join(failures)


def test_shared_files_stay_cacheable_for_a_logged_in_user(alice: Account) -> None:
    for path in ("/static/css/app.css", "/robots.txt", "/favicon.ico"):
        response = alice.client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in (response.headers.get("Cache-Control") or ""), path


def test_anonymous_pages_are_not_marked_no_store(app: Flask, alice: Account) -> None:
    """Control: the header follows the login, not the route."""
    visitor = app.test_client()
    for path in ("/", f"/{alice.username}", "/login"):
        assert visitor.get(path).headers.get("Cache-Control") != "no-store", path


def test_the_content_security_policy_is_kept(app: Flask, alice: Account) -> None:
    for response in (alice.client.get("/dashboard"), app.test_client().get(f"/{alice.username}")):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in (
            CONTENT_SECURITY_POLICY
        )


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_hsts_outside_dev(make_app: AppFactory, env: str) -> None:
    overrides = {"SERVER_ENV": {"ENV": env, "PUBLIC_URL": "https://links.example.org"}}
    app = make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides))
    client = app.test_client()
    for path in ("/", "/login", "/robots.txt", "/no-such-user-here"):
        response = client.get(path, base_url="https://links.example.org")
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600, path


def test_no_hsts_under_dev(app: Flask) -> None:
    for path in ("/", "/login", "/robots.txt"):
        assert "Strict-Transport-Security" not in app.test_client().get(path).headers, path
