"""The product's answer to a completed external sign-in: an account found, linked or made just in time,
the admin mapping at each login, the session regenerated, the second factor asked or not, logout at the
provider, and nothing half-made when it fails."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conexoos.app.controllers import accounts as accounts_controller
from conexoos.app.controllers import external_logins, invites, login_session, provider_labels, site_settings
from conexoos.app.controllers.accounts import has_usable_password
from conexoos.app.models.persistent import AuditEntry, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from conexoos.framework.logins import LoginUnavailable
from conexoos.framework.logins.pages import render_login_failure
from conexoos.framework.mail.outbox import OutboxMessage
from tests.conftest import AppFactory

from .conftest import PASSWORD, Account, form_token, log_in, product_app, sign_up
from .sso_support import IDP_LOGOUT, Provider, identities_of, user_named, users_and_identities
from .test_accounts import is_logged_in
from .two_factor_support import code_at, enrol_totp, post_code, session_id

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB


def sso_app(make_app: AppFactory, **accounts: Any) -> Flask:
    """The product with ``APP.ACCOUNTS`` set as given."""
    return product_app(make_app, {"APP": {"ACCOUNTS": accounts}} if accounts else None)


@pytest.fixture
def provider(app: Flask) -> Provider:
    """A redirect provider on the default product (linking by email off, second factor trusted)."""
    return Provider(app).install()


@pytest.fixture
def linking_app(make_app: AppFactory) -> Flask:
    """The product with ``SSO_LINK_BY_EMAIL: true``."""
    return sso_app(make_app, SSO_LINK_BY_EMAIL=True)


def flashed(client: FlaskClient, path: str = "/dashboard") -> str:
    """The page at ``path`` (where flashed messages show)."""
    return client.get(path, follow_redirects=True).get_data(as_text=True)


# ---------------------------------------------------------------- just in time


@pytest.mark.parametrize("policy", ["closed", "invite"])
def test_a_first_sign_in_makes_no_account_unless_sign_up_is_open(
    app: Flask, provider: Provider, policy: str
) -> None:
    with app.app_context():
        site_settings.store("signup_policy", policy)
        db.session.commit()
    browser = app.test_client()
    response = provider.sign_in(browser, "sub-closed", username="dora", email="dora@example.com")
    assert response.status_code == 403
    assert "makes no new accounts that way" in response.get_data(as_text=True)
    assert not is_logged_in(browser)
    assert users_and_identities(app) == (0, 0)


def make_invite(app: Flask) -> str:
    """An invitation secret (made by a fresh account) under sign-up policy ``invite``."""
    maker = sign_up(app, "inviter")
    with app.app_context():
        site_settings.store("signup_policy", "invite")
        db.session.commit()
        creator = User.get_by_id(maker.id)
        assert creator is not None
        return invites.create(creator).url.split("invite=")[1]


def test_under_invite_a_browser_that_opened_an_invitation_signs_up_through_a_provider(
    app: Flask, provider: Provider
) -> None:
    secret = make_invite(app)
    browser = app.test_client()
    assert browser.get(f"/signup?invite={secret}").status_code == 200
    response = provider.sign_in(browser, "sub-inv", username="ida", email="ida@example.com")
    assert response.status_code == 302 and is_logged_in(browser)
    with app.app_context(), pytest.raises(invites.InviteError, match="already used"):
        invites.usable(secret)
    other = app.test_client()  # spent: another browser's sign-in makes no account with it
    other.get(f"/signup?invite={secret}")
    refused = provider.sign_in(other, "sub-inv-2", username="jan", email="jan@example.com")
    assert refused.status_code == 403 and not is_logged_in(other)


def test_under_invite_a_browser_without_an_invitation_makes_no_account(
    app: Flask, provider: Provider
) -> None:
    make_invite(app)
    browser = app.test_client()
    browser.get("/signup?invite=forged")
    assert provider.sign_in(browser, "sub-x", username="xia", email="xia@example.com").status_code == 403


def test_a_first_sign_in_makes_an_account_without_a_password_and_logs_in(
    app: Flask, provider: Provider
) -> None:
    browser = app.test_client()
    response = provider.sign_in(
        browser, "sub-1", username="Carol", email="Carol@Example.COM", email_verified=True, name="Carol C."
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert is_logged_in(browser)
    carol = user_named(app, "carol")
    assert carol.email == "carol@example.com" and carol.email_verified
    assert not has_usable_password(carol) and not carol.is_admin and carol.last_login_at is not None
    assert identities_of(app, carol.id) == [("oidc", "corp", "sub-1", "carol@example.com")]
    assert "Your account carol was made from your Corp ID sign-in" in flashed(browser)
    # No password logs in to it: not an empty one, not the marker itself.
    with app.app_context():
        stored = User.get_by_id(carol.id)
        assert stored is not None
        assert not accounts_controller.verify_password(stored, "")
        assert not accounts_controller.verify_password(stored, stored.password_hash)


def test_a_first_sign_in_takes_the_display_name_from_the_provider_s_name(
    app: Flask, provider: Provider
) -> None:
    provider.sign_in(
        app.test_client(), "n-1", username="ann", email="ann@example.com", name="  Ann\x00 \x1b[31mLee "
    )
    assert user_named(app, "ann").display_name == "Ann [31mLee"
    provider.sign_in(app.test_client(), "n-2", username="ben", email="ben@example.com", name="B" * 200)
    assert user_named(app, "ben").display_name == "B" * 60
    provider.sign_in(
        app.test_client(), "n-3", username="cyrus", email="cyrus@example.com", name="\ud800\u200b"
    )
    assert user_named(app, "cyrus").display_name == ""


@pytest.mark.parametrize("name", [None, "", "\x00\x01", " \t\n"])
def test_display_name_is_empty_without_a_visible_name(name: str | None) -> None:
    assert external_logins.display_name(name) == ""


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("Corp ID", "your Corp ID sign-in"),
        ("Single sign-on", "your sign-in through Single sign-on"),
        ("Company SSO", "your sign-in through Company SSO"),
    ],
)
def test_sentences_name_the_sign_in_by_its_label(label: str, words: str) -> None:
    assert provider_labels.your_sign_in(label) == words


def test_the_welcome_with_saml_s_default_label_reads_well(app: Flask) -> None:
    saml = Provider(app, backend="saml", name="saml", label="Single sign-on").install()
    browser = app.test_client()
    saml.sign_in(browser, "s-1", username="sam", email="sam@example.com")
    assert "Your account sam was made from your sign-in through Single sign-on." in flashed(browser)


@pytest.mark.parametrize(
    "message",
    ["The provider cannot be reached. Please try again in a few minutes.", "The provider cannot be reached."],
)
def test_the_unavailable_page_says_to_try_again_once(app: Flask, message: str) -> None:
    with app.test_request_context("/login/oidc/corp/callback"):
        html, status = render_login_failure(LoginUnavailable(message))
    assert status == 503 and html.lower().count("try again") == 1


def test_the_next_sign_in_logs_into_the_same_account(app: Flask, provider: Provider) -> None:
    provider.sign_in(app.test_client(), "sub-1", username="carol", email="carol@example.com")
    before = users_and_identities(app)
    browser = app.test_client()
    response = provider.sign_in(browser, "sub-1", username="renamed", email="new@example.com")
    assert response.status_code == 302 and is_logged_in(browser)
    assert users_and_identities(app) == before
    carol = user_named(app, "carol")
    assert carol.email == "carol@example.com"  # the account's address stays; the provider's is noted
    assert identities_of(app, carol.id)[0][3] == "new@example.com"


def test_an_unverified_address_is_not_marked_verified_and_gets_the_link(
    app: Flask, provider: Provider
) -> None:
    provider.sign_in(app.test_client(), "sub-2", username="dave", email="dave@example.com")
    provider.sign_in(
        app.test_client(), "sub-3", username="vera", email="vera@example.com", email_verified=True
    )
    assert not user_named(app, "dave").email_verified
    with app.app_context():
        mails = [(row.recipient, row.subject) for row in db.session.scalars(select(OutboxMessage)).all()]
    assert mails == [("dave@example.com", "Confirm your email address for Conexoos")]  # vera's was vouched


def test_the_same_subject_at_another_provider_is_another_person(app: Flask, provider: Provider) -> None:
    other = Provider(app, name="partner", label="Partner").install()
    provider.sign_in(app.test_client(), "same", username="erin", email="erin@example.com")
    other.sign_in(app.test_client(), "same", username="erin", email="erin@partner.example")
    assert user_named(app, "erin2").email == "erin@partner.example"


def test_usernames_taken_reserved_or_held_get_the_next_free_one(app: Flask, provider: Provider) -> None:
    sign_up(app, "alice")
    provider.sign_in(app.test_client(), "a", username="alice", email="alice2000@example.com")
    assert user_named(app, "alice2").email == "alice2000@example.com"
    provider.sign_in(app.test_client(), "b", username="Alice", email="another@example.com")
    assert user_named(app, "alice3").email == "another@example.com"
    provider.sign_in(app.test_client(), "c", username="admin", email="zoe.q@example.com")
    assert user_named(app, "zoe.q").email == "zoe.q@example.com"  # reserved name: the email's local part
    provider.sign_in(app.test_client(), "d", name="José Ramón", email="x@example.com")
    assert user_named(app, "x__").email == "x@example.com"  # the local part, padded to 3 characters
    provider.sign_in(app.test_client(), "e", username="Jöhn Dœ-Smith!", email="j@example.org")
    assert user_named(app, "john_d_smith").email == "j@example.org"


def test_a_held_username_is_not_given(app: Flask, provider: Provider) -> None:
    from .leaving_support import delete_account

    gone = sign_up(app, "gina")
    assert delete_account(gone, PASSWORD).status_code == 302
    provider.sign_in(app.test_client(), "g", username="gina", email="gina@example.com")
    assert user_named(app, "gina2").email == "gina@example.com"


def test_without_a_usable_address_no_account_is_made(app: Flask, provider: Provider) -> None:
    before = users_and_identities(app)
    for number, email in enumerate(
        (None, "", "not an address", "a@b", "x" * 250 + "@example.com", "nul\x00@example.com")
    ):
        response = provider.sign_in(app.test_client(), f"s-{number}", username="harry", email=email)
        assert response.status_code == 422, email
        assert "gave no usable email address" in response.get_data(as_text=True)
    assert users_and_identities(app) == before


def test_odd_identities_never_give_a_500(app: Flask, provider: Provider) -> None:
    odd: list[dict[str, Any]] = [
        {"subject": ""},
        {"subject": "x" * 256},
        {"subject": "nul\x00"},
        {"subject": "ok-1", "username": "\x00\x01", "email": "ok1@example.com", "name": "\u202e<script>"},
        {"subject": "ok-2", "username": "..", "email": "..@example.com"},
        {"subject": "ok-3", "username": "🙂" * 40, "email": "ok3@example.com", "name": "🙂"},
        {"subject": "ok-4", "username": "robots.txt", "email": "robots.txt@example.com"},
        {"subject": "ok-5", "email": "ok5@exämple.com", "email_verified": True},
        {"subject": "ok-6", "email": "ok6@example.com", "logout_state": {"id_token_hint": "<&>"}},
    ]
    for claims in odd:
        subject = claims.pop("subject")
        response = provider.sign_in(app.test_client(), subject, **claims)
        assert response.status_code < 500, (subject, response.status_code)
    with app.app_context():  # a file-like name is passed over for a made-up one
        robots = User.get_by_login("robots.txt@example.com")
        assert robots is not None and robots.username.startswith("user")


# ---------------------------------------------------------------- linking an existing account


def verify_address(app: Flask, user_id: int) -> None:
    """Mark the account's address verified (as its verification link does)."""
    with app.app_context():
        user = User.get_by_id(user_id)
        assert user is not None
        user.email_verified_at = utcnow()
        user.save()


