"""Verification, password reset, email change and sign-up, end to end, with mail from a real SMTP server."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from conexoos.app.controllers import accounts, email_change_undo, recovery_codes, tokens
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.models.persistent import AuditEntry, Passkey, User
from conexoos.framework import db
from conexoos.framework.mail import deliver_due
from tests.conftest import AppFactory
from tests.support.smtp_server import Received, SmtpServer

from .conftest import PASSWORD, Account, deliver, form_token, log_in, meta_token, product_app, sign_up
from .leaving_support import delete_account
from .two_factor_support import enrol_totp

pytestmark = pytest.mark.database_matrix
LINK = re.compile(r"http://localhost(/\S+)")
NEW_PASSWORD = "a brand new passphrase"


def mail_to(app: Flask, server: SmtpServer, address: str, count: int = 1) -> list[Received]:
    """Send what is queued, then every message ``address`` received (``count`` of them, no fewer)."""
    deliver(app)
    received = [item for item in server.wait_for(0) if address in item.recipients]
    assert len(received) == count, [item.recipients for item in server.messages]
    return received


def link_in(message: Received) -> str:
    """The path of the one link of the message's text part, checked against its HTML part."""
    text, html = message.part("plain"), message.part("html")
    paths = [path for path in LINK.findall(text) if not path.endswith((".txt", "/"))]
    assert len(set(paths)) == 1, paths
    assert f'href="http://localhost{paths[0]}"' in html
    return paths[0]


def user(app: Flask, username: str) -> User:
    with app.app_context():
        found = User.get_by_username(username)
        assert found is not None
        return found


def post_form(client: FlaskClient, path: str, **data: str) -> TestResponse:
    """POST the form of ``path`` with its own CSRF token."""
    return client.post(path, data={"csrf_token": form_token(client.get(path)), **data})


def signup_response(client: FlaskClient, email: str, username: str) -> TestResponse:
    return post_form(client, "/signup", email=email, username=username, password=PASSWORD)


# ---------------------------------------------------------------- verification


def test_signup_mails_a_link_that_verifies_the_address(mail_app: Flask, smtp_server: SmtpServer) -> None:
    account = sign_up(mail_app, "vera")
    assert not user(mail_app, "vera").email_verified
    [message] = mail_to(mail_app, smtp_server, account.email)
    assert message.message["Subject"] == "Confirm your email address for Conexoos"
    path = link_in(message)
    assert path.startswith("/verify/")
    browser = mail_app.test_client()  # another browser, not logged in
    opened = browser.get(path)  # what a mail filter that opens every link does: nothing is verified
    assert opened.status_code == 200 and "Confirm vera" in opened.get_data(as_text=True)
    assert not user(mail_app, "vera").email_verified
    page = browser.post(path, data={"csrf_token": form_token(opened)})  # the person's button
    assert page.status_code == 200 and "Address confirmed" in page.get_data(as_text=True)
    assert user(mail_app, "vera").email_verified
    again = mail_app.test_client().get(path)  # a second click is harmless, and says so
    assert again.status_code == 200 and "Address confirmed" in again.get_data(as_text=True)
    settings = account.client.get("/settings/email").get_data(as_text=True)
    assert 'id="email-verified">verified' in settings


