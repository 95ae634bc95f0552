"""The product behind real identity servers: OpenLDAP (slapd) through the login form, and the certified
``oidc-provider`` (Node) through its button, each making, linking and logging into accounts as the
product's rules say, and logging out at the provider.

The servers start once for the module (skipped with the reason when slapd or Node is missing, failed
under ``CONEXOOS_REQUIRE_SERVICES=1``); each test gets a fresh product on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers.accounts import has_usable_password
from tests.conftest import AppFactory
from tests.support.ldap_server import LdapServer, running_ldap_server
from tests.support.oidc_login import ACCOUNTS, ALICE, BOB, CLIENT_SECRET, ProviderBrowser, client
from tests.support.oidc_server import OidcProvider, run_oidc_provider

from .conftest import PASSWORD, product_app, sign_up
from .sso_support import identities_of, user_named, users_and_identities
from .test_accounts import is_logged_in, post_login
from .test_external_logins import log_out_to_provider

PUBLIC_URL = "http://localhost"  # the tests' PUBLIC_URL (tests/conftest.py)
CALLBACK = f"{PUBLIC_URL}/login/oidc/corp/callback"


@pytest.fixture(scope="module")
def directory() -> Iterator[LdapServer]:
    """One slapd for the module: alice (admins) and bob, with their mail addresses."""
    with running_ldap_server() as server:
        yield server


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """One OpenID provider for the module, with the product as a client."""
    clients = [client("conexoos-product", [CALLBACK], PUBLIC_URL)]
    with run_oidc_provider(tmp_path_factory.mktemp("oidc"), clients, ACCOUNTS) as running:
        yield running


def oidc_section(provider: OidcProvider) -> dict[str, Any]:
    """``LOGINS.oidc``: the provider as ``corp`` (admins by its groups claim)."""
    corp = {
        "ISSUER": provider.issuer,
        "CLIENT_ID": "conexoos-product",
        "CLIENT_SECRET": CLIENT_SECRET,
        "SCOPES": ["openid", "email", "profile", "groups"],
        "ADMIN_CLAIM": "groups",
        "ADMIN_VALUES": ["conexoos-admins"],
        "LABEL": "Log in with Corp",
    }
    return {"corp": corp}


def sso_app(make_app: AppFactory, logins: dict[str, Any]) -> Flask:
    """The product with ``LOGINS`` as given, linking by email on."""
    overrides = {"LOGINS": logins, "APP": {"ACCOUNTS": {"SSO_LINK_BY_EMAIL": True}}}
    return product_app(make_app, overrides)


@pytest.fixture
def ldap_app(make_app: AppFactory, directory: LdapServer) -> Flask:
    """The product with the site's passwords, then the directory."""
    return sso_app(make_app, {"local": {}, "ldap": directory.section()})


@pytest.fixture
def oidc_app(make_app: AppFactory, provider: OidcProvider) -> Flask:
    """The product with the site's passwords and the provider's button."""
    return sso_app(make_app, {"local": {}, "oidc": oidc_section(provider)})


def oidc_login(browser: FlaskClient, account: dict[str, Any], next_page: str = "") -> Any:
    """Press the provider's button (from the login page), log in at the provider, come back."""
    page = browser.get("/login" + (f"?next={next_page}" if next_page else "")).get_data(as_text=True)
    assert "Log in with Corp</a>" in page
    started = browser.get("/login/oidc/corp" + (f"?next={next_page}" if next_page else ""))
    assert started.status_code == 302, started.get_data(as_text=True)
    callback = ProviderBrowser(PUBLIC_URL).log_in(
        started.headers["Location"], account["username"], account["password"]
    )
    return browser.get(callback[len(PUBLIC_URL) :])