def test_a_vouched_address_links_when_the_operator_allows_it(linking_app: Flask) -> None:
    provider = Provider(linking_app).install()
    alice = sign_up(linking_app, "alice")
    verify_address(linking_app, alice.id)
    before = users_and_identities(linking_app)
    browser = linking_app.test_client()
    response = provider.sign_in(browser, "kc-alice", email="ALICE@example.com", email_verified=True)
    assert response.status_code == 302 and is_logged_in(browser)
    assert users_and_identities(linking_app) == (before[0], before[1] + 1)
    assert identities_of(linking_app, alice.id) == [("oidc", "corp", "kc-alice", "alice@example.com")]
    assert "Your Corp ID sign-in is now linked to your account alice" in flashed(browser)


def test_the_first_link_by_email_asks_the_account_s_second_factor_even_under_trust_idp(
    linking_app: Flask,
) -> None:
    provider = Provider(linking_app).install()
    alice = sign_up(linking_app, "alice")
    verify_address(linking_app, alice.id)
    secret, _codes = enrol_totp(alice)
    browser = linking_app.test_client()
    response = provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True)
    assert response.headers["Location"] == "/login/two-factor" and not is_logged_in(browser)
    assert identities_of(linking_app, alice.id) == []  # not linked before the second factor
    assert post_code(browser, code_at(secret, 1)).status_code == 302
    assert is_logged_in(browser)
    assert identities_of(linking_app, alice.id) == [("oidc", "corp", "kc-alice", "alice@example.com")]
    later = linking_app.test_client()  # then SSO_SECOND_FACTOR (trust_idp) decides
    response = provider.sign_in(later, "kc-alice", email="alice@example.com", email_verified=True)
    assert response.headers["Location"] == "/dashboard" and is_logged_in(later)


