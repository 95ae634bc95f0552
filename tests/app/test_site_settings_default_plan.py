"""``default_plan``: every new account (sign-up, invitation, setup, command line, SSO) gets it, and billing
never takes a plan given this way (without a Stripe subscription) away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import billing, invites, plans, site_settings
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from tests.app.sso_support import Provider, user_named

from .conftest import PASSWORD, SignUp, form_token
from .test_setup import setup_form

pytestmark = pytest.mark.database_matrix


def choose(app: Flask, key: str, value: object) -> None:
    with app.app_context():
        site_settings.change(key, value)


def plan_of(app: Flask, username: str) -> str:
    with app.app_context():
        user = User.get_by_username(username)
        assert user is not None
        return user.subscription_plan


def test_a_new_account_gets_gratis_until_the_setting_says_otherwise(app: Flask, signed_up: SignUp) -> None:
    signed_up("early")
    choose(app, "default_plan", "pro")
    signed_up("later")
    assert (plan_of(app, "early"), plan_of(app, "later")) == ("gratis", "pro")


def test_setup_and_invitations_give_the_default_plan(app: Flask, client: FlaskClient) -> None:
    choose(app, "default_plan", "pro")
    assert client.post("/setup", data=setup_form(client, signup_policy="invite")).status_code == 302
    assert plan_of(app, "owner") == "pro"
    with app.test_request_context():
        owner = User.get_by_username("owner")
        made = invites.create(owner, "for zoe")
    path = made.url.replace("http://localhost", "")
    browser = client.application.test_client()
    data = {"csrf_token": form_token(browser.get(path)), "email": "zoe@example.com", "username": "zoe"}
    assert browser.post(path, data={**data, "password": PASSWORD}).status_code == 302
    assert plan_of(app, "zoe") == "pro"


def test_an_account_made_at_a_first_sso_sign_in_gets_the_default_plan(app: Flask) -> None:
    provider = Provider(app).install()
    choose(app, "default_plan", "pro")
    provider.sign_in(app.test_client(), "s-1", username="sam", email="sam@example.com")
    assert user_named(app, "sam").subscription_plan == "pro"


def test_billing_keeps_a_plan_given_without_a_subscription(app: Flask, signed_up: SignUp) -> None:
    choose(app, "default_plan", "pro")
    pat = signed_up("pat")
    for number in range(11):  # gratis allows 10 links: the plan is really Pro
        pat.add_link(f"Link {number}", f"https://example.com/{number}")
    late = signed_up("late")  # control: a subscription past due for a year is what the task ends
    with app.app_context():
        overdue = db.session.get(User, late.id)
        assert overdue is not None
        overdue.subscription_status, overdue.past_due_since = "past_due", utcnow() - timedelta(days=365)
        db.session.commit()
        assert billing.end_expired_grace_periods() == 1  # only the overdue one
        user = db.session.get(User, pat.id)
        assert user is not None
        assert (user.subscription_plan, user.stripe_subscription_id) == ("pro", None)
        assert plans.plan_for(user).key == "pro"
        assert plan_of(app, "late") == "gratis"


def test_a_default_plan_no_longer_configured_falls_back_to_gratis(app: Flask) -> None:
    choose(app, "default_plan", "pro")
    with app.app_context():
        configured = app.config["CONEXOOS_PLANS"]
        app.config["CONEXOOS_PLANS"] = {"gratis": configured["gratis"]}
        try:
            assert site_settings.default_plan() == "gratis"
        finally:
            app.config["CONEXOOS_PLANS"] = configured
