"""What operators and past-due subscribers meet around billing (outside tester): paid plans are not sold
without the webhook secret that applies a payment; staff can give a plan to an account whose subscription
ended; a past-due subscriber is told why their plan changed and how to keep it."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn, make_event

from ..billing_support import (
    PLAN_OVERRIDES,
    billing_state,
    checkout,
    deliver,
    move_past_due_since,
    stripe_ends_period,
    stripe_sets_status,
    subscribe_to_pro,
)
from ..conftest import Account, sign_up
from ..staff_support import make_staff

pytestmark = pytest.mark.database_matrix


@pytest.mark.parametrize("secret", [None, "   "], ids=["absent", "spaces"])
def test_without_the_webhook_secret_paid_plans_are_not_on_sale(
    make_app: AppFactory, standin: StripeStandIn, secret: str | None
) -> None:
    stripe = {"SECRET_KEY": "sk_test_x", "API_BASE": standin.base_url}
    if secret is not None:  # spaces are no secret either (re-check: they put paid plans on sale)
        stripe["WEBHOOK_SECRET"] = secret
    app = make_app(overrides={**PLAN_OVERRIDES, "SERVICES": {"stripe": stripe}})
    alice = sign_up(app, "alice")
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert "Paid plans cannot be bought on this site." in page
    assert "Upgrade to" not in page
    response = checkout(alice, "pro")
    assert response.status_code == 409, response.get_data(as_text=True)
    assert standin.requests_to("POST", "/v1/checkout/sessions") == []  # no payment that could never apply


def test_staff_can_give_a_plan_once_the_subscription_ended_and_its_late_events_keep_it(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    boss = make_staff(app, sign_up(app, "boss"), "admin")
    subscription = subscribe_to_pro(client, alice, standin)
    plan_form = {"csrf_token": boss.csrf, "plan": "pro"}
    running = boss.client.post(f"/admin/users/{alice.id}/plan", data=plan_form)
    assert running.status_code == 409  # it may still bill: change it in Stripe
    assert checkout(alice, "gratis").status_code == 200  # cancelled at the end of the period
    assert boss.client.post(f"/admin/users/{alice.id}/plan", data=plan_form).status_code == 409  # runs on
    deliver(client, stripe_ends_period(standin, subscription["id"], int(time.time()) + 1))
    given = boss.client.post(f"/admin/users/{alice.id}/plan", data=plan_form)
    assert given.status_code == 302, given.get_data(as_text=True)
    assert billing_state(app, alice.id).plan == "pro"
    ended = standin.subscription(subscription["id"])
    answer = deliver(client, make_event("customer.subscription.deleted", ended))
    assert answer["status"] == "ignored", answer
    assert billing_state(app, alice.id).plan == "pro"


def test_a_past_due_subscriber_is_told_what_failed_and_how_to_keep_the_plan(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", int(time.time())))
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert "The last payment for Pro failed: you keep Pro until" in page
    move_past_due_since(app, alice.id, days_ago=30)
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert "The last payment for Pro failed, so your page has the limits of Gratis until it is paid" in page
    response = checkout(alice, "pro")
    assert response.status_code == 409
    assert "last payment failed: update your payment method" in response.get_json()["error"]["message"]
