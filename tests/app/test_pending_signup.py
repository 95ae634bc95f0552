"""Sign-up under ``VERIFY_EMAIL: required`` makes no account until the mailed link is confirmed, so a taken
address and a free one look the same also afterwards: the username is taken in both cases, no page
answers, no login works. The link makes the account (verified); invitations, expiry and the pruning task.
Runs on SQLite here and on PostgreSQL and MariaDB by CI (``database_matrix``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from conexoos.app.blueprints.accounts import LOGIN_FAILED
from conexoos.app.controllers import accounts, invites, pending_signups, site_settings
from conexoos.app.models.persistent import Invite, PendingSignup, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.server import tasks
from conexoos.framework import db
from tests.conftest import AppFactory
from tests.support.smtp_server import SmtpServer

from .conftest import PASSWORD, form_token, log_in, product_app
from .test_accounts import post_login, user_count
from .test_mail_flows import link_in, mail_to, post_form

pytestmark = pytest.mark.database_matrix

TAKEN = "This username is taken."
NAMES = ("taken1", "free1")
CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]+"')


@pytest.fixture
def app(make_app: AppFactory, smtp_server: SmtpServer) -> Flask:
    """The product with ``VERIFY_EMAIL: required``, mailing to the test's SMTP server."""
    return product_app(
        make_app,
        {"SERVICES": {"smtp": smtp_server.settings()}, "APP": {"ACCOUNTS": {"VERIFY_EMAIL": "required"}}},
    )


def signup(app: Flask, email: str, username: str, query: str = "") -> tuple[int, str, str]:
    """POST the sign-up form; its status, Location and page."""
    response = post_form(
        app.test_client(), f"/signup{query}", email=email, username=username, password=PASSWORD
    )
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def owner(app: Flask) -> None:
    """An account made by the operator (``user create``): owner@example.com."""
    with app.app_context():
        accounts.create_account("owner@example.com", "owner", PASSWORD)


def test_no_account_until_the_link_is_confirmed_then_a_verified_one(
    app: Flask, smtp_server: SmtpServer
) -> None:
    assert signup(app, "carol@example.com", "carol")[:2] == (302, "/signup/sent")
    assert "created when you follow it" in app.test_client().get("/signup/sent").get_data(as_text=True)
    assert user_count(app) == 0
    assert app.test_client().get("/carol").status_code == 404
    assert post_login(app.test_client(), "carol").status_code == 401
    status, _, page = signup(app, "other@example.com", "carol")
    assert status == 422 and TAKEN in page

    link = link_in(mail_to(app, smtp_server, "carol@example.com")[0])
    assert link.startswith("/signup/confirm/")
    browser = app.test_client()
    confirm_page = browser.get(link)  # what a link scanner does: nothing is made
    assert confirm_page.status_code == 200 and "Create carol" in confirm_page.get_data(as_text=True)
    assert user_count(app) == 0
    made = post_form(browser, link)
    assert made.status_code == 200 and "Your page is ready" in made.get_data(as_text=True)
    with app.app_context():
        user = User.get_by_username("carol")
        assert user is not None and user.email_verified and user.email == "carol@example.com"
        assert db.session.scalar(select(func.count()).select_from(PendingSignup)) == 0
    log_in(app.test_client(), "carol")
    assert app.test_client().get("/carol").status_code == 200
    assert browser.get(link).status_code == 410  # used
    assert app.test_client().get("/signup/confirm/" + "x" * 40).status_code == 410