def test_an_address_the_account_never_verified_is_not_linked_by_email(linking_app: Flask) -> None:
    provider = Provider(linking_app).install()
    squatter = sign_up(linking_app, "squatter", "victim@example.com")  # typed someone else's address
    browser = linking_app.test_client()
    response = provider.sign_in(browser, "kc-victim", email="victim@example.com", email_verified=True)
    assert response.headers["Location"] == "/login" and not is_logged_in(browser)
    assert identities_of(linking_app, squatter.id) == []  # the squatter's password would keep access


def test_an_address_the_provider_does_not_vouch_for_never_links(linking_app: Flask) -> None:
    provider = Provider(linking_app).install()
    alice = sign_up(linking_app, "alice")
    before = users_and_identities(linking_app)
    browser = linking_app.test_client()
    response = provider.sign_in(browser, "evil", email="alice@example.com", email_verified=False)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(browser)
    assert users_and_identities(linking_app) == before
    assert identities_of(linking_app, alice.id) == []


def test_without_the_operator_s_consent_a_vouched_address_asks_for_a_local_login(
    app: Flask, provider: Provider
) -> None:
    alice = sign_up(app, "alice")
    before = users_and_identities(app)
    browser = app.test_client()
    response = provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = browser.get("/login").get_data(as_text=True)
    assert "An account here already uses alice@example.com. Log in to it once" in page
    assert "to link your Corp ID sign-in to it" in page
    assert users_and_identities(app) == before and not is_logged_in(browser)
    # The local login links it, and says so.
    log_in(browser, "alice")
    assert identities_of(app, alice.id) == [("oidc", "corp", "kc-alice", "alice@example.com")]
    assert "Your Corp ID sign-in (alice@example.com) is now linked to your account" in flashed(browser)
    # From now on the provider logs into alice.
    other = app.test_client()
    provider.sign_in(other, "kc-alice", email="alice@example.com", email_verified=True)
    assert other.get("/dashboard/settings").get_data(as_text=True).count("alice@example.com") >= 1
    assert users_and_identities(app) == (before[0], before[1] + 1)


