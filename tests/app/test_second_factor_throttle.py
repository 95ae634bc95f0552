"""The login's second step cannot be used to lock the owner out: wrong codes slow down the network they come
from, for that account; the owner's code from another network still logs in; all networks together have a
per-account bound; the owner is mailed when codes keep failing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage
from tests.conftest import AppFactory

from .conftest import PASSWORD, QUIET, form_token, sign_up
from .two_factor_support import code_at, enrol_totp, post_code

pytestmark = pytest.mark.database_matrix
OWNER = "203.0.113.9"
WRONG = "abc"


@pytest.fixture
def limited_app(make_app: AppFactory) -> Flask:
    """The product with its rate limits on (in memory)."""
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    return make_app(overrides={**QUIET, **limits})


@pytest.fixture
def secret(limited_app: Flask) -> str:
    """The authenticator secret of ``target``, who turned two-factor on."""
    secret, _ = enrol_totp(sign_up(limited_app, "target", "target@example.com"))
    return secret


def half_logged_in(app: Flask, address: str) -> FlaskClient:
    """A new browser at ``address`` that gave target's password and waits at the second step."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    token = form_token(browser.get("/login"))
    response = browser.post("/login", data={"csrf_token": token, "login": "target", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/two-factor")
    return browser


def alerts(app: Flask) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [row.recipient for row in rows if row.subject.startswith("Wrong codes")]


def test_the_owner_passes_after_wrong_codes_from_five_networks(limited_app: Flask, secret: str) -> None:
    statuses = [post_code(half_logged_in(limited_app, f"198.51.{n}.7"), WRONG).status_code for n in range(5)]
    assert statuses == [401] * 5
    owner = post_code(half_logged_in(limited_app, OWNER), code_at(secret, 1))
    assert owner.status_code == 302 and not owner.headers["Location"].endswith("/login")
    assert alerts(limited_app) == ["target@example.com"]  # told once: the password is known to someone


def test_one_network_is_slowed_down_and_another_is_not(limited_app: Flask, secret: str) -> None:
    guesser = half_logged_in(limited_app, "198.51.100.7")
    assert [post_code(guesser, WRONG).status_code for _ in range(4)] == [401] * 4
    assert post_code(guesser, WRONG).status_code == 302  # the fifth ends the half login
    again = half_logged_in(limited_app, "198.51.100.200")  # the same /24
    refused = post_code(again, code_at(secret, 1))
    assert refused.status_code == 429  # not even a right code is tried from that network now
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "from your network" in refused.get_data(as_text=True)
    owner = post_code(half_logged_in(limited_app, OWNER), code_at(secret, 1))
    assert owner.status_code == 302 and not owner.headers["Location"].endswith("/login")


def test_all_networks_together_are_bounded_per_account(limited_app: Flask, secret: str) -> None:
    for n in range(6):  # 30 wrong codes, five from each of six networks
        guesser = half_logged_in(limited_app, f"198.51.{n}.7")
        assert [post_code(guesser, WRONG).status_code for _ in range(5)] == [401] * 4 + [302]
    refused = post_code(half_logged_in(limited_app, OWNER), code_at(secret, 1))
    assert refused.status_code == 429  # the documented bound on guessing
    assert 60 < int(refused.headers["Retry-After"]) <= 3600
    assert "within the hour" in refused.get_data(as_text=True)
    assert alerts(limited_app) == ["target@example.com"]  # and the owner was told, once
