"""Every state-changing route answers 400 without a valid CSRF token, found from the URL map itself.

A route added later is covered without touching this file; only the routes of :data:`EXEMPT` (each with
its own check, said there) are left out.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from conexoos.app.controllers.roles import required_roles
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp, form_token, meta_token

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = {"/stripe/webhook", "/go/<id:link_id>", "/capture/<id:block_id>"}
"""Stripe signs its webhooks; a link lock's answer carries the signed form token the lock page gave (no
session is needed to follow a link): tests/app/test_link_locks.py refuses forged and stale ones. An email
sign-up form sits on the public page, which is cached for every anonymous visitor and so carries no
session's token: its post is checked against the browser's Sec-Fetch-Site and Origin headers instead
(utils/same_origin.py), and tests/app/test_capture.py refuses cross-site posts."""
KNOWN = {  # the routes this issue defines, so an empty or broken discovery cannot pass
    ("/signup", "POST"),
    ("/login", "POST"),
    ("/logout", "POST"),
    ("/dashboard/settings", "POST"),
    ("/api/add/link", "POST"),
    ("/api/edit/link/<id:link_id>", "PUT"),
    ("/api/edit/link/<id:link_id>", "PATCH"),
    ("/api/delete/link/<id:link_id>", "DELETE"),
    ("/api/links/reorder", "POST"),
    ("/password/forgot", "POST"),
    ("/password/reset/<token>", "POST"),
    ("/settings/email", "POST"),
    ("/settings/email/resend", "POST"),
    ("/settings/email/confirm/<token>", "POST"),
    ("/settings/email/undo/<token>", "POST"),
    ("/settings/security/password", "POST"),
    ("/settings/security/sessions/<id:session_id>/end", "POST"),
    ("/settings/security/sessions/end-others", "POST"),
    # Two factors and passkeys (issue 10)
    ("/settings/two-factor/totp/start", "POST"),
    ("/settings/two-factor/totp", "POST"),
    ("/settings/two-factor/totp/disable", "POST"),
    ("/settings/two-factor/recovery-codes", "POST"),
    ("/login/two-factor", "POST"),
    ("/settings/passkeys/options", "POST"),
    ("/settings/passkeys", "POST"),
    ("/settings/passkeys/<id:passkey_id>/rename", "POST"),
    ("/settings/passkeys/<id:passkey_id>/delete", "POST"),
    ("/login/passkey/options", "POST"),
    ("/login/passkey", "POST"),
    ("/login/two-factor/passkey/options", "POST"),
    ("/login/two-factor/passkey", "POST"),
    ("/settings/account/export", "POST"),
    ("/settings/account/delete", "POST"),
    # The operator's side (issue 12): staff routes, checked with an administrator's session
    ("/setup", "POST"),
    ("/admin/users/<id:user_id>/suspend", "POST"),
    ("/admin/users/<id:user_id>/unsuspend", "POST"),
    ("/admin/users/<id:user_id>/role", "POST"),
    ("/admin/users/<id:user_id>/plan", "POST"),
    ("/admin/users/<id:user_id>/reset-2fa", "POST"),
    ("/admin/users/<id:user_id>/resend-verification", "POST"),
    ("/admin/users/<id:user_id>/delete", "POST"),
    ("/admin/invites", "POST"),
    ("/admin/signup-policy", "POST"),
    ("/admin/pages/new", "POST"),
    ("/admin/pages/<id:page_id>/edit", "POST"),
    ("/admin/pages/preview", "POST"),
    ("/admin/pages/<id:page_id>/delete", "POST"),
    ("/admin/pages/<id:page_id>/revisions/<id:revision_id>/restore", "POST"),
    ("/admin/settings", "POST"),
    ("/admin/menus/<any(header, footer):menu>/add", "POST"),
    ("/admin/menus/<any(header, footer):menu>/order", "POST"),
    ("/admin/menus/<id:item_id>/edit", "POST"),
    ("/admin/menus/<id:item_id>/move", "POST"),
    ("/admin/menus/<id:item_id>/delete", "POST"),
    ("/admin/media", "POST"),
    ("/admin/media/<id:item_id>/delete", "POST"),
}


def state_changing_routes(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the app that changes state, less the exempt ones."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule in EXEMPT:
            continue
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            found.append((rule, method))
    return found


def build_url(app: Flask, rule: Rule, link_id: int) -> str:
    """A concrete URL for ``rule``: integer ids are the user's own link, so only CSRF can refuse it."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = link_id
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


@pytest.fixture
def routes(app: Flask) -> list[tuple[Rule, str]]:
    found = state_changing_routes(app)
    discovered = {(rule.rule, method) for rule, method in found}
    assert discovered >= KNOWN, f"missing from the URL map: {sorted(KNOWN - discovered)}"
    return found


