"""The findings of the mail and token review: change links bound to the password, the sessions and the
newest request; reset links bound to the address; addresses the mailer refuses refused by the forms; one
normal form of an address; per-account caps on unsolicited mail; no-store, no-referrer link pages."""

from __future__ import annotations

import itertools

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import User
from conexoos.app.utils.email_address import normalize_email
from tests.conftest import AppFactory
from tests.support.smtp_server import SmtpServer

from .conftest import PASSWORD, Account, form_token, product_app, sign_up
from .test_mail_flows import NEW_PASSWORD, ask_reset, change_email, link_in, mail_to, post_form, user

pytestmark = pytest.mark.database_matrix
REFUSED_BY_IDNA = [
    "zz@-ex.com",
    "zz@ex-.com",
    "a@ex..com",
    "a@[127.0.0.1]",
    "zz@xn--a.com",
    "zz@xn--ex-.com",
    "zz@ex.xn--",
    "zz@ex\u200dample.com",
    "zz@xn--ls8h.la",
    "zz@127.0.0.1",  # a host, not a domain: no top-level domain is a number
    "zz@foo.invalid",  # RFC 6761: receives no mail, so its verification could never arrive
    "zz@169.254.169.254",
    "zz@0x7f.0.0.1",
]


def requested_change(app: Flask, server: SmtpServer, account: Account, new_email: str) -> str:
    """Ask to move ``account`` to ``new_email``; the path of the link mailed there."""
    assert change_email(account, new_email).status_code == 302
    [message] = mail_to(app, server, new_email)
    return link_in(message)


def signup_from(client: FlaskClient, email: str, username: str, address: str) -> TestResponse:
    environ = {"REMOTE_ADDR": address}
    token = form_token(client.get("/signup", environ_base=environ))
    data = {"csrf_token": token, "email": email, "username": username, "password": PASSWORD}
    return client.post("/signup", data=data, environ_base=environ)


# ---------------------------------------------------------------- change links


