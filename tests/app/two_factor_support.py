"""Steps the two-factor and passkey tests share: enrol an authenticator app, log in, read the session id."""

from __future__ import annotations

import re
import time

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .conftest import Account, form_token

_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
_CODE = re.compile(r"<li><code>([a-z2-7-]{19})</code></li>")


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The authenticator app's code ``steps_ahead`` 30-second steps from now (0: the current one)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def start_totp(account: Account, confirmation: str | None = None) -> str:
    """Start the enrolment confirmed with ``confirmation`` (the account's password unless given); return
    the secret the page shows as text."""
    data = {"csrf_token": account.csrf, "start-confirmation": confirmation or account.password}
    started = account.client.post("/settings/two-factor/totp/start", data=data)
    assert started.status_code == 302 and started.headers["Location"].endswith("/settings/two-factor/totp")
    page = account.client.get("/settings/two-factor/totp")
    assert page.status_code == 200
    match = _SECRET.search(page.get_data(as_text=True))
    assert match, "the enrolment page shows no secret"
    return match.group(1)


def enrol_totp(account: Account) -> tuple[str, list[str]]:
    """Turn the authenticator app on (with the current code); return the secret and the recovery codes."""
    secret = start_totp(account)
    confirmed = account.client.post(
        "/settings/two-factor/totp", data={"csrf_token": account.csrf, "code": code_at(secret)}
    )
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    assert confirmed.headers["Location"].endswith("/settings/two-factor/recovery-codes")
    return secret, shown_codes(account.client)


def shown_codes(client: FlaskClient) -> list[str]:
    """The recovery codes the once-only page shows."""
    page = client.get("/settings/two-factor/recovery-codes")
    assert page.status_code == 200
    codes = _CODE.findall(page.get_data(as_text=True))
    assert len(codes) == 10
    return codes


def password_step(app: Flask, login: str, password: str) -> tuple[FlaskClient, TestResponse]:
    """A new browser posting the login form; return it and the answer."""
    browser = app.test_client()
    token = form_token(browser.get("/login"))
    response = browser.post("/login", data={"csrf_token": token, "login": login, "password": password})
    return browser, response


def session_id(app: Flask, client: FlaskClient) -> str:
    """The value of the client's session cookie ('' without one)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else ""


def post_code(client: FlaskClient, code: str) -> TestResponse:
    """Answer the login's second step with ``code``."""
    token = form_token(client.get("/login/two-factor"))
    return client.post("/login/two-factor", data={"csrf_token": token, "code": code})
