"""Ending sessions works at once on every session store: files, Redis, memcached (the real servers) and
the database. The registry decides; the ended session's stored data goes at its next request."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.framework.test_sessions import BACKENDS, cookie_value, forget, session_overrides, stored_in_backend

from .conftest import PASSWORD, QUIET, RATE_LIMITS_OFF, form_token, sign_up
from .test_accounts import is_logged_in, post_login

NEW_PASSWORD = "seven lanterns over the bay"


def browser(app: Flask, password: str = PASSWORD) -> FlaskClient:
    """Another browser logged in as alice."""
    client = app.test_client()
    assert post_login(client, "alice", password).status_code == 302
    return client


@pytest.mark.parametrize("backend", BACKENDS)
def test_password_change_and_log_out_everywhere_else_end_sessions_at_once(
    make_app: AppFactory, backend: str
) -> None:
    overrides = session_overrides(backend, f"ending-{secrets.token_hex(4)}")
    app = make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides))
    alice = sign_up(app, "alice").client
    phone = browser(app)
    sids = [cookie_value(phone), cookie_value(alice)]
    try:
        _check_ending(app, backend, alice, phone, sids)
    finally:
        forget(app, backend, *sids)  # the shared Redis and memcached keep nothing of the test


def _check_ending(app: Flask, backend: str, alice: FlaskClient, phone: FlaskClient, sids: list[str]) -> None:
    phone_sid, old_sid = sids
    assert stored_in_backend(app, backend, phone_sid)
    token = form_token(alice.get("/settings/security"))
    data = {"csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = alice.post("/settings/security/password", data={**data, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    sids.append(cookie_value(alice))
    assert sids[-1] != old_sid and not stored_in_backend(app, backend, old_sid)
    assert not is_logged_in(phone)  # at once
    assert not stored_in_backend(app, backend, phone_sid)  # its data went when it came back
    # Its cookie stays as it was: that request could have started before a logout or a new login of the
    # same browser answered, whose cookie deleting it would throw away. It now names nothing.
    assert cookie_value(phone) == phone_sid
    assert not is_logged_in(phone)
    assert is_logged_in(alice)
    laptop = browser(app, NEW_PASSWORD)
    sids.append(cookie_value(laptop))
    token = form_token(alice.get("/settings/security"))
    assert alice.post("/settings/security/sessions/end-others", data={"csrf_token": token}).status_code == 302
    assert not is_logged_in(laptop)
    assert is_logged_in(alice)
