"""A person logs in with an OpenID provider in Chromium: the button on a small project's login page, the
provider's own form, and back on the project, logged in (the real ``oidc-provider`` under Node)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.framework.helpers import write_project
from tests.support.live_server import LiveServer, run_live_server
from tests.support.oidc_login import ACCOUNTS, ALICE, CLIENT_SECRET, client
from tests.support.oidc_server import OidcProvider, free_port, run_oidc_provider

# A project that shows its login buttons and answers a finished login by keeping the person in its session.
# It installs the OpenID Connect backend itself from APP.OIDC (until LOGINS is assembled by the framework).
PROJECT_FILES = {
    "server/web.py": """
        from flask import redirect, render_template_string, session

        from conexoos.framework.logins import Logins
        from conexoos.framework.logins.oidc import PROVIDER_SCHEMA, install

        LOGIN_PAGE = '''<!doctype html><title>Log in</title><h1>Log in</h1>
        {% for button in buttons %}
          <form method="get" action="{{ button.url }}">
            <button type="submit">{{ button.label }}</button>
          </form>
        {% endfor %}'''
        ME_PAGE = '<!doctype html><title>Me</title><p>Logged in as {{ name }} (admin: {{ admin }})</p>'


        class Route:
            def __init__(self, app):
                runtime = app.extensions["conexoos"]
                logins = runtime.logins = Logins()
                defaults = {name: key.default for name, key in PROVIDER_SCHEMA.items()}
                configured = runtime.settings.tree["APP"]["OIDC"]
                section = {name: {**defaults, **entry} for name, entry in configured.items()}
                install(app, logins, section)

                @logins.on_login
                def logged_in(identity):
                    session["person"] = {"name": identity.name, "admin": identity.admin}
                    return redirect("/me")

                app.add_url_rule(
                    "/login", "login", lambda: render_template_string(LOGIN_PAGE, buttons=logins.buttons())
                )
                app.add_url_rule("/me", "me", lambda: render_template_string(ME_PAGE, **session["person"]))
    """,
}


@pytest.fixture
def provider_and_site(tmp_path: Path) -> Iterator[tuple[OidcProvider, LiveServer]]:
    """The provider on 127.0.0.1 and the project on localhost (two hosts: their cookies stay apart)."""
    project = write_project(tmp_path / "project", PROJECT_FILES)
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    overrides = {
        "APP": {
            "OIDC": {
                "corp": {
                    "ISSUER": issuer,
                    "CLIENT_ID": "conexoos-browser",
                    "CLIENT_SECRET": CLIENT_SECRET,
                    "SCOPES": "openid email profile groups",
                    "ADMIN_CLAIM": "groups",
                    "ADMIN_VALUES": ["conexoos-admins"],
                    "LABEL": "Log in with Corp SSO",
                }
            }
        }
    }
    with run_live_server(tmp_path / "site", overrides, host_name="localhost", project=project) as site:
        redirect_uri = f"{site.url}/login/oidc/corp/callback"
        clients = [client("conexoos-browser", [redirect_uri], site.url)]
        with run_oidc_provider(tmp_path / "provider", clients, ACCOUNTS, port=provider_port) as provider:
            yield provider, site


def test_log_in_with_the_provider_in_chromium(
    page: Page, provider_and_site: tuple[OidcProvider, LiveServer]
) -> None:
    provider, site = provider_and_site
    page.goto(f"{site.url}/login")
    page.get_by_role("button", name="Log in with Corp SSO").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.get_by_label("Username").fill(ALICE["username"])
    page.get_by_label("Password").fill(str(ALICE["password"]))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/me")
    expect(page.get_by_text("Logged in as Alice Liddell (admin: True)")).to_be_visible()
