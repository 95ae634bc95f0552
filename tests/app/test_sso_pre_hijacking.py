"""Account pre-hijacking through an address an identity provider did not vouch for: someone signs in at a
provider with another person's address (``email_verified: false``) and gets an account with it; when the
mailbox's owner later sets a password through "Forgot your password?" (a mailed link, proof of the
mailbox), that sign-in is unlinked in the same commit and the owner is told which, so it no longer opens
their account. The verification mail of such an account says where it was made."""

from __future__ import annotations

import email
import re
from email.message import Message

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from conexoos.app.controllers import password_reset
from conexoos.app.models.persistent import ExternalIdentity as IdentityRow
from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage

from .conftest import form_token, log_in
from .sso_support import Provider, identities_of, user_named
from .test_accounts import is_logged_in

pytestmark = pytest.mark.database_matrix

NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(r"http://localhost(/password/reset/\S+)")


def mails_to(app: Flask, address: str) -> list[tuple[str, str]]:
    """The subject and text part of each mail queued to ``address``, oldest first (after the task that
    answers "forgot password" requests has run)."""
    with app.app_context():
        password_reset.answer_requests()
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        found = [
            (row.subject, _text(email.message_from_string(row.message)))
            for row in rows
            if row.recipient == address
        ]
    return found


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def reset_password(app: Flask, address: str) -> FlaskClient:
    """Ask for a reset link for ``address`` and set NEW_PASSWORD through it (as the mailbox's owner)."""
    browser = app.test_client()
    forgot = browser.get("/password/forgot")
    browser.post("/password/forgot", data={"csrf_token": form_token(forgot), "login": address})
    reset_mail = [
        text for subject, text in mails_to(app, address) if subject.startswith("Set a new password")
    ]
    found = RESET_LINK.search(reset_mail[-1])
    assert found is not None
    path = found.group(1)
    page = browser.get(path)
    data = {"csrf_token": form_token(page), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    done = browser.post(path, data=data)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login"), done.get_data(
        as_text=True
    )
    return browser


def test_a_reset_unlinks_a_sign_in_whose_address_was_not_vouched_for(app: Flask) -> None:
    provider = Provider(app).install()
    attacker = app.test_client()
    provider.sign_in(attacker, "evil", username="victim", email="victim@example.com", email_verified=False)
    victim = user_named(app, "victim")
    ((verify_subject, verify_text),) = mails_to(app, "victim@example.com")
    assert "made just now from a sign-in at Corp ID" in verify_text
    assert "If that was not\r\nyou, ignore this message" in verify_text
    reset_password(app, "victim@example.com")
    assert identities_of(app, victim.id) == []
    subject, text = mails_to(app, "victim@example.com")[-1]
    assert subject == "Sign-ins removed from your Conexoos account"
    assert "- Corp ID" in text and "log in with them" in text
    # The attacker's next sign-in no longer opens the account: it waits for the account's password.
    again = app.test_client()
    response = provider.sign_in(again, "evil", email="victim@example.com", email_verified=False)
    assert response.headers["Location"] == "/login" and not is_logged_in(again)
    owner = app.test_client()
    log_in(owner, "victim", NEW_PASSWORD)
    assert is_logged_in(owner)


def test_a_reset_keeps_sign_ins_whose_address_was_vouched_for(app: Flask) -> None:
    provider = Provider(app).install()
    provider.sign_in(
        app.test_client(), "good", username="vera", email="vera@example.com", email_verified=True
    )
    vera = user_named(app, "vera")
    reset_password(app, "vera@example.com")
    assert identities_of(app, vera.id) == [("oidc", "corp", "good", "vera@example.com")]
    assert not any(subject.startswith("Sign-ins removed") for subject, _ in mails_to(app, "vera@example.com"))


def test_a_refused_password_unlinks_nothing(app: Flask) -> None:
    provider = Provider(app).install()
    provider.sign_in(app.test_client(), "evil", username="vic", email="vic@example.com", email_verified=False)
    vic = user_named(app, "vic")
    browser = app.test_client()
    forgot = browser.get("/password/forgot")
    browser.post("/password/forgot", data={"csrf_token": form_token(forgot), "login": "vic@example.com"})
    found = RESET_LINK.search(mails_to(app, "vic@example.com")[-1][1])
    assert found is not None
    page = browser.get(found.group(1))
    refused = browser.post(
        found.group(1), data={"csrf_token": form_token(page), "password": "x", "confirm": "x"}
    )
    assert refused.status_code == 422
    assert identities_of(app, vic.id) == [("oidc", "corp", "evil", "vic@example.com")]


def test_an_identity_records_whether_its_address_was_vouched_for(app: Flask) -> None:
    provider = Provider(app).install()
    provider.sign_in(app.test_client(), "a", username="ann", email="ann@example.com", email_verified=True)
    provider.sign_in(app.test_client(), "b", username="bob", email="bob@example.com", email_verified=False)
    with app.app_context():
        rows = db.session.scalars(select(IdentityRow).order_by(IdentityRow.id)).all()
        assert [(row.subject, row.email_vouched) for row in rows] == [("a", True), ("b", False)]
