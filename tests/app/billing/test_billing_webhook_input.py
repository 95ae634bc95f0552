"""Webhook input: malformed events, Stripe outages, unknown customers and subscriptions, live/test mode."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AppFactory
from tests.fixtures.empty_database import database_url
from tests.support.stripe_standin import StripeStandIn, make_event, sign_payload

from ..billing_support import (
    WEBHOOK_SECRET,
    all_billing_states,
    billing_app,
    billing_state,
    deliver,
    post_webhook,
    running_standin,
    start_paid_checkout,
    store_customer,
    stored_event_ids,
    stripe_sets_status,
    subscribe_to_pro,
    subscription_event,
    subscription_object,
)
from ..conftest import Account, sign_up

pytestmark = pytest.mark.database_matrix


def post_signed(client: FlaskClient, body: bytes) -> Any:
    """POST ``body`` with a valid Stripe signature."""
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, WEBHOOK_SECRET)}
    return client.post("/stripe/webhook", data=body, headers=headers)


def broken(change: str) -> bytes:
    """A subscription event body with one part broken."""
    event = subscription_event("cus_x", "active", int(time.time()))
    if change.startswith("no "):
        field = change.removeprefix("no ")
        if field == "data.object":
            event["data"] = {}
        else:
            del event[field]
    elif change == "null object":
        event["data"]["object"] = None
    elif change == "created as string":
        event["created"] = str(event["created"])
    elif change == "livemode as string":
        event["livemode"] = "false"
    return json.dumps(event).encode()


MALFORMED = {
    "list": b"[1,2]",
    "string": b'"x"',
    "null": b"null",
    "empty object": b"{}",
    "not utf-8": b"\xff\xfe{}",
    **{
        change: broken(change)
        for change in (
            "no id",
            "no type",
            "no created",
            "no data.object",
            "null object",
            "created as string",
            "livemode as string",
        )
    },
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_well_signed_body_that_is_not_an_event_is_400(app: Flask, client: FlaskClient, body: bytes) -> None:
    response = post_signed(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"].startswith("not a Stripe event: ")
    assert stored_event_ids(app) == []


# ---------------------------------------------------------------- Stripe unavailable: 503, not recorded


def test_a_stripe_5xx_is_503_and_the_event_is_retried_later(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    event = stripe_sets_status(standin, subscription["id"], "canceled", int(time.time()) + 5)
    standin.fail_next("GET", f"/v1/subscriptions/{subscription['id']}", status=500)
    before = stored_event_ids(app)
    response = post_webhook(client, event)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert stored_event_ids(app) == before
    assert billing_state(app, alice.id).plan == "pro"
    assert deliver(client, event)["status"] == "applied"  # Stripe's retry
    assert billing_state(app, alice.id).plan == "gratis"


def test_a_refused_secret_key_is_503_names_the_setting_and_the_event_applies_once_it_is_mended(
    make_app: AppFactory, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong or revoked key: Stripe answers 401 to reading the subscription. The event is not applied,
    so it is not acknowledged (Stripe retries non-2xx answers for days); the answer, shown in Stripe's
    dashboard, and an error in the log say which setting to fix."""
    app = billing_app(make_app, standin)
    client = app.test_client()
    alice = sign_up(app, "alice")
    subscription = subscribe_to_pro(client, alice, standin)
    event = stripe_sets_status(standin, subscription["id"], "canceled", int(time.time()) + 5)
    revoked = billing_app(make_app, standin, secret_key="sk_test_revoked", database_url=database_url(app))
    before = stored_event_ids(app)
    with caplog.at_level(logging.ERROR, logger="conexoos.billing"):
        response = post_webhook(revoked.test_client(), event)
    assert response.status_code == 503, response.get_data(as_text=True)
    message = response.get_json()["error"]["message"]
    assert message.startswith("Stripe refused the site's API key (HTTP 401) when the subscription was read")
    assert "SERVICES.stripe.SECRET_KEY" in message
    [logged] = [record for record in caplog.records if record.name == "conexoos.billing"]
    assert logged.levelno == logging.ERROR
    assert "Stripe refused this site's secret key (HTTP 401, AuthenticationError)" in logged.getMessage()
    assert "the event is not applied" in logged.getMessage()
    assert "Set SERVICES.stripe.SECRET_KEY" in logged.getMessage()
    assert (stored_event_ids(app), billing_state(app, alice.id).plan) == (before, "pro")
    assert deliver(client, event)["status"] == "applied"  # Stripe's retry, the key mended
    assert billing_state(app, alice.id).plan == "gratis"


