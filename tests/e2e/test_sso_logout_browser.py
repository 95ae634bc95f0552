"""Logging out after a sign-in at the real OpenID provider, in Chromium: the product's CSP
(``form-action 'self'``) blocks a form's redirect to another site, so "Log out" goes through a page of
the product that moves on to the provider's logout; the provider then asks for the password again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer, run_live_server
from tests.support.oidc_login import ACCOUNTS, ALICE, CLIENT_SECRET, client
from tests.support.oidc_server import OidcProvider, free_port, run_oidc_provider


@pytest.fixture
def provider_and_site(tmp_path: Path) -> Iterator[tuple[OidcProvider, LiveServer]]:
    """The provider on 127.0.0.1 and the product on localhost (two hosts: their cookies stay apart)."""
    provider_port = free_port()
    corp = {
        "ISSUER": f"http://127.0.0.1:{provider_port}",
        "CLIENT_ID": "conexoos-product",
        "CLIENT_SECRET": CLIENT_SECRET,
        "SCOPES": ["openid", "email", "profile"],
        "LABEL": "Log in with Corp",
    }
    overrides = {"LOGINS": {"local": {}, "oidc": {"corp": corp}}}
    with run_live_server(tmp_path / "site", overrides, host_name="localhost") as site:
        clients = [client("conexoos-product", [f"{site.url}/login/oidc/corp/callback"], site.url)]
        with run_oidc_provider(tmp_path / "provider", clients, ACCOUNTS, port=provider_port) as provider:
            yield provider, site


def log_in_at_provider(page: Page, site: LiveServer, provider: OidcProvider) -> None:
    """Press the provider's button on the login page and give Alice's password at the provider."""
    page.goto(f"{site.url}/login")
    page.get_by_role("link", name="Log in with Corp").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.get_by_label("Username").fill(ALICE["username"])
    page.get_by_label("Password").fill(str(ALICE["password"]))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/dashboard")


def test_log_out_reaches_the_provider_which_asks_for_the_password_again(
    page: Page, provider_and_site: tuple[OidcProvider, LiveServer]
) -> None:
    provider, site = provider_and_site
    log_in_at_provider(page, site, provider)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/session/end"))
    page.get_by_role("button", name=re.compile("Yes, sign me out", re.IGNORECASE)).click()
    expect(page).to_have_url(f"{site.url}/")
    page.goto(f"{site.url}/login")
    page.get_by_role("link", name="Log in with Corp").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    expect(page.get_by_label("Password")).to_be_visible()  # not logged straight back in
