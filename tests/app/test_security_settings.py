"""Settings → Security: change the password (other sessions end, this one goes on under a new id), list
the logged-in sessions, and end one or all the others."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.controllers.accounts import PasswordRejected, set_password
from conexoos.app.controllers.user_sessions import end_sessions
from conexoos.app.models.persistent import User, UserSession
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory

from .conftest import BROWSER_UA, PASSWORD, QUIET, RATE_LIMITS_OFF, Account, SignUp, form_token, sign_up
from .test_accounts import field_errors, is_logged_in, post_login, session_id
from .test_public_page import counted_statements

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

NEW_PASSWORD = "seven lanterns over the bay"
FIREFOX_UA = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
_SESSION_ROW = re.compile(r'<tr data-session="(\d+)"( class="current")?>')


def log_in_again(app: Flask, account: Account, address: str = "198.51.100.20", **headers: str) -> FlaskClient:
    """A second, separate browser logged in as ``account``."""
    browser = app.test_client()
    response = post_login(
        browser, account.username, account.password, environ_base={"REMOTE_ADDR": address}, headers=headers
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def change_password(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> TestResponse:
    token = form_token(client.get("/settings/security"))
    data = {"csrf_token": token, "current_password": current, "new_password": new, "confirm": confirm or new}
    return client.post("/settings/security/password", data=data)


def session_ids(client: FlaskClient) -> list[int]:
    """The ids of the sessions listed, this device's first."""
    rows = _SESSION_ROW.findall(client.get("/settings/security").get_data(as_text=True))
    return [int(found) for found, current in sorted(rows, key=lambda row: not row[1])]


def registry_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession)) or 0