def test_stripe_out_of_reach_is_503(make_app: AppFactory) -> None:
    with running_standin() as standin:
        app = billing_app(make_app, standin)
        alice = sign_up(app, "alice")
        customer = str(start_paid_checkout(alice, standin)["customer"])
    # The stand-in is stopped: its port refuses connections.
    response = post_webhook(app.test_client(), subscription_event(customer, "active", int(time.time())))
    assert response.status_code == 503
    assert stored_event_ids(app) == []


def test_without_a_secret_key_subscription_events_are_503(make_app: AppFactory) -> None:
    overrides = {"SERVICES": {"stripe": {"WEBHOOK_SECRET": WEBHOOK_SECRET}}}
    app = make_app(overrides=overrides)
    alice = sign_up(app, "alice")
    store_customer(app, alice.id, "cus_a")
    session = {"id": "cs_1", "object": "checkout.session", "customer": "cus_a", "subscription": "sub_1"}
    for event in (
        make_event("checkout.session.completed", session),
        subscription_event("cus_a", "active", int(time.time())),
    ):
        response = post_webhook(app.test_client(), event)
        assert response.status_code == 503
    assert stored_event_ids(app) == []


def test_checkout_completed_for_a_subscription_stripe_does_not_know_is_ignored(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "customer": customer,
        "client_reference_id": str(alice.id),
        "mode": "subscription",
        "subscription": "sub_doesnotexist",
    }
    event = make_event("checkout.session.completed", session)
    outcome = deliver(client, event)
    assert outcome == {"status": "ignored", "detail": "Stripe does not know subscription sub_doesnotexist"}
    assert stored_event_ids(app) == [event["id"]]
    assert billing_state(app, alice.id).plan == "gratis"


# ---------------------------------------------------------------- whose event


def test_a_subscription_of_an_unknown_customer_never_links_by_metadata(
    app: Flask, client: FlaskClient, alice: Account
) -> None:
    foreign = subscription_object("cus_other_install", "active", metadata={"user_id": str(alice.id)})
    for kind in ("created", "updated"):
        outcome = deliver(client, make_event(f"customer.subscription.{kind}", foreign))
        assert outcome["status"] == "ignored"
    state = billing_state(app, alice.id)
    assert (state.plan, state.customer) == ("gratis", None)


def test_a_retrieved_subscription_of_another_customer_is_ignored_with_a_warning(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    bob: Account,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bobs = subscribe_to_pro(client, bob, standin)
    alices_customer = start_paid_checkout(alice, standin)["customer"]
    invoice = {"id": "in_x", "object": "invoice", "customer": alices_customer, "subscription": bobs["id"]}
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        outcome = deliver(client, make_event("invoice.payment_failed", invoice))
    assert outcome == {"status": "ignored", "detail": "the subscription belongs to another customer"}
    assert any(bobs["id"] in record.getMessage() for record in caplog.records)
    assert billing_state(app, alice.id).plan == "gratis"
    assert billing_state(app, bob.id).plan == "pro"


@pytest.mark.parametrize(("key", "livemode"), [("sk_test_x", True), ("sk_live_x", False)])
def test_an_event_of_the_other_mode_is_ignored(make_app: AppFactory, key: str, livemode: bool) -> None:
    with running_standin() as standin:
        app = billing_app(make_app, standin, secret_key=key)
        alice = sign_up(app, "alice")
        store_customer(app, alice.id, "cus_a")
        event = subscription_event("cus_a", "active", int(time.time()))
        event["livemode"] = livemode
        before = all_billing_states(app)
        outcome = deliver(app.test_client(), event)
        assert outcome == {"status": "ignored", "detail": "the event's mode (live/test) is not the key's"}
        assert all_billing_states(app) == before
        assert standin.requests == []
