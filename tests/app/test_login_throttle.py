"""Log-in throttling cannot lock the owner out: wrong guesses slow down the network they come from, for
that login; the right password from another network still logs in; the username and the email of one
account count apart, so a lock tells nothing about whose an email is; the owner's alert is due after
enough failures through either, once."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from conexoos.app.controllers.login_throttle import failed_login_alert_due
from conexoos.app.models.persistent import User
from conexoos.app.utils.network import network_of
from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage
from tests.conftest import AppFactory

from .conftest import PASSWORD, QUIET, sign_up
from .test_accounts import post_login

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

ATTACKER = "198.51.100.{}"
OWNER = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def limited_app(make_app: AppFactory) -> Flask:
    """The product with its rate limits on (in memory), and an account ``target``."""
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    app = make_app(overrides={**QUIET, **limits})
    sign_up(app, "target", "target@example.com")
    return app


def guess(app: Flask, login: str, host: int, network: str = ATTACKER) -> int:
    """One wrong password for ``login`` from address ``host`` of ``network``; the answer's status."""
    environ = {"REMOTE_ADDR": network.format(host)}
    return post_login(app.test_client(), login, "wrong password!", environ_base=environ).status_code


def test_the_guessing_network_is_slowed_down_and_the_owner_logs_in_from_another(limited_app: Flask) -> None:
    statuses = [guess(limited_app, "target", host) for host in range(1, 7)]
    assert statuses == [401] * 5 + [429]  # five addresses of one /24 are one network
    refused = post_login(
        limited_app.test_client(), "target", PASSWORD, environ_base={"REMOTE_ADDR": ATTACKER.format(50)}
    )
    assert refused.status_code == 429  # not even the right password is tried from that network now
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    page = refused.get_data(as_text=True)
    assert '<p class="errors" role="alert">Too many failed log-ins' in page and "from your network" in page
    assert re.search(r'<input[^>]*name="login"[^>]*value="target"', page)  # the form again, as typed
    assert PASSWORD not in page and 'name="csrf_token"' in page
    as_json = post_login(
        limited_app.test_client(),
        "target",
        PASSWORD,
        environ_base={"REMOTE_ADDR": ATTACKER.format(51)},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 429 and "from your network" in as_json.get_json()["error"]["message"]
    owner = post_login(limited_app.test_client(), "target", PASSWORD, environ_base=OWNER)
    assert owner.status_code == 302  # the owner is not locked out
    assert guess(limited_app, "someone_else", 7) == 401  # other accounts from that network still answer


def test_each_spelling_of_a_login_counts_together(limited_app: Flask) -> None:
    logins = ["target", " target ", "TARGET", "Target", "TaRgEt "]
    assert [guess(limited_app, login, n) for n, login in enumerate(logins)] == [401] * 5
    assert guess(limited_app, "tarGET", 9) == 429
    emails = ["target@example.com", "TARGET@example.com", "target@EXAMPLE.com ", "Target@Example.com"] * 2
    assert [guess(limited_app, login, n) for n, login in enumerate(emails)] == [401] * 5 + [429] * 3


def test_every_spelling_of_an_address_that_logs_in_is_one_login(limited_app: Flask) -> None:
    """A trailing dot, full-width letters or an ideographic full stop in the domain reach the same account:
    each spelling had its own count, so a network could guess without end (outside tester)."""
    spellings = [
        "target@example.com.",
        '"target"@example.com',  # needless quotes (two trailing dots are no address: refused, its own count)
        "target@\uff45xample.com",
        "target@e\uff58ample.com",
        "target@example\u3002com",
    ]
    assert [guess(limited_app, login, n) for n, login in enumerate(spellings)] == [401] * 5
    assert guess(limited_app, "target@exam\uff50le.com", 9) == 429
    assert guess(limited_app, "target@example.com", 9) == 429
    unknown = ["nobody@example.com.", "nobody@\uff45xample.com", "NOBODY@example\u3002com"] * 2
    assert [guess(limited_app, login, n) for n, login in enumerate(unknown)][-1] == 429


def test_a_throttled_username_says_nothing_about_whose_an_email_is(limited_app: Flask) -> None:
    """Guesses at the public username lock that login; then the owner's email and an unknown one are
    answered alike (a 429 for the owner's alone used to tell that it is theirs)."""
    assert [guess(limited_app, "target", n) for n in range(1, 7)] == [401] * 5 + [429]
    sign_up(limited_app, "other", "other@example.com")
    answers = {
        email: [guess(limited_app, email, n) for n in range(1, 7)]
        for email in ["target@example.com", "other@example.com", "nobody@example.com"]
    }
    assert answers == dict.fromkeys(answers, [401] * 5 + [429])


def test_an_unknown_login_counts_by_its_normalised_text(limited_app: Flask) -> None:
    assert [guess(limited_app, login, 1) for login in ["Nobody", "nobody ", "NOBODY"] * 2][-1] == 429
    assert guess(limited_app, "nobody2", 1) == 401


def test_ipv6_networks_are_counted_per_48() -> None:
    assert network_of("2001:db8:1:2::7") == network_of("2001:db8:1:ffff::1") == "2001:db8:1::/48"
    assert network_of("2001:db8:2::1") != network_of("2001:db8:1::1")
    assert network_of("::ffff:198.51.100.7") == network_of("198.51.100.200") == "198.51.100.0/24"
    assert network_of("not an address") == "not an address"


def test_the_owner_is_mailed_once_after_enough_failures(limited_app: Flask) -> None:
    def alerts() -> list[str]:
        with limited_app.app_context():
            rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            return [row.recipient for row in rows if "Failed attempts" in row.subject]

    assert [guess(limited_app, "target", n, "10.{}.0.1") for n in range(1, 5)] == [401] * 4
    assert alerts() == []  # four failures: not yet
    assert guess(limited_app, "target@example.com", 5, "10.{}.0.1") == 401
    assert alerts() == ["target@example.com"]  # the fifth, through the email, from yet another network
    assert guess(limited_app, "target", 6, "10.{}.0.1") == 401
    assert alerts() == ["target@example.com"]  # told once, not on every later failure
    with limited_app.test_request_context():
        user = User.get_by_username("target")
        assert user is not None
        assert not failed_login_alert_due(user)