def test_a_waiting_link_is_dropped_by_a_login_to_another_account(app: Flask, provider: Provider) -> None:
    alice = sign_up(app, "alice")
    bob = sign_up(app, "bob")
    browser = app.test_client()
    provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True)
    log_in(browser, "bob")
    assert identities_of(app, bob.id) == [] and identities_of(app, alice.id) == []
    browser.post("/logout", data={"csrf_token": form_token(browser.get("/settings/account"))})
    log_in(browser, "alice")  # the waiting link went with bob's login
    assert identities_of(app, alice.id) == []


def test_a_waiting_link_expires(app: Flask, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    from conexoos.app.controllers import pending_link

    alice = sign_up(app, "alice")
    browser = app.test_client()
    provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True)
    monkeypatch.setattr(pending_link, "LIFETIME", -1)
    provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True)
    log_in(browser, "alice")
    assert identities_of(app, alice.id) == []


# ---------------------------------------------------------------- roles, session, second factor


def test_the_admin_mapping_gives_and_takes_the_role_at_each_login(app: Flask, provider: Provider) -> None:
    provider.sign_in(app.test_client(), "other", username="other", email="other@example.com", admin=True)
    provider.sign_in(app.test_client(), "boss", username="boss", email="boss@example.com", admin=True)
    assert user_named(app, "boss").is_admin
    provider.sign_in(app.test_client(), "boss", email="boss@example.com", admin=None)
    assert user_named(app, "boss").is_admin  # no mapping configured: the role stays
    provider.sign_in(app.test_client(), "boss", email="boss@example.com", admin=False)
    assert not user_named(app, "boss").is_admin
    provider.sign_in(app.test_client(), "boss", email="boss@example.com", admin=True)
    assert user_named(app, "boss").is_admin


