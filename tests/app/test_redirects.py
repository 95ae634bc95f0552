"""The log-in form's ``next`` is followed only to a path on this site, read as a browser reads it.

Every value goes through the real flow: GET /login?next=..., then POST the form with its token. A hostile
value lands on the dashboard; none is a 500, CR/LF included.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from conexoos.app.utils.redirects import safe_local_target

from .conftest import PASSWORD, Account, each, form_token, log_in

DASHBOARD = "/dashboard"
HOSTILE = {
    "scheme-relative": "//evil.example",
    "three slashes": "///evil.example",
    "four slashes": "////evil.example",
    "slash backslash": "/\\evil.example",
    "two backslashes": "\\\\evil.example",
    "backslash slash": "\\/evil.example",
    "tab inside //": "/\t/evil.example",
    "newline inside //": "/\n/evil.example",
    "CR inside //": "/\r/evil.example",
    "leading tab": "\t//evil.example",
    "leading space": " //evil.example",
    "leading form feed": "\x0c//evil.example",
    "leading NUL": "\x00//evil.example",
    "tab inside a path": "/dashboard/set\ttings",
    "leading tab before a path": "\t/dashboard",
    "trailing junk": "//evil.example/\x00",
    "https": "https://evil.example/",
    "upper-case scheme": "HTTPS://evil.example/",
    "scheme without slashes": "https:evil.example",
    "scheme with one slash": "http:/evil.example",
    "javascript": "javascript:alert(document.cookie)",
    "javascript with tab": "java\tscript:alert(1)",
    "data": "data:text/html,<script>alert(1)</script>",
    "encoded slashes": "/%2f%2fevil.example",
    "encoded slashes upper": "/%2F%2Fevil.example",
    "encoded first slash": "%2f%2fevil.example",
    "encoded backslash": "/%5cevil.example",
    "double-encoded slashes": "/%252f%252fevil.example",
    "triple-encoded slashes": "/%25252f%25252fevil.example",
    "encoded tab inside //": "/%09/evil.example",
    "encoded newline inside //": "/%0a/evil.example",
    "userinfo": "//user:pass@evil.example/",
    "userinfo after backslash": "/\\user@evil.example",
    "site as userinfo": "https://conexoos.example@evil.example/",
    "encoded @ in authority": "//conexoos.example%40evil.example",
    "full-width solidus": "/\uff0fevil.example",
    "two full-width solidi": "\uff0f\uff0fevil.example",
    "CRLF header injection": "/\r\nSet-Cookie: stolen=1",
    "encoded CRLF": "/%0d%0aSet-Cookie:%20stolen=1",
    "bare CRLF": "\r\n",
    "encoded NUL": "/%00",
    "lone surrogate bytes": "/%ED%A0%80",
    "relative path": "dashboard",
    "dot relative": "./dashboard",
    "dot-dot relative": "..//evil.example",
    "dot-dot segment then //": "/..//evil.example",
    "dot-dot segment inside": "/dashboard/../..//evil.example",
    "encoded dot-dot segment": "/%2e%2e//evil.example",
    "dot segment then //": "/.//evil.example",
    "two dot segments then /": "/././/evil.example",
    "encoded dot segment then //": "/%2e//evil.example",
    "dot-dot after backslash": "/..\\/evil.example",
    "query only": "?next=//evil.example",
    "a link's redirect": "/go/3",
    "a link's redirect, encoded": "/%67o/3",
    "a link's redirect, double-encoded": "/%2567o/3",
    "a link's redirect after a dot segment": "/./go/3",
    "a link's redirect after an encoded dot segment": "/%2e/go/3",
    "empty": "",
    "only spaces": "   ",
}
SAFE = {
    "a dashboard page": ("/dashboard/settings", "/dashboard/settings"),
    "with a query": ("/dashboard/products?tab=1&x=2", "/dashboard/products?tab=1&x=2"),
    "with a fragment": ("/dashboard#links", "/dashboard#links"),
    "a public page": ("/alice", "/alice"),
    "an @ in the path": ("/@evil.example", "/@evil.example"),
    "a URL in the query": ("/dashboard?back=//evil.example", "/dashboard?back=//evil.example"),
    "leading spaces": ("  /dashboard/settings", "/dashboard/settings"),
    "non-ASCII": ("/dashboard/\u00e4", "/dashboard/%C3%A4"),
    "dots inside a name": ("/dashboard/a..b", "/dashboard/a..b"),
    "a dot segment inside": ("/dashboard/./settings", "/dashboard/./settings"),
    "a page whose name starts with go": ("/gonzo", "/gonzo"),
}


def log_in_with_next(app: Flask, next_value: str) -> TestResponse:
    client = app.test_client()
    url = "/login?next=" + quote(next_value.encode("utf-8", "surrogatepass"), safe="")
    token = form_token(client.get(url))
    return client.post(url, data={"csrf_token": token, "login": "alice", "password": PASSWORD})


def location(response: TestResponse) -> str:
    assert response.status_code == 302, f"{response.status_code}: {response.get_data(as_text=True)[:200]}"
    return response.headers["Location"]


def test_hostile_next_values_land_on_the_dashboard(app: Flask, alice: Account) -> None:
    def check(value: str) -> None:
        target = location(log_in_with_next(app, value))
        assert target == DASHBOARD, f"followed to {target!r}"

    each(HOSTILE, check)


def test_next_paths_on_this_site_are_followed(app: Flask, alice: Account) -> None:
    def check(case: tuple[str, str]) -> None:
        value, expected = case
        target = location(log_in_with_next(app, value))
        assert target == expected
        assert not urlsplit(target).netloc and not urlsplit(target).scheme

    each(SAFE, check)


def test_a_logged_in_visit_to_login_follows_the_same_rule(alice: Account) -> None:
    assert location(alice.client.get("/login?next=/dashboard/settings")) == "/dashboard/settings"
    assert location(alice.client.get("/login?next=%2F%5Cevil.example")) == DASHBOARD
    assert location(alice.client.get("/login?next=/%0d%0aX-Injected:%201")) == DASHBOARD


def test_a_page_that_needs_a_login_comes_back_after_it(app: Flask, alice: Account) -> None:
    client = app.test_client()
    bounced = client.get("/dashboard/settings?tab=profile")
    login_url = location(bounced)
    assert login_url.startswith("/login?next=")
    token = form_token(client.get(login_url))
    response = client.post(login_url, data={"csrf_token": token, "login": "alice", "password": PASSWORD})
    assert location(response) == "/dashboard/settings?tab=profile"


@pytest.mark.parametrize("value", [*HOSTILE.values(), None])
def test_safe_local_target_refuses_every_hostile_value(value: str | None) -> None:
    assert safe_local_target(value) is None


def test_a_form_sent_after_the_session_ended_comes_back_to_its_page(app: Flask, alice: Account) -> None:
    """The POST-only address was the ``next``: after logging in, the browser's GET of it was a 405."""
    client = app.test_client()
    on_the_page = {"Referer": "http://localhost/settings/account"}
    sent = {"csrf_token": form_token(client.get("/login"))}  # the form's token: the session holds it still
    bounced = client.post("/settings/account/export", data=sent, headers=on_the_page)
    assert location(bounced) == "/login?next=/settings/account"
    token = form_token(client.get(location(bounced)))
    response = client.post(
        location(bounced), data={"csrf_token": token, "login": "alice", "password": PASSWORD}
    )
    assert location(response) == "/settings/account"

    for referrer in ("https://evil.example/settings/account", "http://localhost//evil.example/", None):
        other = app.test_client()
        sent = {"csrf_token": form_token(other.get("/login"))}
        headers = {"Referer": referrer} if referrer else {}
        assert location(other.post("/settings/account/export", data=sent, headers=headers)) == "/login"


