"""SAML login and single logout in Chromium, against the test IdP in its own process.

The app is served as http://localhost:PORT and the IdP as http://127.0.0.1:PORT: two sites, so the IdP's
POST to /saml/acs is cross-site and the browser does not send the SameSite=Lax session cookie with it. The
ACS answers with a page that posts the answer again from the app's own site; the login must still succeed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Request, expect

from tests.support.saml_app import RunningApp, run_saml_app, saml_project, saml_section
from tests.support.saml_idp import PASSWORD, SamlIdp, run_saml_idp, write_key_pair

from .conftest import PageFactory


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdp]:
    with run_saml_idp(tmp_path_factory.mktemp("idp")) as running:
        yield running


@pytest.fixture
def site(tmp_path: Path, idp: SamlIdp) -> Iterator[RunningApp]:
    """The SAML project at http://localhost:PORT, registered at the IdP."""
    key, cert = write_key_pair(tmp_path / "sp", "sp", "localhost")
    project = saml_project(tmp_path / "project")
    section = saml_section(idp.metadata_url, key, cert)
    with run_saml_app(project, tmp_path, section, host="localhost") as running:
        metadata = requests.get(f"{running.url}/saml/metadata", timeout=10)
        metadata.raise_for_status()
        idp.register_sp(metadata.content)
        yield running


def test_a_person_logs_in_at_the_idp_and_logs_out_everywhere(
    site: RunningApp, idp: SamlIdp, new_page: PageFactory
) -> None:
    page = new_page()
    acs_posts: list[str] = []
    visited: list[str] = []

    def count(request: Request) -> None:
        visited.append(request.url)
        if request.method == "POST" and request.url == f"{site.url}/saml/acs":
            acs_posts.append(request.all_headers().get("cookie", ""))

    page.on("request", count)
    page.goto(f"{site.url}/")
    expect(page.get_by_text("Not logged in")).to_be_visible()
    page.get_by_role("link", name="Log in with SSO").click()
    expect(page).to_have_url(re.compile(re.escape(f"{idp.url}/sso/redirect?SAMLRequest=")))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text("Logged in as Ada Lovelace (ada@example.org)")
    expect(page).to_have_url(f"{site.url}/")
    assert len(acs_posts) == 2, acs_posts  # the cross-site POST, then the same answer from the app's site
    assert "session=" not in acs_posts[0] and "session=" in acs_posts[1]

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("Not logged in")).to_be_visible()
    expect(page).to_have_url(f"{site.url}/")
    # The logout went through the IdP's single logout and came back through /saml/sls:
    assert any(url.startswith(f"{idp.url}/slo/redirect?SAMLRequest=") for url in visited)
    assert any(url.startswith(f"{site.url}/saml/sls?SAMLResponse=") for url in visited)