def test_the_admin_mapping_never_takes_the_last_administrator_s_role(
    app: Flask, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.sign_in(app.test_client(), "boss", username="boss", email="boss@example.com", admin=True)
    provider.sign_in(app.test_client(), "boss", email="boss@example.com", admin=False)
    assert user_named(app, "boss").is_admin  # the site would have no administrator
    assert "boss is the only active administrator" in caplog.text
    with app.app_context():
        kept = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.role.kept")).all()
        assert len(kept) == 1 and "only active administrator" in kept[0].summary


def test_the_admin_mapping_applies_when_a_waiting_link_completes(app: Flask, provider: Provider) -> None:
    alice = sign_up(app, "alice")
    browser = app.test_client()
    provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True, admin=True)
    log_in(browser, "alice")
    assert user_named(app, "alice").is_admin and identities_of(app, alice.id)


def test_a_sign_in_regenerates_the_session_id(app: Flask, provider: Provider) -> None:
    browser = app.test_client()
    form_token(browser.get("/login"))
    before = session_id(app, browser)
    provider.sign_in(browser, "sub-1", username="carol", email="carol@example.com")
    after = session_id(app, browser)
    assert after and after != before and is_logged_in(browser)


def test_a_sign_in_replaces_the_session_s_previous_login(
    app: Flask, provider: Provider, alice: Account
) -> None:
    before = session_id(app, alice.client)
    provider.sign_in(alice.client, "sub-1", username="carol", email="carol@example.com")
    assert session_id(app, alice.client) != before
    assert "carol@example.com" in alice.client.get("/dashboard/settings").get_data(as_text=True)


