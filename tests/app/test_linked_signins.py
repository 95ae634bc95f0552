"""Settings → Linked sign-ins: listing, unlinking only while another way to log in remains (with the
password when there is one, CSRF always), setting a password through the reset flow, and the identities
in the account's export and deletion."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conexoos.app.controllers import account_deletion
from conexoos.app.models.persistent import ExternalIdentity as IdentityRow
from conexoos.framework import db
from tests.support.smtp_server import SmtpServer

from .conftest import PASSWORD, deliver, form_token, log_in, meta_token, sign_up
from .leaving_support import delete_account, rows_per_table
from .sso_support import Provider, identities_of, user_named
from .test_accounts import is_logged_in

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

PAGE = "/settings/sign-ins"


@dataclass
class Person:
    """A logged-in browser and its account."""

    client: FlaskClient
    user_id: int

    def csrf(self) -> str:
        """The session's CSRF token (the dashboard's meta)."""
        return meta_token(self.client.get("/dashboard"))

    def unlink(self, identity_id: int, password: str | None = None, csrf: bool = True) -> TestResponse:
        """Post the unlink form of ``identity_id``."""
        data = {"csrf_token": self.csrf()} if csrf else {}
        if password is not None:
            data["password"] = password
        return self.client.post(f"/settings/sign-ins/{identity_id}/unlink", data=data)


@pytest.fixture
def corp(app: Flask) -> Provider:
    """The Corp ID provider."""
    return Provider(app).install()


@pytest.fixture
def partner(app: Flask, corp: Provider) -> Provider:
    """A second provider, Partner."""
    return Provider(app, name="partner", label="Partner").install()


def jit(
    app: Flask, provider: Provider, subject: str = "kc-1", username: str = "nina", vouched: bool = False
) -> Person:
    """An account made at a first sign-in through ``provider``, logged in (``vouched``: the provider
    vouched for its address)."""
    browser = app.test_client()
    email = f"{username}@corp.example"
    response = provider.sign_in(browser, subject, username=username, email=email, email_verified=vouched)
    assert response.status_code == 302
    return Person(browser, user_named(app, username).id)


def identity_ids(app: Flask, user_id: int) -> list[int]:
    with app.app_context():
        return [row.id for row in IdentityRow.of_user(user_id)]


def test_the_page_lists_each_sign_in_and_refuses_to_unlink_the_only_way_in(
    app: Flask, corp: Provider
) -> None:
    nina = jit(app, corp)
    page = nina.client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<td>Corp ID</td>" in html and "<td>nina@corp.example</td>" in html
    assert "This is your only way to log in" in html and "Unlink" not in html
    [only] = identity_ids(app, nina.user_id)
    refused = nina.unlink(only)
    assert refused.status_code == 409 and "only way to log in" in refused.get_data(as_text=True)
    assert identity_ids(app, nina.user_id) == [only]
    assert is_logged_in(nina.client)


def test_another_configured_sign_in_lets_one_go(app: Flask, corp: Provider, partner: Provider) -> None:
    nina = jit(app, corp)
    # A second provider's sign-in with nina's address waits (linking by email is off) for a login to
    # nina's account: here, through Corp ID, which links it.
    other = app.test_client()
    partner.sign_in(other, "p-1", email="nina@corp.example", email_verified=True)
    corp.sign_in(other, "kc-1", email="nina@corp.example")
    first, second = identity_ids(app, nina.user_id)
    page = nina.client.get(PAGE).get_data(as_text=True)
    assert page.count('aria-label="Unlink ') == 2 and 'name="password"' not in page  # no password to ask
    done = nina.unlink(first)
    assert done.status_code == 302
    assert "Your Corp ID sign-in is no longer linked" in nina.client.get(PAGE).get_data(as_text=True)
    assert identity_ids(app, nina.user_id) == [second]
    assert nina.unlink(second).status_code == 409  # now the only one


def test_a_sign_in_whose_provider_is_gone_does_not_count(app: Flask, corp: Provider) -> None:
    nina = jit(app, corp)
    with app.app_context():
        db.session.add(
            IdentityRow(user_id=nina.user_id, backend="oidc", provider="gone", subject="x", email="")
        )
        db.session.commit()
    corp_id = identity_ids(app, nina.user_id)[0]
    assert nina.unlink(corp_id).status_code == 409


def test_unlinking_asks_for_the_password_when_there_is_one(app: Flask, corp: Provider) -> None:
    alice = sign_up(app, "alice")
    corp.sign_in(alice.client, "kc-alice", email="alice@example.com", email_verified=True)  # waits
    log_in(alice.client, "alice")  # links
    [linked] = identity_ids(app, alice.id)
    person = Person(alice.client, alice.id)
    assert 'name="password"' in person.client.get(PAGE).get_data(as_text=True)
    empty = person.unlink(linked)  # no password given
    assert empty.status_code == 422 and "Enter your password" in empty.get_data(as_text=True)
    assert "not your password" not in empty.get_data(as_text=True)
    wrong = person.unlink(linked, "not my password")
    assert wrong.status_code == 403 and "not your password" in wrong.get_data(as_text=True)
    assert identity_ids(app, alice.id) == [linked]
    assert person.unlink(linked, PASSWORD).status_code == 302
    assert identity_ids(app, alice.id) == []


def test_unlink_needs_the_csrf_token_and_only_touches_one_s_own(app: Flask, corp: Provider) -> None:
    nina = jit(app, corp)
    omar = jit(app, corp, "kc-2", "omar")
    corp_ids = identity_ids(app, nina.user_id)
    assert nina.unlink(corp_ids[0], csrf=False).status_code == 400
    foreign = omar.unlink(corp_ids[0])
    assert foreign.status_code == 404
    assert omar.unlink(999999).status_code == 404
    for odd in ("99999999999999999999", "0", "-1", "x", "%00"):
        response = omar.client.post(f"/settings/sign-ins/{odd}/unlink", data={"csrf_token": omar.csrf()})
        assert response.status_code == 404, odd
    assert identity_ids(app, nina.user_id) == corp_ids
    assert app.test_client().get(PAGE).status_code == 302  # logged out: to the login page


def test_a_just_in_time_account_sets_a_password_through_the_reset_flow(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    corp = Provider(mail_app).install()
    nina = jit(mail_app, corp, vouched=True)  # an unvouched one is unlinked by the reset (pre-hijacking)
    browser = mail_app.test_client()
    token = form_token(browser.get("/password/forgot"))
    assert browser.post("/password/forgot", data={"csrf_token": token, "login": "nina"}).status_code == 302
    deliver(mail_app)
    mails = [item for item in smtp_server.wait_for(1) if "nina@corp.example" in item.recipients]
    reset = next(m for m in mails if m.message["Subject"].startswith("Set a new password"))
    path = re.search(r"http://localhost(/password/reset/\S+)", reset.part("plain"))
    assert path is not None
    form = form_token(browser.get(path.group(1)))
    new = "a brand new passphrase"
    done = browser.post(path.group(1), data={"csrf_token": form, "password": new, "confirm": new})
    assert done.status_code == 302
    log_in(mail_app.test_client(), "nina", new)
    [corp_id] = identity_ids(mail_app, nina.user_id)
    # The reset ended nina's other sessions; a fresh login unlinks with the new password.
    fresh = mail_app.test_client()
    log_in(fresh, "nina", new)
    assert Person(fresh, nina.user_id).unlink(corp_id, new).status_code == 302


def test_the_export_holds_the_linked_sign_ins(app: Flask, corp: Provider) -> None:
    nina = jit(app, corp)
    token = form_token(nina.client.get("/settings/account"))
    assert nina.client.post("/settings/account/export", data={"csrf_token": token}).status_code == 302
    page = nina.client.get("/settings/account").get_data(as_text=True)
    link = re.search(r'href="(/settings/account/export/[^"]+)"', page)
    assert link is not None
    archive = zipfile.ZipFile(io.BytesIO(nina.client.get(link.group(1)).data))
    data = json.loads(archive.read("account.json"))
    [signed] = data["linked_sign_ins"]
    assert signed["backend"] == "oidc" and signed["provider"] == "corp" and signed["subject"] == "kc-1"
    assert signed["email"] == "nina@corp.example" and signed["linked_at"].endswith("Z")


def test_deleting_a_passwordless_account_needs_a_fresh_login_and_removes_its_sign_ins(
    app: Flask, corp: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    nina = jit(app, corp)
    page = nina.client.get("/settings/account").get_data(as_text=True)
    assert 'name="password"' not in page and "no password here" in page
    monkeypatch.setattr(account_deletion, "FRESH_LOGIN", account_deletion.FRESH_LOGIN * 0)
    stale = delete_account_without_password(nina)
    assert stale.status_code == 403 and "needs a fresh login" in stale.get_data(as_text=True)
    monkeypatch.undo()
    assert delete_account_without_password(nina).status_code == 302
    assert rows_per_table(app, nina.user_id) == {key: 0 for key in rows_per_table(app, nina.user_id)}
    with app.app_context():
        assert db.session.query(IdentityRow).count() == 0
    # The provider's next sign-in makes a new account (the old name is held).
    again = app.test_client()
    corp.sign_in(again, "kc-1", username="nina", email="nina@corp.example")
    assert identities_of(app, user_named(app, "nina2").id) == [("oidc", "corp", "kc-1", "nina@corp.example")]


def delete_account_without_password(person: Person) -> TestResponse:
    token = form_token(person.client.get("/settings/account"))
    return person.client.post("/settings/account/delete", data={"csrf_token": token})


def test_a_local_account_s_deletion_removes_its_sign_ins(app: Flask, corp: Provider) -> None:
    alice = sign_up(app, "alice")
    corp.sign_in(alice.client, "kc-alice", email="alice@example.com", email_verified=True)
    log_in(alice.client, "alice")
    alice.client.get("/dashboard")
    assert identities_of(app, alice.id)
    assert delete_account(alice, PASSWORD).status_code == 302
    assert identities_of(app, alice.id) == []
