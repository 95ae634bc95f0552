"""Passkeys through the real routes, answered by a software authenticator (tests/support/soft_authenticator).

Registration (several, named, renamed, removed), logging in with a passkey alone (user verification
required) or as the second factor, the signature counter, single-use challenges, and the relying party
taken from PUBLIC_URL (http://localhost in the tests), never from the Host header.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conexoos.app.controllers import ceremonies, passkeys
from conexoos.app.models.persistent import Passkey, RecoveryCode, User
from conexoos.framework import db
from tests.support.soft_authenticator import SoftAuthenticator, b64
from tests.support.static_urls import unhashed

from .conftest import PASSWORD, Account, SignUp, form_token
from .two_factor_support import password_step, session_id, shown_codes

pytestmark = pytest.mark.database_matrix
ORIGIN = "http://localhost"


def post_json(client: FlaskClient, url: str, token: str, body: Any) -> TestResponse:
    """POST JSON with the CSRF header, as static/js/passkeys.js does."""
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    return client.post(url, json=body, headers=headers)


def register(
    account: Account, name: str = "Phone", device: SoftAuthenticator | None = None
) -> SoftAuthenticator:
    """Add a passkey to ``account`` through the settings routes; return the device that holds it."""
    device = device or SoftAuthenticator(ORIGIN)
    options = post_json(
        account.client, "/settings/passkeys/options", account.csrf, {"name": name, "confirmation": PASSWORD}
    )
    assert options.status_code == 200, options.get_data(as_text=True)
    finished = post_json(
        account.client, "/settings/passkeys", account.csrf, device.create(options.get_json())
    )
    assert finished.status_code == 201, finished.get_data(as_text=True)
    return device


def login_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of a login page (the passkey script reads the form's)."""
    return form_token(client.get(path))


def passkey_login(app: Flask, device: SoftAuthenticator) -> tuple[FlaskClient, TestResponse]:
    """A new browser logging in with ``device``'s passkey alone."""
    browser = app.test_client()
    token = login_token(browser)
    options = post_json(browser, "/login/passkey/options", token, {})
    assert options.status_code == 200
    return browser, post_json(
        browser, "/login/passkey?next=/dashboard/settings", token, device.get(options.get_json())
    )


def test_several_named_passkeys_the_first_with_recovery_codes(app: Flask, alice: Account) -> None:
    device = SoftAuthenticator(ORIGIN)
    options = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": "Phone", "confirmation": PASSWORD}
    )
    body = options.get_json()
    assert body["rp"] == {"id": "localhost", "name": "Conexoos"}
    assert body["authenticatorSelection"]["residentKey"] == "required"
    finished = post_json(alice.client, "/settings/passkeys", alice.csrf, device.create(body))
    assert finished.status_code == 201
    assert finished.get_json()["redirect"] == "/settings/two-factor/recovery-codes"
    assert len(shown_codes(alice.client)) == 10
    second = register(alice, "Laptop <b>")
    page = alice.client.get("/settings/passkeys").get_data(as_text=True)
    assert "Phone" in page and "Laptop &lt;b&gt;" in page
    excluded = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": "Third", "confirmation": PASSWORD}
    ).get_json()
    assert {item["id"] for item in excluded["excludeCredentials"]} == {
        b64(device.credential_id),
        b64(second.credential_id),
    }
    with app.app_context():
        keys = Passkey.of_user(alice.id)
        assert [key.name for key in keys] == ["Phone", "Laptop <b>"]
        assert keys[0].user_handle == keys[1].user_handle  # one WebAuthn user per account


def test_adding_a_passkey_needs_the_password_and_a_fresh_challenge(app: Flask, alice: Account) -> None:
    refused = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": "Phone", "confirmation": "wrong"}
    )
    assert refused.status_code == 401
    nameless = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": " ", "confirmation": PASSWORD}
    )
    assert nameless.status_code == 422 and nameless.get_json()["error"]["field"] == "name"
    device = SoftAuthenticator(ORIGIN)
    options = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": "Phone", "confirmation": PASSWORD}
    ).get_json()
    answer = device.create(options)
    assert post_json(alice.client, "/settings/passkeys", alice.csrf, answer).status_code == 201
    again = post_json(alice.client, "/settings/passkeys", alice.csrf, answer)  # the challenge was used
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "expired"


