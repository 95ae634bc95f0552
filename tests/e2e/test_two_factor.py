"""Two factors in Chromium: passkeys with a virtual authenticator (the DevTools protocol's WebAuthn domain),
and an authenticator app enrolled and used with codes computed by pyotp, as a phone would.

The app is served as http://localhost:PORT: WebAuthn needs a secure context (localhost is one) and a
relying party that is a domain name, never 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import CDPSession, Page, expect

from tests.support.live_server import LiveServer, run_live_server

from .conftest import PASSWORD, PageFactory, sign_up


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The app at http://localhost:PORT (its PUBLIC_URL too)."""
    with run_live_server(tmp_path, host_name="localhost") as server:
        yield server


def log_out(page: Page, live: LiveServer) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live.url}/")


def log_in_with_password(page: Page, live: LiveServer, username: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with resident keys and a verified user, attached to ``page``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added: dict[str, Any] = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def test_a_passkey_is_registered_then_logs_in_alone_and_as_second_factor(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    cdp, authenticator = virtual_authenticator(page)
    sign_up(page, live, "ada")
    page.goto(f"{live.url}/settings/passkeys")
    page.get_by_label("Name").fill("This laptop")
    page.get_by_label("Password or authentication code").fill(PASSWORD)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{live.url}/settings/two-factor/recovery-codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"] is True
    page.goto(f"{live.url}/settings/passkeys")
    expect(page.locator(".passkey-name")).to_have_text(["This laptop"])

    # Conditional mediation: the login page offers the passkey in the username field's autofill, which
    # the virtual authenticator (presence simulated) picks at once: no click, no username, no password.
    log_out(page, live)
    page.goto(f"{live.url}/login")
    expect(page).to_have_url(f"{live.url}/dashboard")
    expect(page.get_by_role("heading", name="Your links")).to_be_visible()

    # A browser without that autofill: the "Sign in with a passkey" button.
    log_out(page, live)
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = async () => false;")
    page.goto(f"{live.url}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(f"{live.url}/dashboard")

    log_out(page, live)
    log_in_with_password(page, live, "ada")
    expect(page).to_have_url(f"{live.url}/login/two-factor")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(f"{live.url}/dashboard")
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert after[0]["signCount"] >= 2


def test_an_authenticator_app_is_enrolled_then_asked_for_at_login(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    sign_up(page, live, "grace")
    page.goto(f"{live.url}/dashboard/settings")
    page.get_by_role("link", name="Two-factor authentication and passkeys").click()
    page.get_by_label("Password or authentication code").fill(PASSWORD)
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code to scan with an authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(f"{live.url}/settings/two-factor/recovery-codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("On. Logging in asks for a code")).to_be_visible()

    log_out(page, live)
    log_in_with_password(page, live, "grace")
    expect(page).to_have_url(f"{live.url}/login/two-factor")
    page.get_by_label("Authentication code").fill(
        "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("does not match")
    # The enrolment used the current time step: a phone would show the next one 30 seconds later.
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live.url}/dashboard")
    expect(page.get_by_role("heading", name="Your links")).to_be_visible()
