"""The login form with the backends of ``LOGINS``: the site's own password and directories (LDAP) tried in
that order, the same throttling for both, a directory that is down, local login turned off, and the
identity providers' buttons."""

from __future__ import annotations

import pytest
from flask import Flask

from conexoos.app.controllers.accounts import has_usable_password
from conexoos.framework.logins import Logins
from tests.conftest import AppFactory

from .conftest import PASSWORD, QUIET, form_token, sign_up
from .sso_support import (
    UNAVAILABLE,
    Directory,
    Provider,
    identities_of,
    registry,
    user_named,
    users_and_identities,
)
from .test_accounts import is_logged_in, post_login

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

DIRECTORY_PASSWORD = "directory secret 42"


def with_directory(app: Flask, order: list[str] | None = None) -> Directory:
    """Add a directory to ``app``'s form, ``order`` as ``LOGINS`` lists the backends."""
    directory = Directory()
    logins: Logins = registry(app)
    logins.add_password_backend(directory)
    logins.order = order if order is not None else ["local", "ldap"]
    return directory


@pytest.fixture
def directory(app: Flask) -> Directory:
    """A directory tried after the site's own passwords, with carol in it."""
    found = with_directory(app)
    found.add("carol", DIRECTORY_PASSWORD, "uuid-carol", username="carol", email="carol@corp.example")
    return found