def test_a_passkey_made_for_another_site_is_refused(app: Flask, alice: Account) -> None:
    options = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": "Phone", "confirmation": PASSWORD}
    ).get_json()
    evil = SoftAuthenticator("http://evil.example")
    refused = post_json(alice.client, "/settings/passkeys", alice.csrf, evil.create(options))
    assert refused.status_code == 400
    with app.app_context():
        assert Passkey.count_of_user(alice.id) == 0


def test_the_relying_party_comes_from_public_url_not_host(app: Flask, alice: Account) -> None:
    with app.test_request_context("/login/passkey/options", headers={"Host": "evil.example:8443"}):
        user = User.get_by_id(alice.id)
        assert user is not None
        options = json.loads(passkeys.registration_options(user, "Phone").options_json)
        assert passkeys.relying_party().origin == ORIGIN
    assert options["rp"]["id"] == "localhost"


def test_logging_in_with_a_passkey_alone(app: Flask, alice: Account) -> None:
    device = register(alice)
    browser = app.test_client()
    token = login_token(browser)
    anonymous = session_id(app, browser)
    options = post_json(browser, "/login/passkey/options", token, {})
    body = options.get_json()
    assert body["userVerification"] == "required" and body["rpId"] == "localhost"
    assert body.get("allowCredentials", []) == []  # discoverable: the device offers its passkey
    answer = post_json(browser, "/login/passkey?next=/dashboard/settings", token, device.get(body))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["redirect"] == "/dashboard/settings"
    assert session_id(app, browser) != anonymous
    assert browser.get("/dashboard").status_code == 200
    with app.app_context():
        assert db.session.get(Passkey, Passkey.of_user(alice.id)[0].id).sign_count == 1


def test_a_passkey_alone_needs_user_verification(app: Flask, alice: Account) -> None:
    device = register(alice)
    device.user_verified = False
    browser, answer = passkey_login(app, device)
    assert answer.status_code == 401
    assert browser.get("/dashboard").status_code == 302


def test_a_passkey_alone_must_say_whose_it_is(app: Flask, alice: Account) -> None:
    """WebAuthn 7.2 step 6: when nobody was named before the ceremony, the answer's userHandle must be
    there and be the passkey's own account's; a second factor (the account known) may leave it out."""
    device = register(alice)
    browser = app.test_client()
    token = login_token(browser)
    options = post_json(browser, "/login/passkey/options", token, {}).get_json()
    answer = device.get(options)
    del answer["response"]["userHandle"]
    refused = post_json(browser, "/login/passkey", token, answer)
    assert refused.status_code == 401
    assert browser.get("/dashboard").status_code == 302
    browser, _ = password_step(app, "alice", PASSWORD)
    token = login_token(browser, "/login/two-factor")
    options = post_json(browser, "/login/two-factor/passkey/options", token, {}).get_json()
    answer = device.get(options)
    del answer["response"]["userHandle"]
    assert post_json(browser, "/login/two-factor/passkey", token, answer).status_code == 200


def test_an_answer_replayed_with_its_cookie_is_refused(app: Flask, alice: Account) -> None:
    """Even from a passkey whose counter stays 0 (synced passkeys), where the counter cannot tell."""
    device = register(alice, device=SoftAuthenticator(ORIGIN, counts=False))
    browser = app.test_client()
    token = login_token(browser)
    options = post_json(browser, "/login/passkey/options", token, {}).get_json()
    cookie = session_id(app, browser)  # the anonymous session holding the challenge
    answer = device.get(options)
    assert post_json(browser, "/login/passkey", token, answer).status_code == 200
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie, domain="localhost")
    replayed = post_json(thief, "/login/passkey", token, answer)
    assert replayed.status_code == 401 and "already used" in replayed.get_json()["error"]["message"]
    assert thief.get("/dashboard").status_code == 302


def test_the_login_pages_challenge_writes_no_cookie(app: Flask, alice: Account) -> None:
    """The login page asks for a challenge as it loads (autofill): its answer sets no cookie, so it cannot
    put back an older session over the one a sign-in button's answer (or a password login) set meanwhile."""
    device = register(alice)
    browser = app.test_client()
    token = login_token(browser)
    options = post_json(browser, "/login/passkey/options", token, {})
    assert options.status_code == 200
    assert "Set-Cookie" not in options.headers
    other_browser = app.test_client()  # the challenge is not tied to the browser that asked for it
    answer = post_json(
        other_browser, "/login/passkey", login_token(other_browser), device.get(options.get_json())
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "challenge",
    [
        b"\x00" * 40,  # the right length, not made by this site
        b"a challenge of another length",
        b"",
    ],
)
def test_a_challenge_the_site_did_not_make_is_refused(app: Flask, alice: Account, challenge: bytes) -> None:
    device = register(alice)
    browser = app.test_client()
    token = login_token(browser)
    answer = device.get({"challenge": b64(challenge), "rpId": "localhost"})
    refused = post_json(browser, "/login/passkey", token, answer)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "expired"
    assert browser.get("/dashboard").status_code == 302