def totp_user_with_identity(app: Flask, provider: Provider) -> tuple[Account, list[str]]:
    """alice, with an authenticator app and a linked Corp ID sign-in; her unused recovery codes."""
    alice = sign_up(app, "alice")
    secret, codes = enrol_totp(alice)
    browser = app.test_client()
    provider.sign_in(browser, "kc-alice", email="alice@example.com", email_verified=True)
    token = form_token(browser.get("/login"))
    browser.post("/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD})
    assert post_code(browser, code_at(secret, 1)).status_code == 302
    assert identities_of(app, alice.id)  # linked after both factors
    return alice, codes


def test_trust_idp_skips_the_second_factor(app: Flask, provider: Provider) -> None:
    totp_user_with_identity(app, provider)
    browser = app.test_client()
    response = provider.sign_in(browser, "kc-alice", email="alice@example.com")
    assert response.headers["Location"] == "/dashboard" and is_logged_in(browser)


def test_ask_sends_a_sign_in_through_the_second_step(make_app: AppFactory) -> None:
    app = sso_app(make_app, SSO_SECOND_FACTOR="ask")
    provider = Provider(app).install()
    _alice, codes = totp_user_with_identity(app, provider)
    browser = app.test_client()
    response = provider.sign_in(
        browser, "kc-alice", email="alice@example.com", logout_state={"id_token_hint": "tok"}
    )
    assert response.headers["Location"] == "/login/two-factor"
    assert not is_logged_in(browser)
    assert post_code(browser, "000000").status_code == 401
    assert post_code(browser, codes[0]).status_code == 302
    assert is_logged_in(browser)
    assert log_out_to_provider(browser).startswith(IDP_LOGOUT + "?id_token_hint=tok")  # kept through the step


def test_ask_leaves_accounts_without_a_second_factor_alone(make_app: AppFactory) -> None:
    app = sso_app(make_app, SSO_SECOND_FACTOR="ask")
    provider = Provider(app).install()
    browser = app.test_client()
    assert provider.sign_in(browser, "s", username="ivy", email="ivy@example.com").status_code == 302
    assert is_logged_in(browser)


# ---------------------------------------------------------------- logout


REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)">')


def log_out_to_provider(browser: FlaskClient) -> str:
    """Press "Log out" and follow it to the "Logging you out at <provider>" page; the provider's logout
    URL it moves on to (its meta refresh, the same as its link)."""
    logout = browser.post("/logout", data={"csrf_token": form_token(browser.get("/settings/account"))})
    assert logout.status_code == 303 and logout.headers["Location"] == "/logout/provider"
    page = browser.get("/logout/provider")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    found = REFRESH.search(page.get_data(as_text=True))
    assert found is not None
    target = html.unescape(found.group(1))
    assert f'href="{html.escape(target)}"' in page.get_data(as_text=True)
    return target


def test_logout_goes_on_to_the_provider_through_a_page_and_comes_back_home(
    app: Flask, provider: Provider
) -> None:
    browser = app.test_client()
    provider.sign_in(
        browser, "s", username="jo", email="jo@example.com", logout_state={"id_token_hint": "abc"}
    )
    target = log_out_to_provider(browser)
    assert target == f"{IDP_LOGOUT}?id_token_hint=abc&return_to=http://localhost/"
    assert not is_logged_in(browser)
    again = browser.get("/logout/provider")  # once only: a reload goes home
    assert again.status_code == 302 and again.headers["Location"] == "/"


def test_the_leaving_page_never_takes_its_target_from_the_query(app: Flask) -> None:
    response = app.test_client().get("/logout/provider?url=https://evil.example/")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_logout_after_a_password_login_goes_home(app: Flask, provider: Provider) -> None:
    browser = app.test_client()
    provider.sign_in(
        browser, "s", username="jo", email="jo@example.com", logout_state={"id_token_hint": "abc"}
    )
    log_out_to_provider(browser)
    sign_up(app, "kim")
    log_in(browser, "kim")
    response = browser.post("/logout", data={"csrf_token": form_token(browser.get("/settings/account"))})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_provider_without_logout_sends_home(app: Flask, provider: Provider) -> None:
    browser = app.test_client()
    provider.sign_in(browser, "s", username="jo", email="jo@example.com")  # no logout state
    response = browser.post("/logout", data={"csrf_token": form_token(browser.get("/settings/account"))})
    assert response.status_code == 302 and response.headers["Location"] == "/"


# ---------------------------------------------------------------- nothing half-made


