"""A subscription Stripe does not know (404): what a person does with it changes nothing, as the
``billing-plan-ends`` task leaves it alone (a key of another Stripe account would say 404 of every
subscription). The person is told so, the operator gets one warning naming it and the key to check;
a subscription that has ended at Stripe (which answers a cancellation of it with the same 404) is
still stored as ended."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from tests.support.stripe_standin import StripeStandIn

from ..billing_support import BillingState, billing_state, checkout, subscribe_to_pro
from ..conftest import PASSWORD, Account
from ..leaving_support import delete_account, rows_per_table

pytestmark = pytest.mark.database_matrix

UNKNOWN = "sub_elsewhere"
TOLD = (
    "The payment provider does not know your subscription, so we cannot {}. Nothing has changed: please "
    "contact the people who run this site."
)


def stored_with_unknown_subscription(
    app: Flask, user_id: int, customer: str, status: str = "active", ending: bool = True
) -> BillingState:
    """The account stored with a subscription the stand-in never made (on Pro unless it is unpaid); with
    10 paid days left when ``ending``. Its billing state."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.subscription_plan = "gratis" if status == "unpaid" else "pro"
        user.subscription_status = status
        user.stripe_customer_id, user.stripe_subscription_id = customer, UNKNOWN
        user.period_ends_at = utcnow() + timedelta(days=10)
        user.plan_ends_at = user.period_ends_at if ending else None
        user.past_due_since = utcnow() if status == "past_due" else None
        db.session.commit()
    return billing_state(app, user_id)


def past_due_pro(client: FlaskClient, account: Account, standin: StripeStandIn) -> dict[str, Any]:
    """Subscribe to Pro, then make it past due at Stripe and in the database (as its webhook would); returns
    the subscription."""
    subscription = subscribe_to_pro(client, account, standin)
    standin.set_subscription_status(subscription["id"], "past_due")
    app = account.client.application
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        user.subscription_status, user.past_due_since = "past_due", utcnow()
        db.session.commit()
    return subscription


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "conexoos.billing" and record.levelno >= logging.WARNING
    ]


def told_the_operator(caplog: pytest.LogCaptureFixture) -> None:
    [logged] = warnings(caplog)
    assert UNKNOWN in logged and "SERVICES.stripe.SECRET_KEY" in logged, logged
    assert "stored as canceled" not in logged


def flashed(account: Account, response: Any, page: str) -> str:
    """The page a refused form is led back to, with the reason shown on it."""
    assert (response.status_code, response.headers["Location"]) == (302, page), response.get_data(
        as_text=True
    )
    return str(account.client.get(page).get_data(as_text=True))


@pytest.mark.parametrize("ending", [True, False], ids=["ending", "forged"])
def test_keep_changes_nothing_and_says_why(
    app: Flask,
    alice: Account,
    customer: str,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
    ending: bool,
) -> None:
    """Keep my subscription with 10 paid days left, and a Keep sent when nothing ends (which asks Stripe
    first): the plan stays, whatever the form or the JSON call."""
    before = stored_with_unknown_subscription(app, alice.id, customer, ending=ending)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        answer = alice.client.post("/subscriptions/keep", json={}, headers={"X-CSRFToken": alice.csrf})
    assert answer.status_code == 502
    assert answer.get_json()["error"]["message"] == TOLD.format("keep your subscription going")
    told_the_operator(caplog)
    assert billing_state(app, alice.id) == before
    form = alice.client.post("/subscriptions/keep", data={"csrf_token": alice.csrf})
    page = flashed(alice, form, "/subscriptions")
    assert TOLD.format("keep your subscription going") in page
    assert billing_state(app, alice.id) == before
    assert '<strong id="current-plan">Pro</strong>' in page


@pytest.mark.parametrize("status", ["active", "past_due"])
def test_cancel_changes_nothing_and_says_why(
    app: Flask,
    alice: Account,
    customer: str,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
    status: str,
) -> None:
    """The confirmation's form: at the period's end in good standing, at once past due (which moved the
    account to gratis at once before)."""
    before = stored_with_unknown_subscription(app, alice.id, customer, status=status, ending=False)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        form = alice.client.post("/subscriptions/cancel", data={"csrf_token": alice.csrf})
    page = flashed(alice, form, "/subscriptions/cancel")
    assert TOLD.format("cancel your subscription" if status == "active" else "move you to Gratis") in page
    told_the_operator(caplog)
    assert billing_state(app, alice.id) == before
    answer = checkout(alice, "gratis")
    assert answer.status_code == 502
    assert "does not know your subscription" in answer.get_json()["error"]["message"]
    assert billing_state(app, alice.id) == before


def test_deleting_the_account_deletes_nothing_and_says_why(
    app: Flask, alice: Account, customer: str, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleting the account cancels the subscription first, so that nothing bills after: when Stripe does
    not know it, it may bill under another key."""
    before = stored_with_unknown_subscription(app, alice.id, customer, ending=False)
    rows = rows_per_table(app, alice.id)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        response = delete_account(alice, PASSWORD)
    assert response.status_code == 502
    assert TOLD.format("delete your account") in response.get_data(as_text=True)
    told_the_operator(caplog)
    assert (billing_state(app, alice.id), rows_per_table(app, alice.id)) == (before, rows)


def test_a_new_checkout_over_an_unpaid_one_stripe_does_not_know_is_refused(
    app: Flask, alice: Account, customer: str, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """An unpaid subscription is cancelled before a new checkout: one Stripe does not know may still
    bill under another key, so no second one starts."""
    before = stored_with_unknown_subscription(app, alice.id, customer, status="unpaid", ending=False)
    checkouts = len(standin.requests_to("POST", "/v1/checkout/sessions"))  # the customer's first
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        answer = checkout(alice, "pro")
    assert answer.status_code == 502
    assert answer.get_json()["error"]["message"] == TOLD.format("start a new subscription")
    told_the_operator(caplog)
    assert billing_state(app, alice.id) == before
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == checkouts


def test_a_subscription_that_ended_at_stripe_is_stored_as_ended_when_cancelled(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Stripe answers 404 to cancelling a subscription that has ended: asked, it has it canceled."""
    subscription = past_due_pro(client, alice, standin)
    standin.set_subscription_status(subscription["id"], "canceled")  # its webhook is on its way
    assert checkout(alice, "gratis").status_code == 200
    assert len(standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}")) == 1
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.subscription) == ("gratis", "canceled", subscription["id"])


@pytest.mark.parametrize("asked", [True, False], ids=["asked", "not-asked"])
def test_a_404_to_cancelling_a_subscription_stripe_has_live_or_cannot_be_asked_about_changes_nothing(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, asked: bool
) -> None:
    subscription = past_due_pro(client, alice, standin)
    before = billing_state(app, alice.id)
    standin.fail_next("DELETE", f"/v1/subscriptions/{subscription['id']}", status=404)
    if not asked:
        standin.fail_next("GET", f"/v1/subscriptions/{subscription['id']}", status=500)
    answer = checkout(alice, "gratis")
    assert answer.status_code == 502
    assert answer.get_json()["error"]["message"] == (
        "The payment provider could not cancel your subscription, so we cannot move you to Gratis. "
        "Nothing has changed; try again in a minute."
    )
    assert billing_state(app, alice.id) == before