def needs_a_role(app: Flask, rule: Rule) -> bool:
    """Whether ``rule`` is a staff route (a 404 without the role, before CSRF: see test_roles.py)."""
    with app.test_request_context():
        return bool(required_roles(rule.endpoint))


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_every_state_changing_route_refuses_a_missing_or_bad_token(
    app: Flask, alice: Account, signed_up: SignUp, routes: list[tuple[Rule, str]], accept: str
) -> None:
    """Staff routes are posted to by an administrator (anyone else gets their 404 before any CSRF check)."""
    link = alice.add_link("Protected", "https://protected.example/")
    admin = make_staff(app, signed_up("opsadmin"), "admin")
    tokens = {
        "absent": None,
        "empty": "",
        "forged": "forged-token",
        "another user's": signed_up("mallory").csrf,
    }
    failures = []
    for token_name, token in tokens.items():
        headers = {"Accept": accept}
        if token is not None:
            headers["X-CSRFToken"] = token
        for rule, method in routes:
            if rule.endpoint == "setup.page":  # spent here (an admin exists): its 404 comes first
                continue
            url = build_url(app, rule, link["id"])
            json_body = {"title": "Changed", "url": "https://evil.example/", "ids": [link["id"]]}
            form = {"csrf_token": token or "", "display_name": "Changed", "title": "Changed"}
            for body_kind, kwargs in (("json", {"json": json_body}), ("form", {"data": form})):
                client = admin.client if needs_a_role(app, rule) else alice.client
                response = client.open(url, method=method, headers=headers, **kwargs)
                text = response.get_data(as_text=True)
                where = f"{method} {url} ({body_kind} body, {token_name} token)"
                if response.status_code != 400:
                    failures.append(f"{where}: {response.status_code}")
                elif accept == "application/json" and response.is_json:
                    if response.get_json()["error"]["code"] != "csrf_failed":
                        failures.append(f"{where}: 400 but not a CSRF error: {text[:200]}")
                elif "security token" not in text:
                    failures.append(f"{where}: 400 without saying why: {text[:200]}")
    assert not failures, "\n".join(failures)
    # Nothing above reached a view: the link, the profile and the login are as they were.
    assert alice.links() == [link]
    assert alice.client.get("/api/links").status_code == 200
    assert "Changed" not in alice.client.get("/dashboard/settings").get_data(as_text=True)


def test_a_pending_setup_refuses_a_missing_or_bad_token(app: Flask) -> None:
    """``/setup`` while no administrator exists (once one does, it is a 404 before any check)."""
    client = app.test_client()
    form = {"site_name": "Mine", "email": "me@example.com", "username": "me", "password": "x" * 20}
    for token in (None, "", "forged-token"):
        data = form if token is None else form | {"csrf_token": token}
        answer = client.post("/setup", data=data)
        assert answer.status_code == 400, token
        assert "security token" in answer.get_data(as_text=True)
    assert client.get("/setup").status_code == 200  # still pending: nothing above reached the view


def test_the_same_requests_pass_with_the_token(app: Flask, alice: Account) -> None:
    """Control: with the page's token the link routes work, so the 400s above come from CSRF alone."""
    link = alice.add_link()
    edited = alice.api("PUT", f"/api/edit/link/{link['id']}", {"title": "Changed"})
    assert edited.status_code == 200
    settings = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Changed", "bio": ""}
    )
    assert settings.status_code == 302
    assert alice.api("DELETE", f"/api/delete/link/{link['id']}").status_code == 204


def test_the_token_in_the_form_field_is_accepted_too(alice: Account) -> None:
    response = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Form", "bio": ""}
    )
    assert response.status_code == 302


