"""What a stolen session or a stolen password must not get: guessing the password in Settings → Security,
finishing a half-done login after the owner changed the password or ended the other sessions, turning
on an authenticator app without the password, changing the second factors without the owner hearing."""

from __future__ import annotations

from email import message_from_string
from email.message import EmailMessage
from email.policy import default

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from conexoos.app.controllers import reentered_password
from conexoos.app.controllers.accounts import hash_password, set_password
from conexoos.app.controllers.pending_login import DEVICE_MARK
from conexoos.app.models.persistent import Passkey, TotpSecret, User
from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage
from tests.conftest import AppFactory

from .conftest import PASSWORD, QUIET, Account, form_token, sign_up
from .leaving_support import delete_account
from .test_passkeys import post_json, register
from .test_security_settings import NEW_PASSWORD, change_password
from .two_factor_support import code_at, enrol_totp, password_step, post_code, shown_codes, start_totp

pytestmark = pytest.mark.database_matrix


def mail_to(app: Flask, address: str) -> list[tuple[str, str, str]]:
    """The subject, text and HTML of each message queued for ``address``, oldest first."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
        messages = [message_from_string(row.message, policy=default) for row in db.session.scalars(query)]
    return [(str(m["Subject"]), _part(m, "plain"), _part(m, "html")) for m in messages]


def _part(message: EmailMessage, kind: str) -> str:
    body = message.get_body((kind,))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def half_logged_in(app: Flask) -> tuple[FlaskClient, str]:
    """A browser that gave alice's password and shows the second step; it and the step's CSRF token."""
    browser, answer = password_step(app, "alice", PASSWORD)
    assert answer.headers["Location"].endswith("/login/two-factor")
    return browser, form_token(browser.get("/login/two-factor"))


def refused_at_the_second_step(thief: tuple[FlaskClient, str], secret: str) -> None:
    """A right code no longer logs the browser in: it is sent back to the password."""
    browser, token = thief
    answer = browser.post("/login/two-factor", data={"csrf_token": token, "code": code_at(secret, 1)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert browser.get("/dashboard").status_code == 302


def test_the_current_password_check_is_rate_limited_per_account(make_app: AppFactory) -> None:
    limited = make_app(overrides=QUIET)
    carol = sign_up(limited, "carol")
    statuses = [change_password(carol.client, f"guess {n}", NEW_PASSWORD).status_code for n in range(5)]
    assert statuses == [422] * 5
    right = change_password(carol.client, carol.password, NEW_PASSWORD)
    assert right.status_code == 429 and right.headers["Retry-After"]
    assert "Too many tries of your password (or codes) on this account." in right.get_data(as_text=True)
    logged_in = password_step(limited, "carol", carol.password)[1]  # unchanged: the old one still works
    assert logged_in.status_code == 302 and logged_in.headers["Location"].endswith("/dashboard")


def test_what_the_forms_refuse_without_the_password_costs_no_check(make_app: AppFactory) -> None:
    """A right current password refused with a new one the rules refuse, or with a mistyped address,
    spent the budget: the owner, typing their password right each time, got "too many tries" (outside
    tester). Past the budget, the refusal is said on the form, what was typed kept."""
    limited = make_app(overrides=QUIET)
    erin = sign_up(limited, "erin")
    for _ in range(6):
        built = change_password(erin.client, erin.password, "erin erin erin erin")  # built from the username
        assert built.status_code == 422 and "Too many tries" not in built.get_data(as_text=True)
        same = change_password(erin.client, erin.password, erin.password)
        assert same.status_code == 422 and "other than your current one" in same.get_data(as_text=True)
        bad_address = erin.client.post(
            "/settings/email",
            data={"csrf_token": erin.csrf, "email": "not an address", "password": erin.password},
        )
        assert bad_address.status_code == 422
    for n in range(5):
        assert change_password(erin.client, f"guess {n}", NEW_PASSWORD).status_code == 422
    refused = erin.client.post(
        "/settings/email",
        data={"csrf_token": erin.csrf, "email": "erin.new@example.com", "password": erin.password},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Too many tries of your password" in html and 'value="erin.new@example.com"' in html


def wrong_password_on_four_forms(account: Account) -> list[TestResponse]:
    """A wrong current password typed into the password, two-factor, deletion and email forms."""
    return [
        change_password(account.client, "guess 1", NEW_PASSWORD),
        account.client.post(
            "/settings/two-factor/totp/start",
            data={"csrf_token": account.csrf, "start-confirmation": "guess 2"},
        ),
        delete_account(account, "guess 3"),
        account.client.post(
            "/settings/email",
            data={"csrf_token": account.csrf, "email": "other@example.com", "password": "guess 4"},
        ),
    ]


def passkey_confirmation(account: Account, answer: str) -> TestResponse:
    """Ask for a new passkey's options, confirming with ``answer``."""
    return account.client.post(
        "/settings/passkeys/options",
        json={"name": "Key", "confirmation": answer},
        headers={"X-CSRFToken": account.csrf},
    )


