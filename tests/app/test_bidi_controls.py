"""Names and texts people choose cannot hold bidirectional controls (U+202A-E, U+2066-9), which make text
read backwards where it is shown: a passkey's name (Settings, the "sign-in protection changed" mail), the
site's name at setup (every page and mail), a display name, a bio, a report's details, an API title; a
device label from a User-Agent names nothing when it holds control characters; a name from an identity
provider, or stored before the rule, loses them."""

from __future__ import annotations

import email
from email.message import Message

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from conexoos.app.controllers.external_logins import display_name
from conexoos.app.models.persistent import Passkey
from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage

from .conftest import PASSWORD, Account, form_token
from .test_passkeys import post_json, register
from .test_setup import setup_form

pytestmark = pytest.mark.database_matrix
OVERRIDE = "Phone\u202egnp.exe"
ISOLATE = "Phone \u2066x\u2069"
BIDI = [pytest.param(OVERRIDE, id="override"), pytest.param(ISOLATE, id="isolate")]


def passkeys_of(app: Flask, account: Account) -> list[str]:
    with app.app_context():
        return [passkey.name for passkey in Passkey.of_user(account.id)]


def mail_texts(app: Flask, address: str) -> list[str]:
    """The text part of every mail queued to ``address``."""
    with app.app_context():
        query = select(OutboxMessage.message).where(OutboxMessage.recipient == address)
        return [_text(email.message_from_string(raw)) for raw in db.session.scalars(query)]


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


@pytest.mark.parametrize("name", BIDI)
def test_a_passkey_name_with_bidi_controls_is_refused_when_added_and_renamed(
    app: Flask, alice: Account, name: str
) -> None:
    options = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": name, "confirmation": PASSWORD}
    )
    assert options.status_code == 422
    assert "bidirectional controls" in options.get_json()["error"]["message"]
    register(alice, "Phone")
    [passkey_id] = [passkey.id for passkey in _passkeys(app, alice)]
    renamed = alice.client.post(
        f"/settings/passkeys/{passkey_id}/rename",
        data={"csrf_token": alice.csrf, f"rename-{passkey_id}-name": name},
    )
    assert renamed.status_code == 422
    assert "bidirectional controls" in renamed.get_data(as_text=True)
    assert passkeys_of(app, alice) == ["Phone"]


def test_a_name_stored_before_the_rule_is_shown_without_its_controls(app: Flask, alice: Account) -> None:
    register(alice, "Phone")
    with app.app_context():
        passkey = Passkey.of_user(alice.id)[0]
        passkey.name, passkey_id = OVERRIDE, passkey.id
        db.session.commit()
    page = alice.client.get("/settings/passkeys").get_data(as_text=True)
    assert "Phonegnp.exe" in page and "\u202e" not in page
    removed = alice.client.post(
        f"/settings/passkeys/{passkey_id}/delete",
        data={"csrf_token": alice.csrf, f"remove-{passkey_id}-confirmation": PASSWORD},
    )
    assert removed.status_code == 302
    [notice] = [text for text in mail_texts(app, alice.email) if "A passkey was removed" in text]
    assert "“Phonegnp.exe”" in notice and "\u202e" not in notice


def _passkeys(app: Flask, account: Account) -> list[Passkey]:
    with app.app_context():
        found = Passkey.of_user(account.id)
        db.session.expunge_all()
        return found


@pytest.mark.parametrize("text", BIDI)
def test_forms_refuse_bidi_controls_with_a_message(app: Flask, alice: Account, text: str) -> None:
    profile = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": text, "bio": ""}
    )
    assert profile.status_code == 422 and "bidirectional controls" in profile.get_data(as_text=True)
    bio = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Alice", "bio": f"Hi\n{text}"}
    )
    assert bio.status_code == 422 and "bidirectional controls" in bio.get_data(as_text=True)
    visitor = app.test_client()
    token = form_token(visitor.get("/alice/report"))
    report = visitor.post(
        "/alice/report", data={"csrf_token": token, "reason": "phishing", "details": text, "email": ""}
    )
    assert report.status_code == 422 and "bidirectional controls" in report.get_data(as_text=True)


def test_the_site_name_at_setup_refuses_bidi_controls(client: FlaskClient) -> None:
    response = client.post("/setup", data=setup_form(client, site_name="Links\u202eevil"))
    assert response.status_code == 422
    assert "bidirectional controls" in response.get_data(as_text=True)


@pytest.mark.parametrize("text", BIDI)
def test_api_titles_refuse_bidi_controls(alice: Account, text: str) -> None:
    response = alice.api("POST", "/api/add/link", {"title": text, "url": "https://example.com/"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bidi_control"
    assert alice.links() == []


def test_a_device_label_with_control_characters_names_nothing(app: Flask, alice: Account) -> None:
    # U+202E sent as UTF-8 reaches the app as Latin-1 text: "â\x80®", with a C1 control in it.
    agent = "\u00e2\u0080\u00aeEvil/1.0 CFNetwork/1.0 Darwin/1.0"
    browser = app.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = agent
    token = form_token(browser.get("/login"))
    logged_in = browser.post("/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD})
    assert logged_in.status_code == 302
    page = alice.client.get("/settings/security").get_data(as_text=True)
    assert "Evil" not in page and "\u0080" not in page
    assert "Unknown device" in page


def test_a_providers_name_for_a_person_loses_its_bidi_controls() -> None:
    assert display_name("Ann\u202e \u2066Lee\u2069") == "Ann Lee"
    assert display_name("\u202e") == ""