def test_the_page_needs_a_login_and_is_linked_from_settings(client: FlaskClient, alice: Account) -> None:
    assert client.get("/settings/security").status_code == 302
    assert "/login" in client.get("/settings/security").headers["Location"]
    assert 'href="/settings/security"' in alice.client.get("/dashboard/settings").get_data(as_text=True)


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    app: Flask, alice: Account, signed_up: SignUp
) -> None:
    bob = signed_up("bob")
    phone = log_in_again(app, alice)
    before = session_id(alice.client)
    response = change_password(alice.client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert session_id(alice.client) != before  # a new id for this session
    assert is_logged_in(alice.client)
    assert not is_logged_in(phone)  # at once, on its very next request
    assert is_logged_in(bob.client)  # other people's sessions are not touched
    assert post_login(app.test_client(), "alice", PASSWORD).status_code == 401
    assert post_login(app.test_client(), "alice", NEW_PASSWORD).status_code == 302
    page = alice.client.get("/settings/security").get_data(as_text=True)
    assert "Every other session is logged out" in page


def test_a_refused_change_says_why_and_changes_nothing(app: Flask, alice: Account) -> None:
    phone = log_in_again(app, alice)
    cases = [
        ((f"not {PASSWORD}", NEW_PASSWORD, None), "current_password", "This is not your current password."),
        ((PASSWORD, "sunshine2024", None), "new_password", "10,000 most common passwords"),
        ((PASSWORD, "alice-forever-1", None), "new_password", "built from your username"),
        ((PASSWORD, "short one", None), "new_password", "Use at least 10 characters"),
        ((PASSWORD, PASSWORD, None), "new_password", "other than your current one"),
        ((PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!"), "confirm", "The two new passwords differ."),
    ]
    for (current, new, confirm), field, message in cases:
        response = change_password(alice.client, current, new, confirm)
        assert response.status_code == 422, (new, response.status_code)
        assert message in field_errors(response, field), new
    assert is_logged_in(phone)
    assert post_login(app.test_client(), "alice", PASSWORD).status_code == 302


def test_every_problem_of_a_change_is_told_in_one_round(app: Flask, alice: Account) -> None:
    """The new password's rules ran only once the form's own checks passed: the two new passwords differing
    hid that the new one was too common, told only at the next send."""
    response = change_password(alice.client, "", "sunshine2024", "sunshine2025")
    assert response.status_code == 422
    assert "This field is required." in field_errors(response, "current_password")
    assert "10,000 most common passwords" in field_errors(response, "new_password")
    assert "The two new passwords differ." in field_errors(response, "confirm")
    focused = re.findall(r"<input[^>]*\bautofocus\b[^>]*>", response.get_data(as_text=True))
    assert len(focused) == 1 and 'name="current_password"' in focused[0], focused
    assert post_login(app.test_client(), "alice", PASSWORD).status_code == 302


def test_the_list_shows_device_place_and_this_device(app: Flask, alice: Account) -> None:
    log_in_again(app, alice, "203.0.113.77", **{"User-Agent": FIREFOX_UA})
    page = alice.client.get("/settings/security").get_data(as_text=True)
    assert "Firefox on Ubuntu" in page
    assert "network 203.0.113.0/24" in page
    assert page.count("(this device)") == 1
    assert len(session_ids(alice.client)) == 2
    assert "Log out everywhere else" in page


def test_the_place_is_the_country_when_the_analytics_header_gives_one(make_app: AppFactory) -> None:
    overrides = deep_merge(
        deep_merge(RATE_LIMITS_OFF, QUIET), {"APP": {"ANALYTICS": {"COUNTRY_HEADER": "CF-IPCountry"}}}
    )
    app = make_app(overrides=overrides)
    account = sign_up(app, "alice")
    log_in_again(app, account, **{"CF-IPCountry": "pt"})
    assert ">PT<" in account.client.get("/settings/security").get_data(as_text=True)


def test_one_session_can_be_logged_out(app: Flask, alice: Account, bob: Account) -> None:
    phone = log_in_again(app, alice, **{"User-Agent": BROWSER_UA})
    ids = session_ids(alice.client)
    own, phone_id = ids
    token = form_token(alice.client.get("/settings/security"))
    response = alice.client.post(f"/settings/security/sessions/{phone_id}/end", data={"csrf_token": token})
    assert response.status_code == 302
    assert not is_logged_in(phone)
    assert is_logged_in(alice.client)
    assert session_ids(alice.client) == [own]
    # Someone else's session, or one already ended: 404, and nothing ends.
    bob_token = form_token(bob.client.get("/settings/security"))
    ended = bob.client.post(f"/settings/security/sessions/{own}/end", data={"csrf_token": bob_token})
    assert ended.status_code == 404
    assert is_logged_in(alice.client)
    again = alice.client.post(f"/settings/security/sessions/{phone_id}/end", data={"csrf_token": token})
    assert again.status_code == 404


def test_each_session_s_log_out_button_names_its_session(app: Flask, alice: Account) -> None:
    """Every button was named "Log out": a screen reader's list of buttons could not tell them apart."""
    log_in_again(app, alice, **{"User-Agent": BROWSER_UA})
    page = alice.client.get("/settings/security").get_data(as_text=True)
    names = [
        re.sub(r"<[^>]+>", "", name).strip()
        for name in re.findall(
            r'<button type="submit">(Log out<span class="visually-hidden">.*?)</button>', page
        )
    ]
    assert len(names) == 2 and all(name.startswith("Log out ") for name in names), names
    assert sorted(name.endswith(", this device") for name in names) == [False, True], names
    assert sum(", last seen " in name and name.endswith(" UTC") for name in names) == 1, names


def test_logging_out_this_device_from_the_list_logs_out_here(app: Flask, alice: Account) -> None:
    [own] = session_ids(alice.client)
    token = form_token(alice.client.get("/settings/security"))
    response = alice.client.post(f"/settings/security/sessions/{own}/end", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not is_logged_in(alice.client)
    assert registry_count(app) == 0


def test_log_out_everywhere_else(app: Flask, alice: Account, bob: Account) -> None:
    others = [log_in_again(app, alice, f"198.51.100.{n}") for n in (1, 2, 3)]
    token = form_token(alice.client.get("/settings/security"))
    response = alice.client.post("/settings/security/sessions/end-others", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Logged out 3 other sessions." in alice.client.get("/settings/security").get_data(as_text=True)
    assert [is_logged_in(other) for other in others] == [False, False, False]
    assert is_logged_in(alice.client) and is_logged_in(bob.client)


def test_logout_removes_the_session_from_the_registry(app: Flask, alice: Account) -> None:
    assert registry_count(app) == 1
    token = form_token(alice.client.get("/dashboard/settings"))
    assert alice.client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert registry_count(app) == 0


def test_set_password_and_end_sessions_outside_a_request(app: Flask, alice: Account) -> None:
    """The seams for password reset, operator commands, suspension and deletion."""
    phone = log_in_again(app, alice)
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        with pytest.raises(PasswordRejected, match="most common"):
            set_password(user, "password123")
        set_password(user, NEW_PASSWORD)  # no request of alice's: every session ends
    assert not is_logged_in(phone) and not is_logged_in(alice.client)
    again = app.test_client()
    assert post_login(again, "alice", NEW_PASSWORD).status_code == 302
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        assert end_sessions(user, keep_current=False) == 1
    assert not is_logged_in(again)


def test_deleting_a_user_deletes_their_sessions(app: Flask, alice: Account) -> None:
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        user.delete()
    assert registry_count(app) == 0


def test_anonymous_requests_never_touch_the_registry(app: Flask, alice: Account, client: FlaskClient) -> None:
    client.get("/alice")
    with counted_statements(app) as statements:
        assert client.get("/alice", headers={"User-Agent": BROWSER_UA}).status_code == 200
    assert not [statement for statement in statements if "user_session" in statement]
    assert len([statement for statement in statements if statement.upper().startswith("SELECT")]) <= 2


def test_a_logged_in_request_loads_user_and_session_in_one_query(app: Flask, alice: Account) -> None:
    alice.client.get("/api/links")
    with counted_statements(app) as statements:
        assert alice.client.get("/api/links").status_code == 200
    loads = [statement for statement in statements if "user_session" in statement]
    assert len(loads) == 1 and "JOIN" in loads[0].upper(), statements