def test_a_failure_after_the_account_is_made_leaves_neither_account_nor_identity(
    app: Flask, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = users_and_identities(app)

    def broken(user: User) -> None:
        raise RuntimeError("the session registry is down")

    monkeypatch.setattr(login_session, "register_current_session", broken)
    with pytest.raises(RuntimeError, match="registry is down"):
        provider.sign_in(app.test_client(), "s", username="lee", email="lee@example.com")
    assert users_and_identities(app) == before


def test_a_concurrent_twin_is_refused_with_nothing_saved(
    app: Flask, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conexoos.app.controllers import external_logins

    sign_up(app, "taken")
    before = users_and_identities(app)
    # As if another request took the name between the check and the insert.
    monkeypatch.setattr(external_logins, "free_username", lambda identity: "taken")
    response = provider.sign_in(app.test_client(), "s", username="lee", email="lee@example.com")
    assert response.status_code == 409
    assert "at the same moment" in response.get_data(as_text=True)
    assert users_and_identities(app) == before


def test_the_provider_s_blueprints_that_receive_posts_are_exempt_from_csrf(app: Flask) -> None:
    from flask import Blueprint

    acs = Blueprint("test_acs", __name__)
    acs.add_url_rule("/_test/acs", "consume", lambda: "consumed", methods=["POST"])
    app.register_blueprint(acs)
    other = Blueprint("test_other", __name__)
    other.add_url_rule("/_test/other", "post", lambda: "posted", methods=["POST"])
    app.register_blueprint(other)
    app.extensions["conexoos"].logins.cross_site_posts.append(acs)
    client = app.test_client()
    assert client.post("/_test/acs", data={"SAMLResponse": "x"}).status_code == 200
    assert client.post("/_test/other", data={"x": "y"}).status_code == 400  # CSRF still guards the rest


# ---------------------------------------------------------------- username candidates


def test_usernames_are_brought_to_the_rules() -> None:
    from conexoos.app.controllers.sso_usernames import candidates, to_username
    from conexoos.framework.logins import ExternalIdentity

    assert to_username("Élodie Dupont-Smith") == "elodie_dupont_smith"
    assert to_username("..a..b..") == "a.b"
    assert to_username("ab") == "ab_"
    assert to_username("x" * 40) == "x" * 30
    assert to_username("日本語") == "" and to_username("") == ""
    identity = ExternalIdentity("oidc", "corp", "s", username="Ann", email="ann.b@example.com", name="Ann B")
    assert candidates(identity) == ["ann", "ann.b", "ann_b"]
    assert candidates(ExternalIdentity("oidc", "corp", "s", name="日本")) == ["user"]


# ---------------------------------------------------------------- any identity: never a 500


HOSTILE = st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "x\udfffy", "\r\n", "\u202e", "", " ", "%00", "é" * 300]
)
CLAIM = st.one_of(st.none(), HOSTILE, st.text(max_size=80))


@given(
    subject=st.one_of(HOSTILE, st.text(max_size=300)),
    username=CLAIM,
    email=st.one_of(CLAIM, st.emails(), HOSTILE.map(lambda text: f"{text}@example.com")),
    name=CLAIM,
    verified=st.booleans(),
    admin=st.sampled_from([None, True, False]),
)
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_identity_is_a_login_or_a_4xx_page_never_a_500(
    app: Flask,
    provider: Provider,
    subject: str,
    username: str | None,
    email: str | None,
    name: str | None,
    verified: bool,
    admin: bool | None,
) -> None:
    before = users_and_identities(app)
    claims = {
        "username": username,
        "email": email,
        "name": name,
        "email_verified": verified,
        "admin": admin,
        "logout_state": {"id_token_hint": subject},
    }
    response = provider.sign_in(app.test_client(), subject, **claims)
    assert response.status_code in (302, 409, 422), response.status_code
    users, identities = users_and_identities(app)
    if response.status_code != 302:
        assert (users, identities) == before  # nothing half-made
    else:
        assert users - before[0] in (0, 1) and identities - before[1] == users - before[0]
