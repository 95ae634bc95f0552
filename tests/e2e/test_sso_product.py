"""Single sign-on in the product, in Chromium: the provider's button on the login page (a plain link, so
it works without JavaScript), a first sign-in making the account, its linked sign-in in Settings, and a
sign-in that waits for the account's password before it is linked.

The provider is the stand-in of ``tests/app/sso_support.py`` (a button and a callback handing the product
an identity, as the real OpenID Connect and SAML backends do after their checks, which their own browser
tests cover against real identity providers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.app.sso_support import Provider
from tests.support import live_server
from tests.support.live_server import LiveServer, run_live_server

from .conftest import PASSWORD, PageFactory, sign_up


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, Provider]]:
    """The app with the stand-in provider installed before it serves its first request."""
    providers: list[Provider] = []
    build = live_server.create_app

    def with_provider(*args: Any, **kwargs: Any) -> Flask:
        app = build(*args, **kwargs)
        providers.append(Provider(app).install())
        return app

    monkeypatch.setattr(live_server, "create_app", with_provider)
    with run_live_server(tmp_path) as server:
        yield server, providers[0]


def test_a_first_sign_in_without_javascript_makes_the_account(
    served: tuple[LiveServer, Provider], new_page: PageFactory
) -> None:
    live, provider = served
    provider.waiting["start"] = provider.identity(
        "kc-nina", username="Nina", email="nina@corp.example", email_verified=True
    )
    page = new_page(java_script_enabled=False)
    page.goto(f"{live.url}/login")
    page.get_by_role("link", name="Log in with Corp ID").click()
    expect(page).to_have_url(f"{live.url}/dashboard")
    expect(page.get_by_text("Your account nina was made from your Corp ID sign-in")).to_be_visible()
    page.goto(f"{live.url}/settings/sign-ins")
    row = page.get_by_role("row", name="Corp ID")
    expect(row).to_contain_text("nina@corp.example")
    expect(row).to_contain_text("This is your only way to log in")
    expect(page.get_by_role("button", name="Unlink")).to_have_count(0)


def test_a_sign_in_waits_for_the_password_then_is_linked(
    served: tuple[LiveServer, Provider], page: Page
) -> None:
    live, provider = served
    sign_up(page, live, "olga")
    page.get_by_role("button", name="Log out").click()
    provider.waiting["start"] = provider.identity("kc-olga", email="olga@example.com", email_verified=True)
    page.goto(f"{live.url}/login")
    page.get_by_role("link", name="Log in with Corp ID").click()
    expect(page).to_have_url(f"{live.url}/login")
    expect(page.get_by_role("status")).to_contain_text("Log in to it once, the usual way")
    page.get_by_label("Email or username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(f"{live.url}/dashboard")
    expect(page.get_by_text("Your Corp ID sign-in (olga@example.com) is now linked")).to_be_visible()
    page.goto(f"{live.url}/settings/sign-ins")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Unlink Corp ID (olga@example.com)").click()
    expect(page.get_by_text("Your Corp ID sign-in is no longer linked to this account.")).to_be_visible()
