"""Webhook order: Stripe's current subscription decides; without it, ordering rules apply."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from conexoos.app.controllers import billing
from conexoos.app.models.persistent import StripeEvent, User
from conexoos.framework import db
from tests.support.stripe_standin import StripeStandIn, make_event

from ..billing_support import (
    GRACE_DAYS,
    billing_state,
    deliver,
    post_webhook,
    start_paid_checkout,
    stored_event_ids,
    stripe_sets_status,
    subscribe_to_pro,
    subscription_event,
)
from ..conftest import Account

pytestmark = pytest.mark.database_matrix


def with_status(event: dict[str, Any], status: str, event_type: str) -> dict[str, Any]:
    """A new event carrying ``event``'s subscription in another status (as an older snapshot would)."""
    subscription = dict(event["data"]["object"], status=status)
    return make_event(event_type, subscription, created=event["created"])


# ---------------------------------------------------------------- Stripe's current state decides


def test_a_same_second_incomplete_event_never_downgrades_a_paying_user(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    active = stripe_sets_status(standin, subscription["id"], "active", now)
    # Checkout sends customer.subscription.created (incomplete) in the same second; it arrives last.
    incomplete = with_status(active, "incomplete", "customer.subscription.created")
    assert deliver(client, active)["status"] == "applied"
    assert deliver(client, incomplete)["status"] == "applied"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("pro", "active")
    assert len(standin.requests_to("GET", f"/v1/subscriptions/{subscription['id']}")) == 3


def test_a_late_active_event_never_revives_a_canceled_subscription(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now - 10)
    deleted = stripe_sets_status(
        standin, subscription["id"], "canceled", now, "customer.subscription.deleted"
    )
    assert deliver(client, deleted)["status"] == "applied"
    late = with_status(deleted, "active", "customer.subscription.updated")
    deliver(client, late)
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("gratis", "canceled")


def test_the_event_copy_is_not_trusted_when_stripe_knows_the_subscription(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    standin.set_subscription_status(subscription["id"], "unpaid")
    forged_newer = make_event(
        "customer.subscription.updated",
        dict(standin.subscription(subscription["id"]), status="active"),
        created=int(time.time()) + 60,
    )
    assert deliver(client, forged_newer)["detail"] == "unpaid → gratis"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("gratis", "unpaid")


# ---------------------------------------------------------------- Stripe does not know it: the event's copy


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ([("active", 0, "updated"), ("incomplete", 0, "created")], ("pro", "active")),
        (
            [("active", -10, "updated"), ("canceled", 0, "deleted"), ("active", 0, "updated")],
            ("gratis", "canceled"),
        ),
        ([("past_due", 0, "updated"), ("active", 0, "updated")], ("pro", "past_due")),
        ([("active", 0, "updated"), ("past_due", 0, "updated")], ("pro", "past_due")),
        ([("canceled", 0, "deleted"), ("active", 50, "updated")], ("gratis", "canceled")),
        ([("active", 5, "updated"), ("unpaid", 0, "updated")], ("pro", "active")),
    ],
    ids=["incomplete-after-active", "active-after-deleted", "active-after-past-due", "past-due-after-active",
         "canceled-is-final", "older-is-stale"],
)  # fmt: skip
def test_without_stripe_the_event_copy_follows_the_ordering_rules(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    customer: str,
    sequence: list[tuple[str, int, str]],
    expected: tuple[str, str],
) -> None:
    now = int(time.time())
    for status, offset, kind in sequence:
        event = subscription_event(
            customer,
            status,
            now + offset,
            subscription_id="sub_gone",
            event_type=f"customer.subscription.{kind}",
        )
        assert deliver(client, event)["status"] in {"applied", "stale"}
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == expected