def test_every_logged_in_page_carries_a_working_meta_token(alice: Account) -> None:
    link = alice.add_link()
    for path in ("/dashboard", "/dashboard/settings", "/", f"/{alice.username}"):
        token = meta_token(alice.client.get(path))
        response = alice.client.put(
            f"/api/edit/link/{link['id']}", json={"title": path}, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 200, path


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"garbage"),  # no boundary
        ("multipart/form-data; boundary=zzz", b"garbage"),  # no part at all
        (
            "multipart/form-data; boundary=zzz",
            b'--zzz\r\nContent-Disposition: form-data; name="a"\r\n',
        ),  # cut
    ],
)
def test_a_multipart_body_that_cannot_be_read_is_refused_as_such(
    alice: Account, content_type: str, body: bytes
) -> None:
    """Werkzeug reads a broken multipart body as an empty form; the 400 blamed the security token."""
    for headers in ({}, {"Accept": "application/json"}):
        answer = alice.client.post(
            "/dashboard/settings", data=body, headers={"Content-Type": content_type, **headers}
        )
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400
        assert "is not the multipart/form-data its Content-Type announces" in text
        assert "security token" not in text


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=xx", "multipart/form-data; boundary=zz"],
)
def test_an_unreadable_multipart_body_with_its_token_is_refused_as_such(
    alice: Account, content_type: str
) -> None:
    """With a valid token the view read an empty form and answered 422 "send the image in the field"."""
    made = {"title": "Book", "price": 100, "currency": "EUR", "buy_url": "https://shop.example/b"}
    product = alice.api("POST", "/api/add/product", made)
    assert product.status_code == 201, product.get_data(as_text=True)
    answer = alice.client.post(
        f"/api/product/{product.get_json()['id']}/image",
        data=b"--xx\r\nbroken",
        headers={"Content-Type": content_type, "X-CSRFToken": alice.csrf, "Accept": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "malformed_form", answer.get_json()


def test_an_empty_multipart_form_is_read_as_one(alice: Account) -> None:
    """A form of no field (only the closing delimiter) is a form: its missing token is what is said."""
    answer = alice.client.post(
        "/dashboard/settings",
        data=b"--xx--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=xx"},
    )
    assert answer.status_code == 400 and "security token" in answer.get_data(as_text=True)


def test_a_readable_multipart_form_without_its_token_is_still_a_token_refusal(alice: Account) -> None:
    answer = alice.client.post(
        "/dashboard/settings", data={"display_name": "X", "bio": ""}, content_type="multipart/form-data"
    )
    assert answer.status_code == 400 and "security token" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "referrer",
    ["https://[::1", "https://localhost:99999/", "https://localhost:abc/", "https://evil.example/"],
)
def test_an_unreadable_or_foreign_referrer_over_https_is_a_refusal_that_says_so(
    client: FlaskClient, referrer: str
) -> None:
    """Over HTTPS Flask-WTF compares the Referer's host and port with the site's: one Python cannot parse
    raised a ValueError (500), which any visitor could send to the login form; then the 400 (and a foreign
    Referer's) said the security token was missing or no longer valid, which it was not."""
    token = form_token(client.get("/login", base_url="https://localhost"))
    login = {"csrf_token": token, "login": "nobody", "password": "wrong password"}
    response = client.post("/login", data=login, base_url="https://localhost", headers={"Referer": referrer})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "did not come from a page of this site" in text and "Open the page on this site" in text
    assert "security token" not in text


def test_an_https_form_without_a_referrer_is_told_that_its_browser_named_no_page(client: FlaskClient) -> None:
    token = form_token(client.get("/login", base_url="https://localhost"))
    login = {"csrf_token": token, "login": "nobody", "password": "wrong password"}
    response = client.post(
        "/login", data=login, base_url="https://localhost", headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "csrf_failed" and "did not say which page sent it" in error["message"]


def test_an_axios_form_post_outside_the_api_is_refused_with_a_json_error(alice: Account) -> None:
    """axios's Accept (``application/json, text/plain, */*``) rates HTML as high as JSON by its ``*/*``:
    a script posting the settings form without its token got the HTML page, which it cannot read."""
    answer = alice.client.post(
        "/dashboard/settings",
        data={"display_name": "X", "bio": ""},
        headers={"Accept": "application/json, text/plain, */*"},
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("referrer", [None, "https://evil.example/form", "https://[::1"])
def test_a_refusal_by_the_referrer_is_logged_once_without_the_token(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, referrer: str | None
) -> None:
    """A token refusal was logged by Flask-WTF (``The CSRF token is invalid.``), one by the Referer not
    at all: an operator whose visitors' browsers strip it saw 400s and no reason."""
    token = form_token(client.get("/login", base_url="https://localhost"))
    login = {"csrf_token": token, "login": "nobody", "password": "wrong password"}
    headers = {"Referer": referrer} if referrer else {}
    caplog.set_level(logging.INFO)
    caplog.clear()
    response = client.post("/login", data=login, base_url="https://localhost", headers=headers)
    assert response.status_code == 400
    lines = [record for record in caplog.records if record.name in ("conexoos.csrf", "flask_wtf.csrf")]
    reason = "an HTTPS request without a Referer header" if referrer is None else "the Referer names another"
    assert [record.name for record in lines] == ["conexoos.csrf"]
    assert lines[0].getMessage().startswith(f"CSRF check refused POST /login: {reason}")
    assert token[:20] not in caplog.text


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "no token was sent (neither the csrf_token form field nor the X-CSRFToken header)"),
        ("not-a-token", "the token is malformed or was not signed by this site"),
    ],
)
def test_a_refusal_by_the_token_is_logged_once_with_the_request(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, token: str | None, reason: str
) -> None:
    """Only Flask-WTF's ``INFO The CSRF token is missing.`` was logged, without the request, and nothing
    at LOG.LEVEL WARNING."""
    client.get("/login")
    login = {"login": "nobody", "password": "wrong password"} | ({"csrf_token": token} if token else {})
    caplog.set_level(logging.INFO)
    caplog.clear()
    response = client.post("/login", data=login)
    assert response.status_code == 400
    lines = [record for record in caplog.records if record.name in ("conexoos.csrf", "flask_wtf.csrf")]
    assert [(record.name, record.levelname) for record in lines] == [("conexoos.csrf", "WARNING")]
    assert lines[0].getMessage().startswith(f"CSRF check refused POST /login: {reason}")