def test_a_verification_page_left_open_until_its_session_ended_asks_for_the_button_again(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Its Confirm then got the generic 400, which told the visitor to log in (outside tester)."""
    account = sign_up(mail_app, "rita")
    [message] = mail_to(mail_app, smtp_server, account.email)
    path = link_in(message)
    opened = mail_app.test_client().get(path)
    later = mail_app.test_client()  # the same browser once its session cookie has gone
    refused = later.post(path, data={"csrf_token": form_token(opened)})
    again = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Confirm rita" in again
    assert "This page's security token had expired, so nothing was done yet: press the button again." in again
    assert not user(mail_app, "rita").email_verified
    page = later.post(path, data={"csrf_token": form_token(refused)})
    assert "Address confirmed" in page.get_data(as_text=True)
    assert user(mail_app, "rita").email_verified


def test_a_verification_link_of_a_deleted_account_leads_to_sign_up(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """It said "Ask for a new one", with a link to a settings page of an account that is gone."""
    account = sign_up(mail_app, "gone")
    [message] = mail_to(mail_app, smtp_server, account.email)
    assert delete_account(account, PASSWORD).status_code == 302
    page = mail_app.test_client().get(link_in(message))
    html = page.get_data(as_text=True)
    assert page.status_code == 410 and "an account that was deleted since" in html
    assert 'href="/signup"' in html and "Ask for a new one" not in html


def test_required_verification_keeps_an_unverified_page_unpublished_until_verified(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    """Under ``required`` a sign-up makes its account only when the link is confirmed (verified at once:
    see test_pending_signup); an account made otherwise (by an operator, or before the site required
    verification) stays unpublished until its owner follows a verification link."""
    app = product_app(
        make_app,
        {"SERVICES": {"smtp": smtp_server.settings()}, "APP": {"ACCOUNTS": {"VERIFY_EMAIL": "required"}}},
    )
    with app.app_context():
        accounts.create_account("hidden@example.com", "hidden", PASSWORD)
    browser = app.test_client()
    log_in(browser, "hidden")
    dashboard = browser.get("/dashboard")
    assert app.test_client().get("/hidden").status_code == 404
    assert 'id="unpublished"' in dashboard.get_data(as_text=True)
    resent = browser.post("/settings/email/resend", data={"csrf_token": meta_token(dashboard)})
    assert resent.status_code == 302
    [message] = mail_to(app, smtp_server, "hidden@example.com")
    assert post_form(app.test_client(), link_in(message)).status_code == 200
    assert app.test_client().get("/hidden").status_code == 200
    assert 'id="unpublished"' not in browser.get("/dashboard").get_data(as_text=True)


def test_verification_off_sends_a_welcome_without_a_link(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    off = {"APP": {"ACCOUNTS": {"VERIFY_EMAIL": "off"}}}
    app = product_app(make_app, {"SERVICES": {"smtp": smtp_server.settings()}, **off})
    account = sign_up(app, "welcomed")
    [message] = mail_to(app, smtp_server, account.email)
    assert message.message["Subject"] == "Welcome to Conexoos"
    assert "/verify/" not in message.part("plain")
    assert app.test_client().get("/welcomed").status_code == 200


def test_resend_is_rate_limited(make_app: AppFactory, smtp_server: SmtpServer) -> None:
    app = product_app(
        make_app,
        {"SERVICES": {"smtp": smtp_server.settings()}, "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}},
    )
    account = sign_up(app, "resender")
    statuses = [
        account.client.post("/settings/email/resend", data={"csrf_token": account.csrf}).status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 302]  # the fourth: the settings again, saying so (not an error page)
    shown = account.client.get("/settings/email").get_data(as_text=True)
    assert "A new link can be sent 3 times an hour: none was sent. Try again in about an hour." in shown
    assert len(mail_to(app, smtp_server, account.email, count=4)) == 4  # the sign-up's and three more
    scripted = account.client.post(
        "/settings/email/resend", headers={"X-CSRFToken": account.csrf, "Accept": "application/json"}
    )
    assert scripted.status_code == 429 and scripted.headers["Retry-After"] == "3600"


def test_operators_can_verify_an_account(app: Flask) -> None:
    sign_up(app, "byhand")
    with app.app_context():
        result = CliRunner().invoke(app.cli, ["user", "verify", "byhand"], catch_exceptions=False)
        missing = CliRunner().invoke(app.cli, ["user", "verify", "nobody"])
    assert result.exit_code == 0 and "byhand: byhand@example.com verified" in result.output
    assert user(app, "byhand").email_verified
    assert missing.exit_code == 1 and "no account" in missing.output
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.verify")).one()
        assert entry.actor_name == "operator (command line)" and "byhand@example.com" in entry.summary


# ---------------------------------------------------------------- password reset


def ask_reset(app: Flask, login: str) -> TestResponse:
    return post_form(app.test_client(), "/password/forgot", login=login)


def test_forgot_reset_and_the_link_works_once(mail_app: Flask, smtp_server: SmtpServer) -> None:
    account = sign_up(mail_app, "forgetful")
    mail_to(mail_app, smtp_server, account.email)  # the verification mail
    assert ask_reset(mail_app, "Forgetful").status_code == 302
    assert ask_reset(mail_app, account.email).status_code == 302
    _verification, first, second = mail_to(mail_app, smtp_server, account.email, count=3)
    assert first.message["Subject"] == "Set a new password for Conexoos"
    used, other = link_in(first), link_in(second)
    assert used.startswith("/password/reset/")
    browser = mail_app.test_client()
    assert browser.get(used).status_code == 200
    done = post_form(browser, used, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    log_in(mail_app.test_client(), "forgetful", NEW_PASSWORD)
    assert user(mail_app, "forgetful").email_verified  # the link proved the address
    for spent in (used, other):  # used, and made before the password changed
        refused = mail_app.test_client().get(spent)
        assert refused.status_code == 410
        assert "already used, or the password or email address was changed" in refused.get_data(as_text=True)


def test_an_expired_or_garbled_reset_link_gets_a_clear_page(
    mail_app: Flask, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = sign_up(mail_app, "late")
    now = time.time()  # the link's clock stands still from its making: a slow machine takes no second off
    monkeypatch.setattr(tokens, "clock", lambda: now)
    ask_reset(mail_app, "late")
    path = link_in(mail_to(mail_app, smtp_server, account.email, count=2)[-1])
    monkeypatch.setattr(tokens, "clock", lambda: now + 3599)
    assert mail_app.test_client().get(path).status_code == 200
    monkeypatch.setattr(tokens, "clock", lambda: now + 3602)
    expired = mail_app.test_client().get(path)
    assert expired.status_code == 410 and "This link has expired." in expired.get_data(as_text=True)
    for garbled in (path[:-3], path + "x", "/password/reset/not-a-token", "/password/reset/" + "A" * 300):
        response = mail_app.test_client().get(garbled)
        assert response.status_code == 400 and "This link is not valid." in response.get_data(as_text=True)
    verify_token = path.rsplit("/", 1)[1]  # a reset token is no verification token
    assert mail_app.test_client().get(f"/verify/{verify_token}").status_code == 400


def test_forgot_answers_the_same_for_known_and_unknown_accounts(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "known")
    mail_to(mail_app, smtp_server, account.email)
    answers = {login: ask_reset(mail_app, login) for login in ("known", "unknown", "nobody@example.com")}
    assert {(r.status_code, r.headers["Location"], r.get_data()) for r in answers.values()} == {
        (302, "/password/forgot/sent", answers["known"].get_data())
    }
    assert [cookie_names(r) for r in answers.values()] == [cookie_names(answers["known"])] * 3
    sent = mail_app.test_client().get("/password/forgot/sent").get_data(as_text=True)
    assert "If an account has that email address or username" in sent
    deliver(mail_app)
    assert [item.recipients for item in smtp_server.messages] == [[account.email]] * 2


def cookie_names(response: TestResponse) -> list[str]:
    return sorted(value.split("=", 1)[0] for value in response.headers.getlist("Set-Cookie"))


# ---------------------------------------------------------------- sign-up without enumeration


def test_signup_with_a_known_email_answers_as_for_a_new_one_and_mails_the_owner(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    owner = sign_up(mail_app, "owner", email="owner@example.com")
    new = signup_response(mail_app.test_client(), "fresh@example.com", "fresh")
    known = signup_response(mail_app.test_client(), "Owner@Example.com", "intruder")
    assert (known.status_code, known.headers["Location"]) == (new.status_code, new.headers["Location"])
    assert known.get_data() == new.get_data() and cookie_names(known) == cookie_names(new)
    with mail_app.app_context():
        assert User.get_by_username("intruder") is None
    messages = mail_to(mail_app, smtp_server, owner.email, count=2)
    notice = messages[-1]
    assert notice.message["Subject"] == "Someone tried to sign up with your address"
    assert "http://localhost/password/forgot" in notice.part("plain")
    taken = signup_response(mail_app.test_client(), "other@example.com", "owner")
    assert taken.status_code == 422 and "This username is taken." in taken.get_data(as_text=True)


# ---------------------------------------------------------------- change of address


def change_email(account: Account, new_email: str, password: str = PASSWORD) -> TestResponse:
    return account.client.post(
        "/settings/email", data={"csrf_token": account.csrf, "email": new_email, "password": password}
    )


def test_changing_the_email_needs_the_password_and_the_new_address_confirmed(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    account = sign_up(mail_app, "mover", email="old@example.com")
    assert 'href="/settings/email"' in account.client.get("/dashboard/settings").get_data(as_text=True)
    wrong = change_email(account, "new@example.com", password="not my password")
    assert wrong.status_code == 422 and "This is not your current password." in wrong.get_data(as_text=True)
    assert change_email(account, "New@Example.com").status_code == 302
    [message] = mail_to(mail_app, smtp_server, "new@example.com")
    path = link_in(message)
    assert user(mail_app, "mover").email == "old@example.com"  # not before it is confirmed
    other_browser = mail_app.test_client()
    page = other_browser.get(path)
    assert page.status_code == 200 and "new@example.com" in page.get_data(as_text=True)
    assert user(mail_app, "mover").email == "old@example.com"  # a GET (a link scanner) changes nothing
    confirmed = post_form(other_browser, path)
    assert confirmed.status_code == 302
    moved = user(mail_app, "mover")
    assert (moved.email, moved.email_verified) == ("new@example.com", True)
    notices = mail_to(mail_app, smtp_server, "old@example.com", count=3)  # verify, change asked, done
    assert notices[-1].message["Subject"] == "Your Conexoos email address was changed"
    assert "new@example.com" in notices[-1].part("plain")
    assert mail_app.test_client().get(path).status_code == 410  # the link worked once
    log_in(mail_app.test_client(), "new@example.com")


def test_a_used_change_link_says_the_change_is_done_and_shows_the_address_to_its_owner_only(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Following the link again after the change said it "cannot be used ... already used", as if it had
    failed (outside tester)."""
    account = sign_up(mail_app, "mover", email="old@example.com")
    assert change_email(account, "new@example.com").status_code == 302
    [message] = mail_to(mail_app, smtp_server, "new@example.com")
    path = link_in(message)
    assert post_form(account.client, path).status_code == 302
    again = account.client.get(path)
    shown = again.get_data(as_text=True)
    assert again.status_code == 410  # spent, as before
    assert "This link was already used: your address is now new@example.com." in shown
    assert "cannot be used" not in shown
    for visitor in (mail_app.test_client(), sign_up(mail_app, "other", email="other@example.com").client):
        page = visitor.get(path)
        shown = page.get_data(as_text=True)
        assert page.status_code == 410
        assert "This link was already used. The change it confirmed is done." in shown
        assert "new@example.com" not in shown and "cannot be used" not in shown


def test_a_change_link_confirmed_from_another_account_says_so_without_naming_the_account(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """The link works for whoever holds it, but someone logged in to another account landed on their own
    email settings under "Your email address is now ..." (outside tester)."""
    account = sign_up(mail_app, "mover", email="old@example.com")
    assert change_email(account, "new@example.com").status_code == 302
    [message] = mail_to(mail_app, smtp_server, "new@example.com")
    path = link_in(message)
    other = sign_up(mail_app, "other", email="other@example.com")
    confirmed = post_form(other.client, path)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/dashboard"
    assert user(mail_app, "mover").email == "new@example.com"  # a bearer link: the change is made
    shown = other.client.get("/dashboard").get_data(as_text=True)
    assert "The address new@example.com is confirmed for the account that asked for it." in shown
    assert "Your email address is now" not in shown
    assert "mover" not in shown and "old@example.com" not in shown
    assert user(mail_app, "other").email == "other@example.com"


def test_changing_to_an_address_in_use_answers_the_same_and_tells_that_address(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    sign_up(mail_app, "first", email="first@example.com")
    second = sign_up(mail_app, "second", email="second@example.com")
    response = change_email(second, "first@example.com")
    assert response.status_code == 302
    [_verification, notice] = mail_to(mail_app, smtp_server, "first@example.com", count=2)
    assert notice.message["Subject"] == "Someone tried to use your address on Conexoos"
    assert user(mail_app, "second").email == "second@example.com"


def test_odd_tokens_and_addresses_are_4xx_never_500(app: Flask) -> None:
    client = app.test_client()
    for path in ("/password/reset/%ED%A0%80", "/verify/%00", "/settings/email/confirm/" + "é" * 50):
        assert client.get(path).status_code in (400, 404), path
    refused = signup_response(client, "josé@example.com", "jose")  # would need SMTPUTF8
    assert refused.status_code == 422 and "Enter a valid email address." in refused.get_data(as_text=True)
    accepted = signup_response(client, "jose@exämple.com", "jose")  # an international domain is fine
    assert accepted.status_code == 302
    with app.app_context():
        deliver_due()
    assert user(app, "jose").email == "jose@exämple.com"


# ---------------------------------------------------------------- undoing a change of address


def hijack(app: Flask, server: SmtpServer, owner: Account, mails_before: int = 1) -> str:
    """Someone in ``owner``'s session changes the address to theirs; the undo link of the old one's notice."""
    assert change_email(owner, "thief@example.com").status_code == 302
    [confirm] = mail_to(app, server, "thief@example.com")
    assert post_form(app.test_client(), link_in(confirm)).status_code == 302
    notice = mail_to(app, server, owner.email, count=mails_before + 2)[-1]  # then: change asked, made
    assert "undo the change" in notice.part("plain")
    path = link_in(notice)
    assert path.startswith("/settings/email/undo/")
    return path


def test_the_old_address_undoes_a_change_and_locks_everyone_out(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    owner = sign_up(mail_app, "victim", email="victim@example.com")
    intruder = mail_app.test_client()
    log_in(intruder, "victim")
    path = hijack(mail_app, smtp_server, owner)
    ask_reset(mail_app, "victim")  # a reset link to the intruder's address
    [_confirm, reset] = mail_to(mail_app, smtp_server, "thief@example.com", count=2)
    browser = mail_app.test_client()
    page = browser.get(path)
    assert page.status_code == 200 and "victim@example.com" in page.get_data(as_text=True)
    assert user(mail_app, "victim").email == "thief@example.com"  # a GET (a mail scanner) changes nothing
    done = post_form(browser, path)
    assert done.status_code == 200 and 'id="change-undone"' in done.get_data(as_text=True)
    restored = user(mail_app, "victim")
    assert (restored.email, restored.email_verified) == ("victim@example.com", True)
    for client in (intruder, owner.client):  # every session ended
        assert client.get("/dashboard").status_code == 302
    refused = post_form(mail_app.test_client(), "/login", login="victim", password=PASSWORD)
    assert refused.status_code == 401  # the password the intruder knew no longer works
    assert mail_app.test_client().get(link_in(reset)).status_code == 410  # nor the reset link they got
    confirmation = mail_to(mail_app, smtp_server, "victim@example.com", count=4)[-1]
    assert confirmation.message["Subject"] == "Your Conexoos email address was given back"
    assert link_in(confirmation) == "/password/forgot"
    again = mail_app.test_client().get(path)
    assert again.status_code == 410 and "already undone" in again.get_data(as_text=True)
    ask_reset(mail_app, "victim")  # forgot-password now reaches the owner
    new_reset = link_in(mail_to(mail_app, smtp_server, "victim@example.com", count=5)[-1])
    post_form(browser, new_reset, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    log_in(mail_app.test_client(), "victim", NEW_PASSWORD)


def changed(app: Flask, server: SmtpServer, owner: Account, old: str, new: str, count: int) -> str:
    """``owner`` changes the address from ``old`` to ``new`` (confirmed from ``new``); the undo link of the
    notice to ``old`` (its ``count``-th mail)."""
    assert change_email(owner, new).status_code == 302
    [confirm] = mail_to(app, server, new)
    assert post_form(app.test_client(), link_in(confirm)).status_code == 302
    return link_in(mail_to(app, server, old, count=count)[-1])


def test_the_owners_undo_link_outlives_a_second_change_of_address(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Whoever knew the password changed the address twice: the second change's notice went to their own
    first address, and it used to kill the owner's link (outside tester)."""
    owner = sign_up(mail_app, "victim", email="victim@example.com")
    owners_link = hijack(mail_app, smtp_server, owner)
    time.sleep(1.1)  # a link knows its change by the second the new address was verified at
    intruders_link = changed(mail_app, smtp_server, owner, "thief@example.com", "thief2@example.com", count=3)
    assert post_form(mail_app.test_client(), owners_link).status_code == 200
    assert user(mail_app, "victim").email == "victim@example.com"
    spent = mail_app.test_client().get(intruders_link)
    assert spent.status_code == 410 and "already undone" in spent.get_data(as_text=True)
    assert mail_app.test_client().get(owners_link).status_code == 410
    assert user(mail_app, "victim").email == "victim@example.com"


def test_an_undo_of_a_later_change_does_not_spend_the_owners_link(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    owner = sign_up(mail_app, "dave", email="dave@example.com")
    first = changed(mail_app, smtp_server, owner, "dave@example.com", "dave2@example.com", count=3)
    time.sleep(1.1)
    second = changed(mail_app, smtp_server, owner, "dave2@example.com", "dave3@example.com", count=3)
    assert post_form(mail_app.test_client(), second).status_code == 200  # back on dave2@ (theirs)
    assert user(mail_app, "dave").email == "dave2@example.com"
    assert mail_app.test_client().get(second).status_code == 410
    assert post_form(mail_app.test_client(), first).status_code == 200  # the older address wins
    assert user(mail_app, "dave").email == "dave@example.com"
    for link in (first, second):
        again = mail_app.test_client().get(link)
        assert again.status_code == 410 and "already undone" in again.get_data(as_text=True)


def test_an_undo_link_mailed_before_revision_0030_keeps_its_rule(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Valid while the account uses the new address of its change: an upgrade loses no link in flight."""
    owner = sign_up(mail_app, "early", email="early@example.com")
    hijack(mail_app, smtp_server, owner)
    with mail_app.app_context():
        found = User.get_by_login("early")
        assert found is not None
        fingerprint = email_change_undo._change_fingerprint(found.email, found)
        payload = {"u": found.id, "old": "early@example.com", "new": fingerprint}
        path = f"/settings/email/undo/{tokens.make_token(email_change_undo.UNDO_PURPOSE, payload)}"
    assert post_form(mail_app.test_client(), path).status_code == 200
    assert user(mail_app, "early").email == "early@example.com"
    assert mail_app.test_client().get(path).status_code == 410


def test_an_undo_removes_the_second_factors_the_intruder_may_have_added(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    owner = sign_up(mail_app, "target", email="target@example.com")
    enrol_totp(owner)  # by whoever holds the session: the owner cannot pass this factor
    with mail_app.app_context():
        deliver_due()
        db.session.add(  # the intruder's passkey, as its ceremony stores it
            Passkey(
                user_id=owner.id,
                name="Intruder's key",
                credential_id=b"intruder",
                credential_digest="0" * 64,
                public_key=b"key",
                user_handle=b"handle",
            )
        )
        db.session.commit()
    notices = len([item for item in smtp_server.wait_for(0) if "target@example.com" in item.recipients])
    path = hijack(mail_app, smtp_server, owner, mails_before=notices)
    assert post_form(mail_app.test_client(), path).status_code == 200
    with mail_app.app_context():
        restored = User.get_by_login("target")
        assert restored is not None and not has_second_factor(restored)
        assert recovery_codes.remaining(restored) == 0
        assert db.session.scalars(select(Passkey).where(Passkey.user_id == restored.id)).all() == []
    ask_reset(mail_app, "target")
    reset = link_in(mail_to(mail_app, smtp_server, "target@example.com", count=notices + 4)[-1])
    browser = mail_app.test_client()
    post_form(browser, reset, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    returning = mail_app.test_client()
    log_in(returning, "target", NEW_PASSWORD)
    assert returning.get("/dashboard").status_code == 200  # the password alone: no second step


def test_a_pending_change_link_dies_with_the_undo(mail_app: Flask, smtp_server: SmtpServer) -> None:
    owner = sign_up(mail_app, "pending", email="pending@example.com")
    assert change_email(owner, "later@example.com").status_code == 302  # asked before the hijack
    [later] = mail_to(mail_app, smtp_server, "later@example.com")
    path = hijack(mail_app, smtp_server, owner, mails_before=2)  # the verification, the first change asked
    assert post_form(mail_app.test_client(), path).status_code == 200
    assert mail_app.test_client().get(link_in(later)).status_code == 410
    assert user(mail_app, "pending").email == "pending@example.com"


def test_an_unverified_account_made_with_the_old_address_since_does_not_block_the_undo(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Anyone could sign up with the address the change let go, and so keep its owner from getting the
    account back (outside re-check): the undo takes the address back from such an account."""
    owner = sign_up(mail_app, "slow", email="slow@example.com")
    path = hijack(mail_app, smtp_server, owner)
    sign_up(mail_app, "squatter", email="slow@example.com")
    assert mail_app.test_client().get(path).status_code == 200
    assert post_form(mail_app.test_client(), path).status_code == 200
    assert user(mail_app, "slow").email == "slow@example.com"
    assert user(mail_app, "squatter").email.endswith("@invalid")


def test_an_account_verified_with_the_old_address_since_does_not_block_the_undo_either(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """The verification link of an account made since is mailed to the old address: a link scanner
    opening it verified that account, and the owner's undo was a 409 (outside re-check)."""
    owner = sign_up(mail_app, "slow", email="slow@example.com")
    path = hijack(mail_app, smtp_server, owner)
    sign_up(mail_app, "squatter", email="slow@example.com")
    with mail_app.app_context():  # as a scanner's GET of the verification link mailed to slow@ does
        squatter = User.get_by_login("squatter")
        assert squatter is not None
        squatter.email_verified_at = squatter.created_at
        db.session.commit()
    assert post_form(mail_app.test_client(), path).status_code == 200
    assert user(mail_app, "slow").email == "slow@example.com"
    taken_back = user(mail_app, "squatter")
    assert taken_back.email.endswith("@invalid") and not taken_back.email_verified


def test_an_undo_is_refused_when_an_older_account_took_the_old_address_meanwhile(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    sign_up(mail_app, "elder", email="elder@example.com")
    owner = sign_up(mail_app, "slow", email="slow@example.com")
    time.sleep(1.1)  # accounts and changes are told apart by the second
    path = hijack(mail_app, smtp_server, owner)
    with mail_app.app_context():  # as a change of address confirmed from slow@'s mailbox would
        elder = User.get_by_login("elder")
        assert elder is not None
        elder.email = "slow@example.com"
        db.session.commit()
    refused = mail_app.test_client().get(path)
    assert refused.status_code == 409 and "Another account uses slow@example.com" in refused.get_data(
        as_text=True
    )
    assert user(mail_app, "slow").email == "thief@example.com"
    page = refused.get_data(as_text=True)
    assert "Forgot your password?" in page and "Ask for a new one" not in page  # none can be asked for


def test_the_address_an_undo_replaces_is_told(mail_app: Flask, smtp_server: SmtpServer) -> None:
    """After a change the owner made, whoever reads the old mailbox can undo it: the owner hears of it."""
    owner = sign_up(mail_app, "moving", email="moving@oldjob.example")
    undo = changed(mail_app, smtp_server, owner, "moving@oldjob.example", "moving@home.example", count=3)
    assert post_form(mail_app.test_client(), undo).status_code == 200
    told = mail_to(mail_app, smtp_server, "moving@home.example", count=2)[-1]
    assert told.message["Subject"] == "Your Conexoos address was given back to moving@oldjob.example"
    assert "tell this site's operator" in told.part("plain")


def test_expired_forged_and_rate_limited_undo_links_are_refused(
    make_app: AppFactory, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = product_app(
        make_app,
        {"SERVICES": {"smtp": smtp_server.settings()}, "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}},
    )
    owner = sign_up(app, "later", email="later@example.com")
    path = hijack(app, smtp_server, owner)
    for forged in (path[:-3], path + "x", "/settings/email/undo/x", "/settings/email/undo/%ED%A0%80"):
        assert app.test_client().get(forged).status_code == 400, forged
    with app.test_request_context():  # a token for another purpose is no undo token
        other = tokens.make_token("password-reset", {"u": owner.id, "old": "later@example.com"})
    assert app.test_client().get(f"/settings/email/undo/{other}").status_code == 400
    monkeypatch.setattr(tokens, "clock", lambda: time.time() + 7 * 24 * 3600 + 2)
    expired = app.test_client().get(path)
    assert expired.status_code == 410 and "This link has expired." in expired.get_data(as_text=True)
    browser = app.test_client()
    token = form_token(browser.get("/login"))
    statuses = [browser.post(path, data={"csrf_token": token}).status_code for _ in range(6)]
    assert statuses == [410] * 5 + [429]
    assert user(app, "later").email == "thief@example.com"
