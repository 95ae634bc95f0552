"""Anonymous visitors store no session on the server: a flood of cookieless requests to a form page
cannot fill Redis or the session folder, and the public page sets no cookie at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask

from tests.conftest import AppFactory

from .conftest import PASSWORD, Account, form_token
from .session_flood import FLOOD_TIMEOUT, flood_stores_at_most_one_session, stored_sessions


@pytest.mark.timeout(FLOOD_TIMEOUT)
def test_ten_thousand_cookieless_login_pages_store_at_most_one_session(make_app: AppFactory) -> None:
    """On the session folder; Redis: test_sessions_flood_redis.py."""
    flood_stores_at_most_one_session(make_app, "filesystem")


def test_anonymous_pages_set_no_cookie(app: Flask, alice: Account) -> None:
    link_id = alice.add_link()["id"]
    for path in ("/", f"/{alice.username}", f"/go/{link_id}", "/robots.txt", "/no-such-page"):
        response = app.test_client().get(path)
        assert response.status_code < 500, path
        assert response.headers.getlist("Set-Cookie") == [], path


def test_requests_after_a_form_page_leave_its_cookie_alone(app: Flask, alice: Account) -> None:
    """Requests that only read an anonymous session (the login page's passkey challenge, pages that ask who
    is signed in) set no cookie: if their answers arrive after a login's, they would put the older
    anonymous cookie back and log the visitor out."""
    browser = app.test_client()
    token = form_token(browser.get("/login"))
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    answers = [
        browser.post("/login/passkey/options", json={}, headers=headers),
        browser.get("/"),
        browser.get(f"/{alice.username}"),
        browser.get("/dashboard"),
        browser.get("/api/links", headers={"Accept": "application/json"}),
        browser.get("/login"),
    ]
    for answer in answers:
        assert answer.status_code < 500, answer.request.path
        assert answer.headers.getlist("Set-Cookie") == [], answer.request.path


def test_a_form_page_gives_a_short_lived_signed_cookie_only(app: Flask) -> None:
    response = app.test_client().get("/signup")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    value = cookies[0].split(";")[0].split("=", 1)[1]
    assert value.count(".") >= 2  # payload.timestamp.signature: the data is in the cookie, not a store id
    expires = parsedate_to_datetime(cookies[0].split("Expires=")[1].split(";")[0])
    assert expires - datetime.now(UTC) <= timedelta(hours=2, minutes=1)
    assert stored_sessions(app, "filesystem") == 0


def test_login_replaces_a_planted_anonymous_session(app: Flask, alice: Account) -> None:
    """An attacker who plants their own anonymous cookie in a victim's browser learns nothing: at login the
    session gets a new server-side id and a new CSRF secret."""
    attacker = app.test_client()
    planted_token = form_token(attacker.get("/login"))
    planted = attacker.get_cookie("session")
    assert planted is not None
    victim = app.test_client()
    victim.set_cookie("session", planted.value)
    response = victim.post(
        "/login", data={"csrf_token": planted_token, "login": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert victim.get_cookie("session").value != planted.value  # type: ignore[union-attr]
    forged = victim.post("/dashboard/settings", data={"csrf_token": planted_token, "display_name": "pwned"})
    assert forged.status_code == 400