def test_a_canceled_subscription_stays_ended_after_the_user_has_a_new_one(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    now = int(time.time())
    deliver(client, subscription_event(customer, "active", now, subscription_id="sub_old"))
    deliver(client, subscription_event(customer, "canceled", now + 10, subscription_id="sub_old"))
    deliver(client, subscription_event(customer, "active", now + 20, subscription_id="sub_new"))
    late = subscription_event(customer, "active", now + 30, subscription_id="sub_old")
    assert deliver(client, late)["status"] == "stale"
    state = billing_state(app, alice.id)
    assert (state.plan, state.subscription) == ("pro", "sub_new")


# ---------------------------------------------------------------- a replaced subscription


def test_an_older_event_about_a_new_subscription_applies_after_a_newer_one_about_the_old(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    session = start_paid_checkout(alice, standin)  # opened while the old subscription still ran
    customer = session["customer"]
    deliver(client, subscription_event(customer, "active", now - 100, subscription_id="sub_old"))
    paid, new = standin.complete_checkout(session["id"])
    assert new is not None
    # The old subscription's end (T+1) arrives before the new one's checkout completion (T).
    old_end = subscription_event(
        customer, "canceled", now + 1, subscription_id="sub_old", event_type="customer.subscription.deleted"
    )
    assert deliver(client, old_end)["status"] == "applied"
    assert deliver(client, make_event("checkout.session.completed", paid, created=now))["status"] == "applied"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.subscription) == ("pro", "active", new["id"])


def test_an_event_about_a_replaced_subscription_that_entitles_nothing_is_ignored(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    customer = subscription["customer"]
    for status in ("unpaid", "canceled", "incomplete"):
        old = subscription_event(customer, status, now + 100, subscription_id="sub_replaced")
        outcome = deliver(client, old)
        assert (outcome["status"], outcome["detail"]) == (
            "ignored",
            "the event is about a subscription the user has replaced",
        )
    state = billing_state(app, alice.id)
    assert (state.plan, state.subscription) == ("pro", subscription["id"])


# ---------------------------------------------------------------- the grace period's start


def test_the_grace_period_starts_when_the_event_says_it_fell_past_due(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    fell_due = int((datetime.now(UTC) - timedelta(days=GRACE_DAYS + 1)).timestamp())
    deliver(client, subscription_event(customer, "active", fell_due - 60, subscription_id="sub_gone"))
    deliver(client, subscription_event(customer, "past_due", fell_due, subscription_id="sub_gone"))
    state = billing_state(app, alice.id)
    assert state.past_due_since == datetime.fromtimestamp(fell_due, UTC)
    assert (state.status, state.plan) == ("past_due", "gratis")  # delivered late: the grace is over


def test_the_grace_period_of_a_retrieved_subscription_starts_at_its_current_period(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    period_start = subscription["items"]["data"][0]["current_period_start"]
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", period_start + 120))
    state = billing_state(app, alice.id)
    assert state.past_due_since == datetime.fromtimestamp(period_start, UTC)
    assert (state.status, state.plan) == ("past_due", "pro")


# ---------------------------------------------------------------- one transaction


def test_a_concurrent_duplicate_delivery_rolls_back_and_answers_duplicate(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    event = stripe_sets_status(standin, subscription["id"], "canceled", int(time.time()) + 5)
    with app.app_context():
        engine = db.engine
    retrieve = billing.gateway.retrieve_subscription

    def another_worker_finishes_first(subscription_id: str) -> dict[str, Any] | None:
        found = retrieve(subscription_id)
        with engine.begin() as connection:  # the same event, processed by another worker meanwhile
            row = {
                "id": event["id"],
                "type": event["type"],
                "outcome": "applied",
                "processed_at": datetime.now(UTC),
            }
            connection.execute(insert(StripeEvent.__table__).values(**row))
        return found

    monkeypatch.setattr(billing.gateway, "retrieve_subscription", another_worker_finishes_first)
    assert deliver(client, event)["status"] == "duplicate"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("pro", "active")  # this delivery's effect was rolled back
    assert stored_event_ids(app).count(event["id"]) == 1


def test_events_past_2038_are_applied_and_ordered(
    app: Flask, client: FlaskClient, alice: Account, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_2040 = 2_208_988_800  # past 2**31 - 1, which a 32-bit column could not hold
    monkeypatch.setattr(billing, "time", SimpleNamespace(time=lambda: in_2040 + 30))  # the server's clock
    for status, created in (("active", in_2040), ("past_due", in_2040 - 60)):
        event = subscription_event(customer, status, created, subscription_id="sub_gone")
        assert deliver(client, event)["status"] in {"applied", "stale"}
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("pro", "active")  # the older past_due came late: stale
    with app.app_context():
        assert db.session.get(User, alice.id).billing_event_at == in_2040


def test_an_event_dated_in_the_future_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    """A signed event dated years ahead kept a past-due account on its paid plan until then (its grace
    started at that date), and made every real event after it stale (outside tester)."""
    now = int(time.time())
    deliver(client, subscription_event(customer, "active", now - 60, subscription_id="sub_gone"))
    future = subscription_event(customer, "past_due", now + 86_400 * 365 * 10, subscription_id="sub_gone")
    response = post_webhook(client, future)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "created is in the future" in response.get_json()["error"]["message"]
    deliver(client, subscription_event(customer, "past_due", now, subscription_id="sub_gone"))
    state = billing_state(app, alice.id)
    assert state.status == "past_due"
    assert state.past_due_since == datetime.fromtimestamp(now, UTC)
