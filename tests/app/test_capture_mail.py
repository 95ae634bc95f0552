"""Double opt-in of email sign-ups with a real SMTP server (aiosmtpd): the link is mailed, built from
PUBLIC_URL, stored hashed, works once behind a button, expires; repeated sign-ups resend within a limit."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from conexoos.app.models.persistent import CaptureEntry
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from tests.conftest import AppFactory
from tests.support.smtp_server import Received, SmtpServer

from .capture_support import SAME_ORIGIN, add_form, entries, post
from .conftest import QUIET, deliver, form_token, sign_up

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

CONFIRM_LINK = re.compile(r"(http://localhost)(/capture/confirm/[A-Za-z0-9_-]+)")
VISITOR = "visitor@example.com"


def mails_to(app: Flask, server: SmtpServer, address: str) -> list[Received]:
    """Send what is queued, then every message ``address`` received so far."""
    deliver(app)
    return [item for item in server.wait_for(0) if address in item.recipients]


def confirm_path(message: Received) -> str:
    """The confirmation link's path, the same in the text and the HTML part, on PUBLIC_URL's host."""
    text, html = message.part("plain"), message.part("html")
    found = CONFIRM_LINK.findall(text)
    assert len({path for _, path in found}) == 1, found
    assert f'href="http://localhost{found[0][1]}"' in html
    return found[0][1]


def test_a_sign_up_is_confirmed_only_through_the_mailed_link(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    owner = sign_up(mail_app, "ana", "ana@example.com")
    block = add_form(owner)
    visitor = mail_app.test_client()
    # A Host header of the attacker's choice changes nothing in the link: it comes from PUBLIC_URL.
    answer = post(
        visitor, block["id"], headers={**SAME_ORIGIN, "Host": "evil.example"}, name="Vic", email=VISITOR
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]  # what refused it, if it fails
    assert "Check your inbox" in answer.get_data(as_text=True)
    [message] = mails_to(mail_app, smtp_server, VISITOR)
    assert message.message["Subject"] == "Confirm your sign-up on the page of ana"
    assert "evil.example" not in message.part("plain") + message.part("html")
    path = confirm_path(message)
    secret = path.rsplit("/", 1)[1]
    with mail_app.app_context():
        stored = db.session.scalar(select(CaptureEntry.token_hash))
    assert stored == hashlib.sha256(secret.encode()).hexdigest()  # the link itself is never stored
    assert entries(mail_app, owner.id) == [("Vic", VISITOR, False)]

    browser = mail_app.test_client()
    page = browser.get(path)  # what a link scanner does: it confirms nothing
    assert page.status_code == 200 and "Confirm my sign-up" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert entries(mail_app, owner.id) == [("Vic", VISITOR, False)]
    assert browser.post(path).status_code == 400  # the button's own CSRF token is needed
    confirmed = browser.post(path, data={"csrf_token": form_token(page)})
    assert confirmed.status_code == 200 and "Sign-up confirmed" in confirmed.get_data(as_text=True)
    assert entries(mail_app, owner.id) == [("Vic", VISITOR, True)]

    used = mail_app.test_client().get(path)
    assert used.status_code == 410 and "already used, has expired" in used.get_data(as_text=True)
    assert post(visitor, block["id"], email=VISITOR).status_code == 200  # confirmed: no new mail
    assert len(mails_to(mail_app, smtp_server, VISITOR)) == 1
    csv_row = owner.client.get("/dashboard/signups/signups.csv").get_data(as_text=True).splitlines()[1]
    assert csv_row.startswith(f"Vic,{VISITOR},")
    assert csv_row.split(",")[3].endswith("Z")  # confirmed_at is filled


def test_signing_up_again_mails_a_new_link_and_the_old_one_dies(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    owner = sign_up(mail_app, "ana", "ana@example.com")
    block = add_form(owner)
    visitor = mail_app.test_client()
    first = post(visitor, block["id"], email=VISITOR)
    second = post(visitor, block["id"], email=VISITOR.upper())
    assert first.get_data() == second.get_data()
    old, new = (confirm_path(message) for message in mails_to(mail_app, smtp_server, VISITOR))
    assert old != new
    assert mail_app.test_client().get(old).status_code == 410
    browser = mail_app.test_client()
    token = form_token(browser.get(new))
    assert browser.post(new, data={"csrf_token": token}).status_code == 200
    assert entries(mail_app, owner.id) == [("", VISITOR, True)]


def test_an_expired_or_made_up_link_gets_a_page_saying_so(mail_app: Flask, smtp_server: SmtpServer) -> None:
    owner = sign_up(mail_app, "ana", "ana@example.com")
    post(mail_app.test_client(), add_form(owner)["id"], email=VISITOR)
    [message] = mails_to(mail_app, smtp_server, VISITOR)
    path = confirm_path(message)
    browser = mail_app.test_client()
    token = form_token(browser.get(path))
    with mail_app.app_context():
        db.session.execute(update(CaptureEntry).values(token_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    for response in (browser.get(path), browser.post(path, data={"csrf_token": token})):
        assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)
    for made_up in ("/capture/confirm/x", "/capture/confirm/" + "a" * 200, "/capture/confirm/%C3%A9"):
        assert mail_app.test_client().get(made_up).status_code == 410
    assert entries(mail_app, owner.id) == [("", VISITOR, False)]


def test_one_address_gets_at_most_three_mails_a_day_from_a_page(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    app = make_app(overrides={**QUIET, **limits, "SERVICES": {"smtp": smtp_server.settings()}})
    owner = sign_up(app, "ana", "ana@example.com")
    block = add_form(owner)
    answers = [post(app.test_client(), block["id"], remote=f"192.0.{n}.1", email=VISITOR) for n in range(5)]
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.get_data() for answer in answers}) == 1  # the visitor cannot tell
    assert len(mails_to(app, smtp_server, VISITOR)) == 3