def test_every_form_that_checks_the_password_shares_one_budget(make_app: AppFactory) -> None:
    """A stolen session once guessed at the sum of each form's own limit: one guess on each form here
    spends the account's budget of 5 a minute, and the sixth form refuses even the right password."""
    limited = make_app(overrides=QUIET)
    dave = sign_up(limited, "dave")
    guesses = [*wrong_password_on_four_forms(dave), passkey_confirmation(dave, "guess 5")]
    assert [answer.status_code for answer in guesses if answer.status_code == 429] == []
    right = delete_account(dave, dave.password)
    assert right.status_code == 429 and "Too many tries of your password" in right.get_data(as_text=True)
    assert dave.client.get("/dashboard").status_code == 200  # not deleted


def test_wrong_current_passwords_from_a_session_mail_its_owner_once(make_app: AppFactory) -> None:
    """A session that does not know its own password may be someone else's: after 5 wrong ones within the
    hour, whichever forms they were typed in, the owner is told (as after failed log-ins), once a day."""
    limited = make_app(overrides=QUIET)
    erin = sign_up(limited, "erin", "erin@example.com")
    warned = "Wrong passwords from a session logged in to your account"
    guesses = wrong_password_on_four_forms(erin)
    assert [answer.status_code for answer in guesses] == [422, 401, 403, 422]
    assert warned not in [subject for subject, _, _ in mail_to(limited, "erin@example.com")]
    fifth = passkey_confirmation(erin, "guess 5")
    assert fifth.status_code == 401
    told = [message for message in mail_to(limited, "erin@example.com") if message[0] == warned]
    assert len(told) == 1
    assert "entered a wrong current password several times" in told[0][1]
    assert "/settings/security" in told[0][1]
    with limited.test_request_context():
        user = User.get_by_username("erin")
        assert user is not None
        reentered_password.record_wrong(user)  # a sixth, past the budget of the forms
    assert [subject for subject, _, _ in mail_to(limited, "erin@example.com")].count(warned) == 1