def test_a_directory_login_makes_the_account_and_logs_in(app: Flask, directory: Directory) -> None:
    browser = app.test_client()
    response = post_login(browser, "carol", DIRECTORY_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert is_logged_in(browser)
    carol = user_named(app, "carol")
    assert identities_of(app, carol.id) == [("ldap", "ldap", "uuid-carol", "carol@corp.example")]
    assert not has_usable_password(carol)  # the directory's password is never stored here
    again = app.test_client()
    assert post_login(again, "carol", DIRECTORY_PASSWORD).status_code == 302
    assert users_and_identities(app)[0] == 1


def test_next_is_kept_for_a_directory_login(app: Flask, directory: Directory) -> None:
    browser = app.test_client()
    token = form_token(browser.get("/login"))
    data = {"csrf_token": token, "login": "carol", "password": DIRECTORY_PASSWORD}
    assert browser.post("/login?next=/dashboard/stats", data=data).headers["Location"] == "/dashboard/stats"
    other = app.test_client()
    data["csrf_token"] = form_token(other.get("/login"))
    assert other.post("/login?next=https://evil.example/", data=data).headers["Location"] == "/dashboard"


def test_local_comes_first_when_logins_lists_it_first(app: Flask, directory: Directory) -> None:
    sign_up(app, "dora")
    directory.add("dora", DIRECTORY_PASSWORD, "uuid-dora", username="dora", email="dora@corp.example")
    directory.asked.clear()
    assert post_login(app.test_client(), "dora", PASSWORD).status_code == 302
    assert directory.asked == []  # the site's password matched: the directory was not asked
    # The directory's password for the same login is the directory's person: asked to link (another email).
    browser = app.test_client()
    assert post_login(browser, "dora", DIRECTORY_PASSWORD).status_code == 302
    assert directory.asked == ["dora"]


def test_the_directory_comes_first_when_logins_lists_it_first(make_app: AppFactory) -> None:
    app = make_app(overrides=QUIET)
    directory = with_directory(app, ["ldap", "local"])
    sign_up(app, "erin")
    directory.asked.clear()
    assert post_login(app.test_client(), "erin", PASSWORD).status_code == 302
    assert directory.asked == ["erin"]  # asked first, did not know erin, then the site's password


def test_wrong_passwords_read_the_same_and_are_throttled_for_directory_logins_too(
    make_app: AppFactory,
) -> None:
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    app = make_app(overrides={**QUIET, **limits})
    directory = with_directory(app)
    directory.add("carol", DIRECTORY_PASSWORD, "uuid-carol", email="carol@corp.example")
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    statuses = [
        post_login(app.test_client(), "carol", "wrong!", environ_base=attacker).status_code for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    refused = post_login(app.test_client(), "carol", DIRECTORY_PASSWORD, environ_base=attacker)
    assert refused.status_code == 429 and "from your network" in refused.get_data(as_text=True)
    owner = post_login(
        app.test_client(), "carol", DIRECTORY_PASSWORD, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert owner.status_code == 302


def test_a_directory_that_is_down_is_a_503_with_a_sentence(app: Flask, directory: Directory) -> None:
    directory.down = True
    response = post_login(app.test_client(), "carol", DIRECTORY_PASSWORD)
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert users_and_identities(app) == (0, 0)


def test_a_directory_s_refusal_is_shown_as_it_says(app: Flask, directory: Directory) -> None:
    directory.refusal = "Your directory account is locked. Ask your IT department."
    response = post_login(app.test_client(), "carol", DIRECTORY_PASSWORD)
    assert response.status_code == 403
    assert "Your directory account is locked" in response.get_data(as_text=True)
    assert users_and_identities(app) == (0, 0)


def test_a_local_account_still_logs_in_while_the_directory_is_down(make_app: AppFactory) -> None:
    app = make_app(overrides=QUIET)
    directory = with_directory(app, ["ldap", "local"])
    sign_up(app, "fred")
    directory.down = True
    assert post_login(app.test_client(), "fred", PASSWORD).status_code == 302
    assert post_login(app.test_client(), "fred", "wrong password").status_code == 503  # may have been right


def test_the_page_shows_a_button_per_provider_without_script(app: Flask) -> None:
    Provider(app).install()
    Provider(app, name="partner", label="Partner <SSO>").install()
    page = app.test_client().get("/login").get_data(as_text=True)
    buttons = page.index('aria-label="Other ways to log in"')
    assert '<a class="button" href="/_test/oidc/corp/start">Log in with Corp ID</a>' in page[buttons:]
    assert ">Partner &lt;SSO&gt;</a>" in page  # the label as configured, escaped
    assert page.index('name="password"') < buttons  # under the form


def test_the_buttons_carry_the_page_s_next_and_a_provider_s_kept_next_is_followed(app: Flask) -> None:
    provider = Provider(app).install()
    page = app.test_client().get("/login?next=/dashboard/stats").get_data(as_text=True)
    assert 'href="/_test/oidc/corp/start?next=%2Fdashboard%2Fstats"' in page
    foreign = app.test_client().get("/login?next=https://evil.example/").get_data(as_text=True)
    assert 'href="/_test/oidc/corp/start"' in foreign
    identity = provider.identity("s", username="kim", email="kim@example.com")
    provider.waiting["k"] = identity
    back = app.test_client().get("/_test/oidc/corp/k?kept_next=/dashboard/stats")
    assert back.headers["Location"] == "/dashboard/stats"
    provider.waiting["k"] = identity
    elsewhere = app.test_client().get("/_test/oidc/corp/k?kept_next=//evil.example/")
    assert elsewhere.headers["Location"] == "/dashboard"


# ---------------------------------------------------------------- local login off


@pytest.fixture
def no_local(app: Flask) -> Flask:
    """The product with ``LOGINS.local.ENABLED: false`` and a provider button."""
    registry(app).local_enabled = False
    Provider(app).install()
    return app


def test_with_local_login_off_no_site_password_logs_in(no_local: Flask) -> None:
    registry(no_local).local_enabled = True
    sign_up(no_local, "gus")
    registry(no_local).local_enabled = False
    browser = no_local.test_client()
    page = browser.get("/login").get_data(as_text=True)
    assert (
        'name="password"' not in page and "Forgot your password" not in page and "Log in with Corp ID" in page
    )
    registry(no_local).local_enabled = True
    token = form_token(browser.get("/login"))  # a form shown before local login was turned off
    registry(no_local).local_enabled = False
    refused = browser.post("/login", data={"csrf_token": token, "login": "gus", "password": PASSWORD})
    assert refused.status_code == 404 and "no password login" in refused.get_data(as_text=True)
    assert not is_logged_in(browser)


def test_with_local_login_off_sign_up_and_reset_say_how_to_log_in(no_local: Flask) -> None:
    client = no_local.test_client()
    for path in ("/signup", "/password/forgot"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "there is no sign-up or password reset here" in response.get_data(as_text=True)
    registry(no_local).local_enabled = True
    token = form_token(client.get("/login"))
    registry(no_local).local_enabled = False
    passkey = client.post("/login/passkey/options", headers={"X-CSRFToken": token})
    assert passkey.status_code == 404  # passkeys are the site's own credentials too


def test_with_local_login_off_a_directory_still_uses_the_form(no_local: Flask) -> None:
    registry(no_local).local_enabled = True
    sign_up(no_local, "hana")
    registry(no_local).local_enabled = False
    directory = with_directory(no_local, ["ldap", "oidc"])
    directory.add("ian", DIRECTORY_PASSWORD, "uuid-ian", email="ian@corp.example")
    page = no_local.test_client().get("/login").get_data(as_text=True)
    assert 'name="password"' in page and "Forgot your password" not in page
    assert post_login(no_local.test_client(), "ian", DIRECTORY_PASSWORD).status_code == 302
    assert post_login(no_local.test_client(), "hana", PASSWORD).status_code == 401  # not the site's own


def test_with_local_login_off_an_address_already_in_use_cannot_wait_for_a_link(no_local: Flask) -> None:
    provider = Provider(no_local, name="other", label="Other").install()
    registry(no_local).local_enabled = True
    sign_up(no_local, "jade")
    registry(no_local).local_enabled = False
    response = provider.sign_in(no_local.test_client(), "x", email="jade@example.com", email_verified=True)
    assert response.status_code == 409
    assert "Ask the site&#39;s operator to link them" in response.get_data(as_text=True)