def test_a_challenge_of_another_purpose_or_past_its_five_minutes_is_refused(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = register(alice)
    browser = app.test_client()
    token = login_token(browser)
    with app.test_request_context():
        other_purpose = ceremonies.signed_challenge("passkey_second_factor")
    answer = device.get({"challenge": b64(other_purpose), "rpId": "localhost"})
    assert post_json(browser, "/login/passkey", token, answer).get_json()["error"]["code"] == "expired"
    options = post_json(browser, "/login/passkey/options", token, {}).get_json()
    later = time.time_ns() + (ceremonies.LIFETIME + 1) * 1_000_000_000
    monkeypatch.setattr(time, "time_ns", lambda: later)
    late = post_json(browser, "/login/passkey", token, device.get(options))
    assert late.status_code == 400 and late.get_json()["error"]["code"] == "expired"


def test_a_signature_counter_that_does_not_grow_is_refused(app: Flask, alice: Account) -> None:
    device = register(alice)
    assert passkey_login(app, device)[1].status_code == 200
    device.sign_count = 0  # a cloned authenticator starts again from an older count
    browser, answer = passkey_login(app, device)
    assert answer.status_code == 401
    assert browser.get("/dashboard").status_code == 302


def test_a_passkey_is_a_second_factor_after_the_password(
    app: Flask, alice: Account, signed_up: SignUp
) -> None:
    device = register(alice)
    mallory_device = register(signed_up("mallory"))
    browser, answer = password_step(app, "alice", PASSWORD)
    assert answer.headers["Location"].endswith("/login/two-factor")
    page = browser.get("/login/two-factor").get_data(as_text=True)
    assert 'id="passkey-second-factor"' in page and "js/passkeys.js" in unhashed(page)
    token = login_token(browser, "/login/two-factor")
    options = post_json(browser, "/login/two-factor/passkey/options", token, {}).get_json()
    assert [item["id"] for item in options["allowCredentials"]] == [b64(device.credential_id)]
    wrong = post_json(browser, "/login/two-factor/passkey", token, mallory_device.get(options, "localhost"))
    assert wrong.status_code == 401
    assert browser.get("/dashboard").status_code == 302
    options = post_json(browser, "/login/two-factor/passkey/options", token, {}).get_json()
    half = session_id(app, browser)
    device.user_verified = False  # presence is enough after the password
    done = post_json(browser, "/login/two-factor/passkey", token, device.get(options))
    assert done.status_code == 200 and done.get_json()["redirect"] == "/dashboard"
    assert session_id(app, browser) != half
    assert browser.get("/dashboard").status_code == 200


def test_the_second_factor_passkey_routes_need_the_password_first(app: Flask) -> None:
    browser = app.test_client()
    token = login_token(browser)
    response = post_json(browser, "/login/two-factor/passkey/options", token, {})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "login_again"


def test_rename_and_remove_only_your_own(app: Flask, alice: Account, bob: Account) -> None:
    register(alice, "Phone")
    register(alice, "Key")
    with app.app_context():
        first, second = (key.id for key in Passkey.of_user(alice.id))
    renamed = alice.client.post(
        f"/settings/passkeys/{first}/rename",
        data={"csrf_token": alice.csrf, f"rename-{first}-name": "Old phone"},
    )
    assert renamed.status_code == 302
    stolen = bob.client.post(
        f"/settings/passkeys/{first}/delete",
        data={"csrf_token": bob.csrf, f"remove-{first}-confirmation": PASSWORD},
    )
    assert stolen.status_code == 404
    refused = alice.client.post(
        f"/settings/passkeys/{first}/delete",
        data={"csrf_token": alice.csrf, f"remove-{first}-confirmation": "no"},
    )
    assert refused.status_code == 401
    for passkey_id in (first, second):
        removed = alice.client.post(
            f"/settings/passkeys/{passkey_id}/delete",
            data={"csrf_token": alice.csrf, f"remove-{passkey_id}-confirmation": PASSWORD},
        )
        assert removed.status_code == 302
    with app.app_context():
        assert Passkey.count_of_user(alice.id) == 0
        assert RecoveryCode.unused_count(alice.id) == 0  # no second factor left to recover
    assert password_step(app, "alice", PASSWORD)[1].headers["Location"].endswith("/dashboard")


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"id": "x", "rawId": "!!!", "type": "public-key", "response": {}},
        {
            "id": "AA",
            "rawId": "AA",
            "type": "public-key",
            "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"},
        },
        {"id": 1, "rawId": None, "type": "other", "response": "x"},
        {  # client data nested deeper than Python's JSON parser recurses
            "id": "AA",
            "rawId": "AA",
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(b'{"challenge":' + b"[" * 5000 + b"]" * 5000 + b"}"),
                "authenticatorData": "AA",
                "signature": "AA",
                "userHandle": "AA",
                "attestationObject": "AA",
            },
        },
    ],
)
def test_malformed_answers_are_refused_without_a_500(app: Flask, alice: Account, body: Any) -> None:
    device = register(alice)
    browser = app.test_client()
    token = login_token(browser)
    post_json(browser, "/login/passkey/options", token, {})
    answer = post_json(browser, "/login/passkey", token, body)
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    options = post_json(
        alice.client, "/settings/passkeys/options", alice.csrf, {"name": "X", "confirmation": PASSWORD}
    )
    assert options.status_code == 200
    registered = post_json(alice.client, "/settings/passkeys", alice.csrf, body)
    assert 400 <= registered.status_code < 500, registered.get_data(as_text=True)
    assert device.sign_count == 0
    message = json.loads(answer.get_data(as_text=True))["error"]["message"]
    assert "expired" not in message  # it says what is wrong: no passkey answer
    assert "__cause__" not in registered.get_data(as_text=True)  # not the library's own wording