def test_ending_the_other_sessions_ends_a_pending_login(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    thief = half_logged_in(app)
    listed = alice.client.get("/settings/security").get_data(as_text=True)
    assert DEVICE_MARK in listed  # the owner sees someone is at the second step
    token = form_token(alice.client.get("/settings/security"))
    assert (
        alice.client.post("/settings/security/sessions/end-others", data={"csrf_token": token}).status_code
        == 302
    )
    refused_at_the_second_step(thief, secret)
    assert alice.client.get("/dashboard").status_code == 200
    assert post_code(half_logged_in(app)[0], code_at(secret, 1)).status_code == 302  # a new login still works


def test_changing_the_password_ends_a_pending_login(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    thief = half_logged_in(app)
    assert change_password(alice.client, PASSWORD, NEW_PASSWORD).status_code == 302
    refused_at_the_second_step(thief, secret)


def test_a_password_reset_ends_a_pending_login(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    thief = half_logged_in(app)
    with app.test_request_context():
        user = User.get_by_id(alice.id)
        assert user is not None
        set_password(user, NEW_PASSWORD)  # what the reset link and the operator command call
    refused_at_the_second_step(thief, secret)


def test_a_pending_login_is_bound_to_the_password_hash(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    thief = half_logged_in(app)
    with app.app_context():  # a new hash written without ending sessions (a database restore, a script)
        user = User.get_by_id(alice.id)
        assert user is not None
        user.password_hash = hash_password(NEW_PASSWORD)
        user.save()
    refused_at_the_second_step(thief, secret)


def test_the_passkey_second_step_refuses_an_ended_pending_login(app: Flask, alice: Account) -> None:
    device = register(alice)
    thief, token = half_logged_in(app)
    options = post_json(thief, "/login/two-factor/passkey/options", token, {})
    assert options.status_code == 200
    assert change_password(alice.client, PASSWORD, NEW_PASSWORD).status_code == 302
    done = post_json(thief, "/login/two-factor/passkey", token, device.get(options.get_json()))
    assert done.status_code == 401 and done.get_json()["error"]["code"] == "login_again"
    assert thief.get("/dashboard").status_code == 302


def test_ending_the_pending_session_in_the_list_ends_it(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    thief = half_logged_in(app)
    page = alice.client.get("/settings/security").get_data(as_text=True)
    row = page.split(DEVICE_MARK)[0].rsplit('data-session="', 1)[1].split('"', 1)[0]
    token = form_token(alice.client.get("/settings/security"))
    ended = alice.client.post(f"/settings/security/sessions/{row}/end", data={"csrf_token": token})
    assert ended.status_code == 302
    refused_at_the_second_step(thief, secret)
    assert alice.client.get("/dashboard").status_code == 200


def test_turning_on_an_authenticator_app_needs_the_password(app: Flask, alice: Account) -> None:
    start = "/settings/two-factor/totp/start"
    missing = alice.client.post(start, data={"csrf_token": alice.csrf})
    assert missing.status_code == 422 and "Enter your password" in missing.get_data(as_text=True)
    wrong = alice.client.post(start, data={"csrf_token": alice.csrf, "start-confirmation": "not it at all"})
    assert wrong.status_code == 401 and "neither your password" in wrong.get_data(as_text=True)
    with app.app_context():
        assert TotpSecret.of(alice.id) is None
    assert alice.client.get("/settings/two-factor/totp").status_code == 302  # nothing to scan
    start_totp(alice)  # the password starts it


def test_turning_on_an_authenticator_app_is_rate_limited(make_app: AppFactory) -> None:
    limited = make_app(overrides=QUIET)
    carol = sign_up(limited, "carol")
    data = {"csrf_token": carol.csrf, "start-confirmation": "a wrong guess"}
    start = "/settings/two-factor/totp/start"
    statuses = [carol.client.post(start, data=data).status_code for _ in range(5)]
    assert statuses == [401] * 5  # the account's budget of password checks (blueprints/password_checks.py)
    right = {"csrf_token": carol.csrf, "start-confirmation": carol.password}
    assert carol.client.post(start, data=right).status_code == 429


def test_with_a_passkey_a_recovery_code_starts_the_app_too(app: Flask, alice: Account) -> None:
    register(alice)  # a second factor already: one of its codes confirms as the password does
    codes = shown_codes(alice.client)
    page = alice.client.get("/settings/two-factor").get_data(as_text=True)
    assert 'name="start-confirmation"' in page
    start_totp(alice, codes[0])


def test_the_owner_is_mailed_when_second_factors_change(app: Flask, alice: Account) -> None:
    with app.app_context():
        user = User.get_by_id(alice.id)
        assert user is not None
        address = user.email
    before = len(mail_to(app, address))
    enrol_totp(alice)
    disabled = alice.client.post(
        "/settings/two-factor/totp/disable", data={"csrf_token": alice.csrf, "disable-confirmation": PASSWORD}
    )
    assert disabled.status_code == 302
    register(alice, "Yubi <b>key</b>")
    with app.app_context():
        passkey_id = Passkey.of_user(alice.id)[0].id
    removed = alice.client.post(
        f"/settings/passkeys/{passkey_id}/delete",
        data={"csrf_token": alice.csrf, f"remove-{passkey_id}-confirmation": PASSWORD},
    )
    assert removed.status_code == 302
    mails = mail_to(app, address)[before:]
    assert len(mails) == 4 and all("sign-in protection of your" in subject for subject, _, _ in mails)
    texts = [text for _, text, _ in mails]
    assert "authenticator app was set up" in texts[0] and "app was turned off" in texts[1]
    assert "passkey was added: “Yubi <b>key</b>”" in texts[2] and "passkey was removed" in texts[3]
    assert "Yubi &lt;b&gt;key&lt;/b&gt;" in mails[2][2]  # escaped in the HTML part