def test_an_openid_provider_makes_the_account_maps_admin_and_logs_out_there(oidc_app: Flask) -> None:
    app = oidc_app
    browser = app.test_client()
    back = oidc_login(browser, ALICE, "/dashboard/stats")
    assert back.status_code == 302 and back.headers["Location"] == "/dashboard/stats"
    assert is_logged_in(browser)
    alice = user_named(app, "alice")
    assert alice.email == "alice@example.org" and alice.email_verified and alice.is_admin
    assert not has_usable_password(alice)
    assert identities_of(app, alice.id) == [("oidc", "corp", ALICE["sub"], "alice@example.org")]
    target = urlsplit(log_out_to_provider(browser))
    assert f"{target.scheme}://{target.netloc}" == app_issuer(app)
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == [f"{PUBLIC_URL}/"] and query["id_token_hint"]
    assert not is_logged_in(browser)


def app_issuer(app: Flask) -> str:
    """The provider's issuer, as ``LOGINS`` has it."""
    issuer: str = app.extensions["conexoos"].settings.tree["LOGINS"]["oidc"]["corp"]["ISSUER"]
    return issuer


def test_an_unverified_provider_address_waits_for_the_password(oidc_app: Flask) -> None:
    app = oidc_app
    local = sign_up(app, "builder", "bob@example.org")  # BOB's address, which the provider does not vouch for
    browser = app.test_client()
    back = oidc_login(browser, BOB)
    assert back.headers["Location"] == "/login" and not is_logged_in(browser)
    assert identities_of(app, local.id) == []
    assert post_login(browser, "builder", PASSWORD).status_code == 302
    assert identities_of(app, local.id) == [("oidc", "corp", BOB["sub"], "bob@example.org")]


def test_a_directory_login_through_the_form_and_its_groups(ldap_app: Flask) -> None:
    app = ldap_app
    before = users_and_identities(app)
    browser = app.test_client()
    assert post_login(browser, "alice", "alice-pw").status_code == 302 and is_logged_in(browser)
    alice = user_named(app, "alice")
    assert alice.is_admin and alice.email == "alice@example.org"  # in the directory's admins group
    assert post_login(app.test_client(), "bob", "bob-pw").status_code == 302
    assert not user_named(app, "bob").is_admin
    assert users_and_identities(app) == (before[0] + 2, before[1] + 2)
    wrong = post_login(app.test_client(), "alice", "not her password")
    assert wrong.status_code == 401 and "Those details do not match an account." in wrong.get_data(
        as_text=True
    )


def test_a_directory_that_is_down_is_a_503_on_the_form(ldap_app: Flask, directory: LdapServer) -> None:
    app = ldap_app
    directory.stop()
    try:
        down = post_login(app.test_client(), "alice", "alice-pw")
    finally:
        directory.start()
    assert down.status_code == 503
    assert 'name="password"' in down.get_data(as_text=True)  # the form, with the sentence above it
    assert users_and_identities(app) == (0, 0)


def test_the_directory_and_the_provider_are_two_identities_of_one_person(
    make_app: AppFactory, directory: LdapServer, provider: OidcProvider
) -> None:
    """alice@example.org from the directory (not vouched for) makes an account; the provider vouches for
    the same address, but the account never verified it: the provider's sign-in waits for a login."""
    app = sso_app(make_app, {"local": {}, "ldap": directory.section(), "oidc": oidc_section(provider)})
    assert post_login(app.test_client(), "alice", "alice-pw").status_code == 302
    alice = user_named(app, "alice")
    browser = app.test_client()
    assert oidc_login(browser, ALICE).headers["Location"] == "/login"
    assert post_login(browser, "alice", "alice-pw").status_code == 302  # the directory's login links it
    assert {row[0] for row in identities_of(app, alice.id)} == {"ldap", "oidc"}


def test_a_failed_provider_login_is_the_product_s_page(oidc_app: Flask) -> None:
    answer = oidc_app.test_client().get("/login/oidc/corp/callback?state=forged&code=x")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "You could not be logged in" in page
    assert re.search(r"/static/css/app\.[0-9a-f]{12}\.css", page) and "<style" not in page  # layout, CSP
    assert users_and_identities(oidc_app) == (0, 0)