def test_a_plain_form_sent_after_logging_out_elsewhere_says_to_log_in_and_leads_back(
    app: Flask, alice: Account
) -> None:
    """It was a bare 400 quoting Flask-WTF ("The CSRF session token is missing."), linking home only."""
    page = alice.client.get("/dashboard/settings")
    token = form_token(page)
    other = app.test_client()
    log_in(other, "alice")
    other.post("/logout", data={"csrf_token": form_token(other.get("/dashboard"))})  # the other tab
    alice.client.post("/logout", data={"csrf_token": token})  # this tab's session ends too
    on_the_page = {"Referer": "http://localhost/dashboard/settings"}
    refused = alice.client.post("/dashboard/settings", data={"csrf_token": token}, headers=on_the_page)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "and you are not logged in" in text and "logged out in another tab" in text and "CSRF" not in text
    assert 'href="/login?next=/dashboard/settings">Log in</a>' in text
    again = alice.client.post("/logout", data={"csrf_token": token})  # Log out pressed once more
    assert location(again) == "/"


def test_a_signed_in_form_with_a_stale_token_says_to_reload_without_internals(alice: Account) -> None:
    refused = alice.client.post("/dashboard/settings", data={"csrf_token": "stale"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "reload the page and send the form again" in text
    assert "CSRF" not in text and "Log in</a>" not in text