def test_a_taken_address_and_a_free_one_look_the_same_afterwards(app: Flask, smtp_server: SmtpServer) -> None:
    owner(app)
    users_before = user_count(app)
    taken = signup(app, "owner@example.com", "taken1")
    free = signup(app, "free@example.com", "free1")
    assert taken[:2] == free[:2] == (302, "/signup/sent")
    assert user_count(app) == users_before  # no account in either case
    for name in NAMES:
        assert app.test_client().get(f"/{name}").status_code == 404
        again = signup(app, f"{name}-again@example.com", name)
        assert again[0] == 422 and TAKEN in again[2]
    logins = [post_login(app.test_client(), name) for name in NAMES]
    assert [r.status_code for r in logins] == [401, 401]
    pages = [
        CSRF.sub("", r.get_data(as_text=True)).replace(name, "NAME")
        for r, name in zip(logins, NAMES, strict=True)
    ]
    assert pages[0] == pages[1] and LOGIN_FAILED in pages[0]
    [notice] = mail_to(app, smtp_server, "owner@example.com")
    assert "Someone tried to create" in notice.part("plain")
    [confirm] = mail_to(app, smtp_server, "free@example.com")
    assert link_in(confirm).startswith("/signup/confirm/")


def test_expired_sign_ups_are_pruned_by_the_task_and_free_their_names(
    app: Flask, smtp_server: SmtpServer
) -> None:
    owner(app)
    signup(app, "late@example.com", "late")
    signup(app, "owner@example.com", "late2")
    link = link_in(mail_to(app, smtp_server, "late@example.com")[0])
    with app.app_context():
        db.session.execute(
            PendingSignup.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert app.test_client().get(link).status_code == 410  # ran out: a clear page
    assert signup(app, "late@example.com", "late")[0] == 302  # an expired row holds nothing
    with app.app_context():
        tasks.prune_pending_signups()
        names = set(db.session.scalars(select(PendingSignup.username)))
    assert names == {"late"}  # the new one stays; "late2" ran out and was deleted
    assert signup(app, "someone@example.com", "late2")[0] == 302


def test_an_invitation_is_spent_when_the_account_is_made(app: Flask, smtp_server: SmtpServer) -> None:
    owner(app)
    with app.app_context():
        site_settings.store("signup_policy", "invite")
        db.session.commit()
        creator = User.get_by_username("owner")
        assert creator is not None
        secret = invites.create(creator).url.split("invite=")[1]
    assert signup(app, "ivy@example.com", "ivy", f"?invite={secret}")[:2] == (302, "/signup/sent")
    assert signup(app, "ian@example.com", "ian", f"?invite={secret}")[:2] == (302, "/signup/sent")
    with app.app_context():
        assert db.session.scalar(select(Invite.used_at)) is None  # nothing spent yet
    ivy = link_in(mail_to(app, smtp_server, "ivy@example.com")[0])
    ian = link_in(mail_to(app, smtp_server, "ian@example.com")[0])
    assert post_form(app.test_client(), ivy).status_code == 200
    refused = post_form(app.test_client(), ian)  # the invitation went to ivy
    assert refused.status_code == 410 and "already used" in refused.get_data(as_text=True)
    with app.app_context():
        invite = db.session.scalars(select(Invite)).one()
        ivy_user = User.get_by_username("ivy")
        assert ivy_user is not None and invite.used_by_id == ivy_user.id
        assert User.get_by_username("ian") is None


def test_a_name_held_by_a_sign_up_is_not_given_to_a_first_sign_in(app: Flask) -> None:
    signup(app, "sso@example.com", "pat")
    with app.test_request_context(), pytest.raises(accounts.SignupError, match=TAKEN):
        accounts.check_new_username("pat")  # what sso_usernames.free_username asks


def test_two_confirmations_of_one_link_make_one_account(app: Flask, smtp_server: SmtpServer) -> None:
    signup(app, "twice@example.com", "twice")
    link = link_in(mail_to(app, smtp_server, "twice@example.com")[0])
    first, second = app.test_client(), app.test_client()
    tokens = [form_token(first.get(link)), form_token(second.get(link))]
    assert first.post(link, data={"csrf_token": tokens[0]}).status_code == 200
    assert second.post(link, data={"csrf_token": tokens[1]}).status_code == 410
    with app.app_context():
        assert pending_signups.holds("twice") is False
        assert User.get_by_username("twice") is not None