def form_post(client: FlaskClient, url: str, fields: dict[str, str]) -> TestResponse:
    """POST a form whose values are sent byte for byte (a lone surrogate as its raw UTF-8 ``%ED%A0%80``)."""
    body = "&".join(
        f"{quote(name)}={quote_from_bytes(value.encode('utf-8', 'surrogatepass'))}"
        for name, value in fields.items()
    )
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


HOSTILE = ["\x00", "a\x00b", "\ud800", "line\r\nbreak", "\u202e", "x" * 5000, "%ED%A0%80", "1" * 6, ""]


def test_hostile_text_in_every_two_factor_input_is_a_4xx(app: Flask, alice: Account) -> None:
    register(alice)
    with app.app_context():
        passkey_id = Passkey.of_user(alice.id)[0].id
    failures = []
    for text in HOSTILE:
        answers = {
            "options name": post_json(
                alice.client,
                "/settings/passkeys/options",
                alice.csrf,
                {"name": text, "confirmation": PASSWORD},
            ),
            "options confirmation": post_json(
                alice.client,
                "/settings/passkeys/options",
                alice.csrf,
                {"name": "Phone", "confirmation": text},
            ),
            "rename": form_post(
                alice.client,
                f"/settings/passkeys/{passkey_id}/rename",
                {"csrf_token": alice.csrf, f"rename-{passkey_id}-name": text},
            ),
            "remove": form_post(
                alice.client,
                f"/settings/passkeys/{passkey_id}/delete",
                {"csrf_token": alice.csrf, f"remove-{passkey_id}-confirmation": text},
            ),
            "regenerate": form_post(
                alice.client,
                "/settings/two-factor/recovery-codes",
                {"csrf_token": alice.csrf, "regenerate-confirmation": text},
            ),
        }
        browser, _ = password_step(app, "alice", PASSWORD)
        token = login_token(browser, "/login/two-factor")
        answers["second step"] = form_post(browser, "/login/two-factor", {"csrf_token": token, "code": text})
        for name, answer in answers.items():
            if answer.status_code >= 500:
                failures.append(f"{name} {text[:12]!r}: {answer.status_code}")
    assert not failures, failures
    with app.app_context():
        assert Passkey.count_of_user(alice.id) == 1  # no wrong confirmation removed it
        assert Passkey.of_user(alice.id)[0].name == "1" * 6  # the last visible name; no invisible one