def test_a_change_link_stops_working_after_a_password_change(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "victim", email="victim@example.com")
    path = requested_change(mail_app, smtp_server, account, "thief@example.net")
    assert mail_app.test_client().get(path).status_code == 200
    changed = account.client.post(
        "/settings/security/password",
        data={
            "csrf_token": account.csrf,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert mail_app.test_client().get(path).status_code == 410
    assert user(mail_app, "victim").email == "victim@example.com"


def test_a_change_link_stops_working_after_logging_out_everywhere_else(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "victim", email="victim@example.com")
    path = requested_change(mail_app, smtp_server, account, "thief@example.net")
    ended = account.client.post("/settings/security/sessions/end-others", data={"csrf_token": account.csrf})
    assert ended.status_code == 302
    refused = mail_app.test_client().get(path)
    assert refused.status_code == 410 and "newer change" in refused.get_data(as_text=True)


def test_only_the_newest_change_link_works(mail_app: Flask, smtp_server: SmtpServer) -> None:
    account = sign_up(mail_app, "mover", email="mover@example.com")
    older = requested_change(mail_app, smtp_server, account, "p1@example.net")
    newer = requested_change(mail_app, smtp_server, account, "p2@example.net")
    assert mail_app.test_client().get(older).status_code == 410
    browser = mail_app.test_client()
    assert browser.get(newer).status_code == 200
    assert post_form(browser, newer).status_code == 302
    assert user(mail_app, "mover").email == "p2@example.net"


def test_the_current_address_is_told_when_a_change_is_asked_for(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "owner", email="owner@example.com")
    requested_change(mail_app, smtp_server, account, "newaddress@example.net")
    _verification, notice = mail_to(mail_app, smtp_server, "owner@example.com", count=2)
    text = notice.part("plain")
    assert notice.message["Subject"] == "A change of your Conexoos email address was asked for"
    assert "n***@example.net" in text and "newaddress" not in text and "change your password" in text


# ---------------------------------------------------------------- reset links


def test_a_reset_link_stops_working_when_the_address_changes(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "resetter", email="old@example.com")
    assert ask_reset(mail_app, "resetter").status_code == 302
    _verification, reset_mail = mail_to(mail_app, smtp_server, "old@example.com", count=2)
    reset = link_in(reset_mail)
    assert mail_app.test_client().get(reset).status_code == 200
    change = requested_change(mail_app, smtp_server, account, "new@example.com")
    browser = mail_app.test_client()
    browser.get(change)
    assert post_form(browser, change).status_code == 302
    refused = mail_app.test_client().get(reset)
    assert refused.status_code == 410 and "email address was changed" in refused.get_data(as_text=True)


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize("address", REFUSED_BY_IDNA)
def test_addresses_the_mailer_refuses_are_422_on_sign_up_and_change(
    mail_app: Flask, smtp_server: SmtpServer, address: str
) -> None:
    refused = post_form(mail_app.test_client(), "/signup", email=address, username="idna", password=PASSWORD)
    assert refused.status_code == 422
    assert "not a domain mail can be sent to" in refused.get_data(as_text=True)
    account = sign_up(mail_app, "changer")
    changed = change_email(account, address)
    assert changed.status_code == 422
    assert "not a domain mail can be sent to" in changed.get_data(as_text=True)
    with mail_app.app_context():
        created = CliRunner().invoke(
            mail_app.cli,
            ["user", "create", "--email", address, "--username", "bycli", "--password", PASSWORD],
        )
    assert created.exit_code == 2 and "not a domain mail can be sent to" in created.output


@pytest.mark.parametrize(
    "address",
    [
        "a;b@example.net",
        "x,y@example.net",
        "<script>@example.net",
        "(c)victim@example.com",
        "a(b)c@example.net",
        '"a..b"@example.net',  # quotes it needs: a mail header drops them (a 500 when queued)
        '"a b"@example.net',
        'a"b"@example.net',
        "a@example.net..",
    ],
)
def test_addresses_mail_headers_read_otherwise_are_422_on_sign_up_and_change(
    mail_app: Flask, smtp_server: SmtpServer, address: str
) -> None:
    """The mailer would read them as no address (a 500 when the mail was queued) or as another one (mail
    sent to an address other than the one stored)."""
    refused = post_form(
        mail_app.test_client(), "/signup", email=address, username="headers", password=PASSWORD
    )
    assert refused.status_code == 422
    assert "Enter a valid email address" in refused.get_data(as_text=True)
    account = sign_up(mail_app, "changer")
    changed = change_email(account, address)
    assert changed.status_code == 422
    with mail_app.app_context():
        created = CliRunner().invoke(
            mail_app.cli,
            ["user", "create", "--email", address, "--username", "bycli", "--password", PASSWORD],
        )
    assert created.exit_code == 2, created.output


def test_a_trailing_dot_or_case_is_the_same_address(mail_app: Flask, smtp_server: SmtpServer) -> None:
    sign_up(mail_app, "alice", email="alice@ex.com")
    with mail_app.app_context():
        assert normalize_email(" Alice@EX.com. ") == "alice@ex.com"
        assert normalize_email('"Alice"@ex.com') == "alice@ex.com"  # needless quotes: a 500 at sign-up
        assert normalize_email("a@BÜCHER.de") == normalize_email("a@xn--bcher-kva.de") == "a@bücher.de"
        found = User.get_by_login("ALICE@ex.COM.")
        assert found is not None and found.username == "alice"
    twin = post_form(
        mail_app.test_client(), "/signup", email="alice@ex.com.", username="twin", password=PASSWORD
    )
    assert twin.status_code == 302
    with mail_app.app_context():
        assert User.get_by_username("twin") is None
    for username, spelling in (
        ("quoted", '"alice"@ex.com'),
        ("stop", "alice@ex\u3002com"),
    ):  # as log-in reads
        again = post_form(
            mail_app.test_client(), "/signup", email=spelling, username=username, password=PASSWORD
        )
        assert again.status_code == 302, again.get_data(as_text=True)[-400:]
        with mail_app.app_context():
            assert User.get_by_username(username) is None
    _verification, *notices = mail_to(mail_app, smtp_server, "alice@ex.com", count=4)
    assert [notice.message["Subject"] for notice in notices] == [
        "Someone tried to sign up with your address"
    ] * 3


def test_no_email_posted_to_sign_up_or_change_gives_a_500(app: Flask) -> None:
    account = sign_up(app, "prober")
    names = itertools.count()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        email=st.one_of(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
            st.emails(),
            st.sampled_from(REFUSED_BY_IDNA),
        )
    )
    def posted(email: str) -> None:
        username = f"u{next(names)}"
        signed = post_form(app.test_client(), "/signup", email=email, username=username, password=PASSWORD)
        assert signed.status_code in (302, 422), email
        assert change_email(account, email).status_code in (302, 422), email

    posted()


# ---------------------------------------------------------------- unsolicited mail caps


def test_sign_ups_with_a_known_address_mail_its_owner_at_most_three_times_an_hour(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}}
    app = product_app(make_app, {"SERVICES": {"smtp": smtp_server.settings()}, **limits})
    sign_up(app, "target", email="target@example.com")
    answers = [
        signup_from(app.test_client(), "target@example.com", f"bomber{n}", f"10.0.0.{n}") for n in range(5)
    ]
    assert {(answer.status_code, answer.headers["Location"]) for answer in answers} == {(302, "/signup/sent")}
    messages = mail_to(app, smtp_server, "target@example.com", count=4)  # verification + 3 notices
    assert [m.message["Subject"] for m in messages[1:]] == ["Someone tried to sign up with your address"] * 3


def test_reset_mails_are_capped_per_account_however_it_is_named(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}}
    app = product_app(make_app, {"SERVICES": {"smtp": smtp_server.settings()}, **limits})
    sign_up(app, "target", email="target@example.com")
    logins = ["target", "TARGET", "target@example.com", "Target@Example.com", "target"]
    answers = [ask_reset(app, login) for login in logins]
    assert {(answer.status_code, answer.headers["Location"]) for answer in answers} == {
        (302, "/password/forgot/sent")
    }
    mail_to(app, smtp_server, "target@example.com", count=4)  # verification + 3 reset links


# ---------------------------------------------------------------- headers


def test_link_pages_are_not_stored_and_send_referrers_only_to_this_site(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "private", email="private@example.com")
    [verification] = mail_to(mail_app, smtp_server, "private@example.com")
    assert ask_reset(mail_app, "private").status_code == 302
    [_verification, reset] = mail_to(mail_app, smtp_server, "private@example.com", count=2)
    change = requested_change(mail_app, smtp_server, account, "elsewhere@example.com")
    undo = "/settings/email/undo/garbled"  # the undo link's page too (its token lasts 7 days)
    for path in (link_in(verification), link_in(reset), change, "/password/reset/garbled", undo):
        page = mail_app.test_client().get(path)
        assert page.headers["Cache-Control"] == "no-store", path
        assert page.headers["Referrer-Policy"] == "same-origin", path
