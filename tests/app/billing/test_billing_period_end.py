"""Cancelling at the end of the period paid for: Stripe's answer and webhooks (its billing portal too) store
when the plan ends, Keep my subscription withdraws it (form and JSON), and every refusal changes nothing."""

from __future__ import annotations

import copy
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import audit, billing, plan_messages
from conexoos.app.models.persistent import User
from conexoos.app.services.stripe_subscription import read_subscription
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn, make_event

from ..billing_support import (
    GRACE_DAYS,
    PLAN_OVERRIDES,
    SUBSCRIPTIONS_URL,
    billing_app,
    billing_state,
    checkout,
    deliver,
    move_past_due_since,
    period_end,
    stripe_ends_period,
    stripe_overrides,
    stripe_sets_status,
    subscribe_to_pro,
    subscription_object,
)
from ..conftest import PASSWORD, Account, form_token, sign_up
from ..leaving_support import delete_account, rows_per_table

pytestmark = pytest.mark.database_matrix

JSON = {"Accept": "application/json"}
UNAVAILABLE = "Payments are unavailable on this site at the moment: please contact the people who run it."
JAN_4_2027 = int(datetime(2027, 1, 4, 10, tzinfo=UTC).timestamp())


def keep(account: Account, as_json: bool = False) -> Any:
    """Press Keep my subscription: the plans page's form, or the JSON call."""
    if as_json:
        return account.client.post("/subscriptions/keep", json={}, headers={"X-CSRFToken": account.csrf})
    return account.client.post("/subscriptions/keep", data={"csrf_token": account.csrf})


def refused_page(account: Account, response: Any, page: str = "/subscriptions") -> str:
    """The page a refused form leads back to (Post/Redirect/Get), with the reason on it."""
    assert (response.status_code, response.headers["Location"]) == (302, page), response.get_data(
        as_text=True
    )
    return str(account.client.get(page).get_data(as_text=True))


def portal_sets(
    standin: StripeStandIn, subscription_id: str, at_period_end: bool, created: int
) -> dict[str, Any]:
    """Stripe's billing portal cancels (or renews) at the period's end; returns its webhook event."""
    changed = standin.set_cancel_at_period_end(subscription_id, at_period_end)
    return make_event("customer.subscription.updated", changed, created=created)


def set_to_end_then_past_due(client: FlaskClient, account: Account, standin: StripeStandIn) -> dict[str, Any]:
    """Pro, set to end with its period in Stripe's portal, then past due (a payment failed); returns it."""
    now = int(time.time())
    subscription = subscribe_to_pro(client, account, standin, created=now)
    deliver(client, portal_sets(standin, subscription["id"], True, now + 1))
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", now + 2))
    return subscription


def moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# ---------------------------------------------------------------- reading Stripe's subscription


def test_the_end_is_read_from_cancel_at_else_from_the_period_on_the_items_or_the_subscription() -> None:
    new_shape = subscription_object("cus_a", "active", subscription_id="sub_a")
    item_end = new_shape["items"]["data"][0]["current_period_end"]
    assert (read_subscription(new_shape).ends_at, read_subscription(new_shape).period_end) == (None, item_end)
    scheduled = dict(new_shape, cancel_at_period_end=True)
    assert read_subscription(scheduled).ends_at == item_end  # an API version leaving cancel_at empty
    dated = dict(new_shape, cancel_at=JAN_4_2027)
    assert read_subscription(dated).ends_at == JAN_4_2027  # a date chosen in Stripe's dashboard
    old_shape = copy.deepcopy(
        dict(scheduled, current_period_end=JAN_4_2027)
    )  # before API 2025-03-31: on the subscription
    del old_shape["items"]["data"][0]["current_period_end"]
    state = read_subscription(old_shape)
    assert state is not None and (state.ends_at, state.period_end) == (JAN_4_2027, JAN_4_2027)
    ended = dict(scheduled, status="canceled")
    assert read_subscription(ended).ends_at is None
    for odd in ("soon", True, -1, 2**70):
        assert read_subscription(dict(new_shape, cancel_at=odd)).ends_at is None, odd


def test_the_end_is_written_as_a_day_in_words_and_the_utc_time() -> None:
    assert plan_messages.long_moment(moment(JAN_4_2027)) == "4 January 2027, 10:00 UTC"
    assert plan_messages.long_moment(moment(JAN_4_2027 + 10 * 86_400 + 90)) == "14 January 2027, 10:01 UTC"


# ---------------------------------------------------------------- Keep my subscription


def test_keeping_by_json_renews_the_subscription(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    response = keep(alice, as_json=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"redirect_url": SUBSCRIPTIONS_URL}
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is False
    assert billing_state(app, alice.id).plan_and_ends() == ("pro", "active", None, period_end(subscription))


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_keeping_a_subscription_that_is_not_ending_is_409_and_only_asks_stripe_for_it(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, as_json: bool
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    calls = len(standin.requests)
    response = keep(alice, as_json)
    message = "Your subscription is not set to end: it renews as before, so there is nothing to keep."
    if as_json:
        assert response.status_code == 409
        assert response.get_json()["error"]["message"] == message
    else:
        assert message in refused_page(alice, response)
    assert [(request.method, request.path) for request in standin.requests[calls:]] == [
        ("GET", f"/v1/subscriptions/{subscription['id']}")
    ]


def test_keeping_needs_a_csrf_token_and_a_login(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    before = billing_state(app, alice.id)
    assert alice.client.post("/subscriptions/keep").status_code == 400
    stranger = app.test_client()
    token = form_token(stranger.get("/login"))
    logged_out = stranger.post("/subscriptions/keep", json={}, headers={**JSON, "X-CSRFToken": token})
    assert logged_out.status_code == 401
    assert billing_state(app, alice.id) == before


@pytest.mark.parametrize(("status", "lasting"), [(401, True), (500, False)])
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_a_keep_stripe_refuses_is_502_and_the_subscription_still_ends(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
    status: int,
    lasting: bool,
    as_json: bool,
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    before = billing_state(app, alice.id)
    standin.fail_next("POST", f"/v1/subscriptions/{subscription['id']}", status=status)
    with caplog.at_level(logging.ERROR, logger="conexoos.billing"):
        response = keep(alice, as_json)
    if as_json:
        assert response.status_code == 502
    text = response.get_json()["error"]["message"] if as_json else refused_page(alice, response)
    assert "The payment provider could not keep your subscription going. Nothing has changed" in text
    assert (UNAVAILABLE in text, "try again in a minute" in text) == (lasting, not lasting), text
    assert billing_state(app, alice.id) == before
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is True
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert subscription["id"] in logged and "cancel_at_period_end=False" in logged, logged


def test_keeping_a_subscription_stripe_already_ended_is_409_and_moves_to_gratis(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    standin.set_subscription_status(subscription["id"], "canceled")  # the period ended; no webhook yet
    response = keep(alice, as_json=True)
    assert response.status_code == 409
    assert "already ended" in response.get_json()["error"]["message"]
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("gratis", "canceled", None)


def test_keeping_also_withdraws_a_date_chosen_in_stripes_dashboard(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    ends = period_end(subscription)
    chosen = int(ends.timestamp()) - 86_400
    standin.client().v1.subscriptions.update(subscription["id"], params={"cancel_at": chosen})
    event = make_event("customer.subscription.updated", standin.subscription(subscription["id"]))
    assert deliver(client, event)["status"] == "applied"
    assert billing_state(app, alice.id).plan_ends_at == moment(chosen)
    assert keep(alice).status_code == 302
    calls = [
        request.params for request in standin.requests_to("POST", f"/v1/subscriptions/{subscription['id']}")
    ]
    assert calls[-2:] == [{"cancel_at_period_end": "false"}, {"cancel_at": ""}]
    assert standin.subscription(subscription["id"])["cancel_at"] is None
    assert billing_state(app, alice.id).plan_ends_at is None


def test_without_stripe_keys_cancelling_and_keeping_are_409_and_change_nothing(make_app: AppFactory) -> None:
    app = billing_app(make_app, None)
    alice = sign_up(app, "alice")
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.subscription_plan, user.subscription_status = "pro", "active"
        user.stripe_customer_id, user.stripe_subscription_id = "cus_x", "sub_x"
        user.plan_ends_at = moment(JAN_4_2027)
        db.session.commit()
    before = billing_state(app, alice.id)
    kept = keep(alice, as_json=True)
    assert kept.status_code == 409
    assert kept.get_json()["error"]["message"] == (
        "Payments are not set up on this site at the moment, so we cannot keep your subscription going."
    )
    cancelled = checkout(alice, "gratis")
    assert cancelled.status_code == 409
    assert "so we cannot cancel your subscription" in cancelled.get_json()["error"]["message"]
    assert billing_state(app, alice.id) == before


# ---------------------------------------------------------------- other choices while it ends


def test_choosing_a_paid_plan_while_the_subscription_ends_is_409_pointing_to_keep(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    response = checkout(alice, "pro")
    assert response.status_code == 409
    ends_on = plan_messages.long_moment(period_end(subscription))
    assert response.get_json()["error"]["message"] == (
        f"Your Pro plan ends on {ends_on} and will not renew. To go on with it, choose Keep my subscription; "
        "to change plans, use the billing portal (Manage billing)."
    )
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 1  # the first, paid
    assert billing_state(app, alice.id).plan_ends_at == period_end(subscription)


def test_deleting_the_account_while_the_subscription_ends_cancels_it_at_once(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    assert delete_account(alice, PASSWORD).status_code == 302
    assert len(standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}")) == 1
    assert standin.subscription(subscription["id"])["status"] == "canceled"  # nothing bills after deletion
    assert rows_per_table(app, alice.id)["user"] == 0


# ---------------------------------------------------------------- webhooks


def test_a_cancellation_in_stripes_portal_shows_like_ours_and_so_does_renewing(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    ends = period_end(subscription)
    ending = f"Your Pro plan ends on {plan_messages.long_moment(ends)} and will not renew."
    assert deliver(client, portal_sets(standin, subscription["id"], True, now + 1))["status"] == "applied"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("pro", "active", ends)
    for path in ("/subscriptions", "/dashboard"):
        page = alice.client.get(path).get_data(as_text=True)
        assert ending in page and ">Keep my subscription</button>" in page, path
    assert deliver(client, portal_sets(standin, subscription["id"], False, now + 2))["status"] == "applied"
    assert billing_state(app, alice.id).plan_ends_at is None
    assert ending not in alice.client.get("/subscriptions").get_data(as_text=True)
    assert deliver(client, portal_sets(standin, subscription["id"], True, now + 3))["status"] == "applied"
    deliver(client, stripe_ends_period(standin, subscription["id"], now + 4))
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("gratis", "canceled", None)


def test_events_out_of_order_leave_what_stripe_has_now(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    scheduled = portal_sets(standin, subscription["id"], True, now + 1)
    renewed = portal_sets(standin, subscription["id"], False, now + 2)
    deliver(client, renewed)
    deliver(client, scheduled)  # late: the subscription is read from Stripe, where it renews
    assert billing_state(app, alice.id).plan_ends_at is None
    assert deliver(client, scheduled)["status"] == "duplicate"


def test_an_events_own_copy_older_than_the_applied_one_is_stale(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    """When Stripe does not know the subscription, the event's own copy is used under the ordering rules."""
    now = int(time.time())
    own = subscription_object(customer, "active", subscription_id="sub_unknown_to_stripe")
    scheduled = dict(own, cancel_at_period_end=True)
    assert deliver(client, make_event("customer.subscription.updated", scheduled, created=now))["status"] == (
        "applied"
    )
    ends = moment(own["items"]["data"][0]["current_period_end"])
    assert billing_state(app, alice.id).plan_ends_at == ends
    older = make_event("customer.subscription.updated", own, created=now - 10)
    assert deliver(client, older)["status"] == "stale"
    assert billing_state(app, alice.id).plan_ends_at == ends
    newer = make_event("customer.subscription.updated", own, created=now + 10)
    assert deliver(client, newer)["status"] == "applied"
    assert billing_state(app, alice.id).plan_ends_at is None


def test_a_failed_payment_while_it_ends_keeps_the_end_and_the_way_back(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = set_to_end_then_past_due(client, alice, standin)
    state = billing_state(app, alice.id)
    assert (state.status, state.plan_ends_at) == ("past_due", period_end(subscription))
    assert "Keep my subscription" in alice.client.get("/subscriptions").get_data(as_text=True)


def test_a_past_due_subscription_set_to_end_can_be_cancelled_at_once_from_the_plans_page(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Past due, it has nothing paid left to keep: it need not go on billing (and retrying) until its end."""
    subscription = set_to_end_then_past_due(client, alice, standin)
    plans_page = " ".join(alice.client.get("/subscriptions").get_data(as_text=True).split())
    assert "Cancelling stops it at once, without a refund." in plans_page
    assert '<a class="button" href="/subscriptions/cancel">Cancel subscription and switch to Gratis</a>' in (
        plans_page
    )
    assert ">Keep my subscription</button>" in plans_page  # the way back stays
    confirm = alice.client.get("/subscriptions/cancel")
    assert confirm.status_code == 200
    page = " ".join(confirm.get_data(as_text=True).split())
    assert "Since its payment failed, cancelling stops the subscription at once, without a refund" in page
    assert "Cancel my subscription now" in page and "Cancel at the end of the period" not in page
    cancel_at_once(app, alice, standin, subscription["id"])


def retried(subscription: str) -> str:
    """The note of a past-due subscription whose payment Stripe still retries, naming ``subscription``."""
    return (
        f"A payment for {subscription} is still being retried at the payment provider: cancelling stops "
        "the retries and the subscription at once, without a refund."
    )


RETRIED = retried("your Pro subscription")
"""Its plan named whether it is stored or only in the billing-grace task's audit entry (it said "your
subscription" while the payment-failed notice beside it said "your Pro subscription")."""


def gratis_card(page: str) -> str:
    """The Gratis card of the plans page (whitespace collapsed)."""
    found = re.search(r'<article class="card plan[^"]*" data-plan="gratis">(.*?)</article>', page)
    assert found is not None, page
    return found.group(1)


def cancel_at_once(app: Flask, alice: Account, standin: StripeStandIn, subscription_id: str) -> None:
    """Confirm the cancellation (its form, CSRF-checked): Stripe cancels at once, the account is gratis."""
    confirm = alice.client.get("/subscriptions/cancel")
    before = billing_state(app, alice.id)
    assert alice.client.post("/subscriptions/cancel").status_code == 400  # no CSRF token
    assert billing_state(app, alice.id) == before
    done = alice.client.post("/subscriptions/cancel", data={"csrf_token": form_token(confirm)})
    assert (done.status_code, done.headers["Location"]) == (302, SUBSCRIPTIONS_URL)
    assert len(standin.requests_to("DELETE", f"/v1/subscriptions/{subscription_id}")) == 1
    assert standin.subscription(subscription_id)["status"] == "canceled"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("gratis", "canceled", None)
    assert alice.client.get("/subscriptions/cancel").headers["Location"] == "/subscriptions"
    for page in ("/subscriptions", "/dashboard"):
        text = alice.client.get(page).get_data(as_text=True)
        assert "still being retried" not in text and 'href="/subscriptions/cancel"' not in text, page


@pytest.mark.parametrize("set_to_end", [False, True], ids=["renewing", "set-to-end"])
@pytest.mark.parametrize("grace_task_ran", [False, True], ids=["stored-pro", "stored-gratis"])
def test_a_past_due_subscription_beyond_its_grace_period_can_be_cancelled_at_once(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    standin: StripeStandIn,
    set_to_end: bool,
    grace_task_ran: bool,
) -> None:
    """Beyond the grace period Gratis is the current plan, yet the subscription still exists and Stripe
    keeps retrying its payment: the plans page and the dashboard say so, naming the plan paid for (still
    stored, or once the grace task stored gratis, from its audit entry), and offer to cancel it at once."""
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    if set_to_end:
        deliver(client, portal_sets(standin, subscription["id"], True, now + 1))
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", now + 2))
    move_past_due_since(app, alice.id, days_ago=GRACE_DAYS + 1)
    if grace_task_ran:
        with app.app_context():
            assert billing.end_expired_grace_periods() == 1
    assert billing_state(app, alice.id).plan == "gratis"
    plans_page = " ".join(alice.client.get("/subscriptions").get_data(as_text=True).split())
    card = gratis_card(plans_page)
    assert "Current plan" in card and RETRIED in card
    assert '<a class="button" href="/subscriptions/cancel">Cancel my subscription</a>' in card
    dashboard = " ".join(alice.client.get("/dashboard").get_data(as_text=True).split())
    assert f'{RETRIED} <a href="/subscriptions/cancel">Cancel my subscription</a>' in dashboard
    confirm = alice.client.get("/subscriptions/cancel")
    assert confirm.status_code == 200
    page = " ".join(confirm.get_data(as_text=True).split())
    assert "Cancel your Pro subscription?" in page and "Gratis subscription" not in page
    assert RETRIED in page and "Cancel my subscription now" in page
    assert "The subscription is cancelled at once and nothing is refunded." in page
    cancel_at_once(app, alice, standin, subscription["id"])


def test_once_the_grace_task_stores_gratis_the_messages_name_the_plan_paid_for_from_its_audit_entry(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """The billing-grace task stores gratis for a past-due subscription beyond its grace period and says
    so in the audit log, with the plan it had: the payment-failed and plan-ending notices say "your Pro
    subscription", never "Gratis failed" or "Your Gratis plan ends"."""
    subscription = set_to_end_then_past_due(client, alice, standin)
    move_past_due_since(app, alice.id, days_ago=GRACE_DAYS + 1)
    with app.app_context():
        assert billing.end_expired_grace_periods() == 1
        [entry] = audit.entries(audit.AuditFilter(action="billing.grace_over"))
        assert (entry.actor_id, entry.actor_name, entry.target_id) == (
            None,
            "task billing-grace",
            str(alice.id),
        )
        assert audit.decoded(entry.before) == {"plan": "pro", "subscription": subscription["id"]}
        assert audit.decoded(entry.after) == {"plan": "gratis", "subscription": subscription["id"]}
    assert billing_state(app, alice.id).stored_plan == "gratis"
    ends_on = plan_messages.long_moment(period_end(subscription))
    failed = (
        "The last payment for your Pro subscription failed, so your page has the limits of Gratis until it "
        "is paid."
    )
    ending = f"Your Pro subscription ends on {ends_on} and will not renew."
    plans_page = " ".join(alice.client.get("/subscriptions").get_data(as_text=True).split())
    assert failed in plans_page and ending in plans_page
    confirm = " ".join(alice.client.get("/subscriptions/cancel").get_data(as_text=True).split())
    assert failed in confirm
    assert ending in " ".join(alice.client.get("/dashboard").get_data(as_text=True).split())
    for page in (plans_page, confirm):
        assert "for Gratis failed" not in page and "Your Gratis plan" not in page


def test_an_unpaid_subscription_on_gratis_can_be_cancelled_at_once(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Unpaid gives no paid plan, yet the subscription still exists at Stripe: it is offered to cancel."""
    subscription = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, subscription["id"], "unpaid", int(time.time()) + 1))
    assert billing_state(app, alice.id).plan == "gratis"
    may_bill = (
        "Your subscription still exists at the payment provider and may bill you: cancelling stops it at "
        "once, without a refund."
    )
    card = gratis_card(" ".join(alice.client.get("/subscriptions").get_data(as_text=True).split()))
    assert "Current plan" in card and may_bill in card and "still being retried" not in card
    assert '<a class="button" href="/subscriptions/cancel">Cancel my subscription</a>' in card
    page = " ".join(alice.client.get("/subscriptions/cancel").get_data(as_text=True).split())
    assert may_bill in page and "Cancel my subscription now" in page
    cancel_at_once(app, alice, standin, subscription["id"])


def test_a_subscription_in_good_standing_at_an_unknown_price_is_not_said_to_stop_at_once(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    """Gratis (its price is no plan's), yet cancelling it would wait for its period's end: not at once."""
    subscription = subscription_object(customer, "active", price_id="price_someone_elses")
    deliver(client, make_event("customer.subscription.updated", subscription))
    assert billing_state(app, alice.id).plan == "gratis"
    card = gratis_card(" ".join(alice.client.get("/subscriptions").get_data(as_text=True).split()))
    assert "Current plan" in card and "at once" not in card and "/subscriptions/cancel" not in card


def test_a_subscription_in_good_standing_set_to_end_has_nothing_more_to_cancel(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    assert alice.client.get("/subscriptions/cancel").headers["Location"] == "/subscriptions"
    again = alice.client.post("/subscriptions/cancel", data={"csrf_token": alice.csrf})
    assert (again.status_code, again.headers["Location"]) == (302, "/subscriptions")
    assert standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}") == []
    assert billing_state(app, alice.id).plan == "pro"


def test_when_stripe_refuses_and_cannot_be_asked_why_the_refusal_is_told_and_nothing_changes(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    before = billing_state(app, alice.id)
    standin.set_subscription_status(subscription["id"], "canceled")  # so the change is refused (400)
    standin.fail_next("GET", f"/v1/subscriptions/{subscription['id']}", status=500)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        response = checkout(alice, "gratis")
    assert response.status_code == 502
    message = response.get_json()["error"]["message"]
    assert message.startswith("The payment provider could not cancel your subscription. Nothing has changed")
    assert billing_state(app, alice.id) == before
    logged = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert any("could not be asked" in line for line in logged) and any("refused" in line for line in logged)


def test_an_answer_without_a_status_is_a_502_and_stores_nothing(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    before = billing_state(app, alice.id)
    standin.answer_next("POST", f"/v1/subscriptions/{subscription['id']}", {"id": subscription["id"]})
    response = checkout(alice, "gratis")
    assert response.status_code == 502
    assert "answer could not be read" in response.get_json()["error"]["message"]
    assert billing_state(app, alice.id) == before


# ---------------------------------------------------------------- a change Stripe answers late


def slow_app(make_app: AppFactory, standin: StripeStandIn) -> Flask:
    """The product with a one-second SERVICES.stripe.TIMEOUT."""
    return make_app(
        overrides=deep_merge(
            deep_merge(PLAN_OVERRIDES, stripe_overrides(standin.base_url)),
            {"SERVICES": {"stripe": {"TIMEOUT": 1}}},
        )
    )


def billing_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]


def test_a_cancellation_stripe_made_but_answered_late_is_asked_for_stored_and_told_as_done(
    make_app: AppFactory, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    app = slow_app(make_app, standin)
    alice = sign_up(app, "alice")
    subscription = subscribe_to_pro(app.test_client(), alice, standin)
    standin.answer_late("POST", f"/v1/subscriptions/{subscription['id']}", 3)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        response = checkout(alice, "gratis")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is True
    assert billing_state(app, alice.id).plan_ends_at == period_end(subscription)
    assert ">Keep my subscription</button>" in alice.client.get("/subscriptions").get_data(as_text=True)
    logged = billing_log(caplog)
    assert any("did not answer" in line for line in logged), logged
    assert not any("refused" in line for line in logged), logged
    standin.answer_late("POST", f"/v1/subscriptions/{subscription['id']}", 3)
    kept = keep(alice, as_json=True)
    assert kept.status_code == 200, kept.get_data(as_text=True)
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is False
    assert billing_state(app, alice.id).plan_ends_at is None


def test_a_change_stripe_neither_answers_nor_can_be_asked_about_is_502_without_saying_nothing_changed(
    make_app: AppFactory, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    app = slow_app(make_app, standin)
    alice = sign_up(app, "alice")
    subscription = subscribe_to_pro(app.test_client(), alice, standin)
    before = billing_state(app, alice.id)
    standin.answer_late("POST", f"/v1/subscriptions/{subscription['id']}", 3)
    standin.fail_next("GET", f"/v1/subscriptions/{subscription['id']}", status=500)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        response = checkout(alice, "gratis")
    assert response.status_code == 502
    message = response.get_json()["error"]["message"]
    assert message == (
        "We could not confirm the change with the payment provider: reload this page in a minute to see "
        "your subscription as it stands."
    )
    assert billing_state(app, alice.id) == before
    logged = billing_log(caplog)
    assert any("did not answer" in line for line in logged) and not any("refused" in line for line in logged)


def test_a_change_stripe_answered_late_without_making_it_is_502_and_stores_what_stripe_has(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    app = slow_app(make_app, standin)
    alice = sign_up(app, "alice")
    subscription = subscribe_to_pro(app.test_client(), alice, standin)
    standin.slow_down("POST", f"/v1/subscriptions/{subscription['id']}", 3)  # not made before the timeout
    response = checkout(alice, "gratis")
    standin.slow_down("POST", f"/v1/subscriptions/{subscription['id']}", 0)
    assert response.status_code == 502
    assert "has not made the change" in response.get_json()["error"]["message"]
    assert billing_state(app, alice.id).plan_ends_at is None


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_keeping_asks_stripe_when_the_stored_state_says_nothing_ends(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, as_json: bool
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    standin.set_cancel_at_period_end(subscription["id"], True)  # made at Stripe, its webhook not yet here
    assert billing_state(app, alice.id).plan_ends_at is None
    response = keep(alice, as_json)
    assert response.status_code == (200 if as_json else 302), response.get_data(as_text=True)
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is False
    assert billing_state(app, alice.id).plan_ends_at is None


@pytest.mark.parametrize("path", ["/subscriptions/keep", "/subscriptions/cancel"])
def test_logged_out_keep_and_cancel_are_a_login_before_the_csrf_check(app: Flask, path: str) -> None:
    stranger = app.test_client()
    form = stranger.post(path, data={}, headers={"Referer": "http://localhost/subscriptions"})
    assert form.status_code == 302, form.get_data(as_text=True)
    assert form.headers["Location"].startswith("/login"), form.headers["Location"]
    as_json = stranger.post(path, json={}, headers=JSON)
    assert as_json.status_code == 401, as_json.get_data(as_text=True)
    assert as_json.get_json()["error"]["code"] == "unauthorized"


# ---------------------------------------------------------------- what the pages say


def test_keep_tells_each_case_with_nothing_to_keep_its_own_sentence(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    gratis = keep(alice, as_json=True)
    assert gratis.status_code == 409
    assert gratis.get_json()["error"]["message"] == "You have no subscription, so there is nothing to keep."
    subscription = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, subscription["id"], "canceled", int(time.time()) + 1))
    ended = keep(alice, as_json=True)
    assert ended.status_code == 409
    assert ended.get_json()["error"]["message"] == (
        "Your subscription has already ended: choose a plan to subscribe again."
    )


def test_an_end_that_has_passed_before_stripes_webhook_is_said_to_have_ended_without_keep(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscribe_to_pro(client, alice, standin)
    assert checkout(alice, "gratis").status_code == 200
    past = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.plan_ends_at = past  # Stripe's customer.subscription.deleted is late
        db.session.commit()
    ended = "Your Pro plan ended on 5 December 2026, 09:30 UTC; the payment provider has yet to confirm it."
    for path in ("/subscriptions", "/dashboard"):
        page = alice.client.get(path).get_data(as_text=True)
        assert ended in page, path
        assert "Keep my subscription" not in page and "change your mind" not in page, path
        assert "ends on" not in page, path
    assert "once the payment provider confirms the end" in alice.client.get("/subscriptions").get_data(
        as_text=True
    )
    pro = checkout(alice, "pro")
    assert pro.status_code == 409
    assert pro.get_json()["error"]["message"].startswith(ended)
    assert "Keep my subscription" not in pro.get_json()["error"]["message"]


def test_the_end_of_a_cancelled_subscription_is_written_with_its_utc_time(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    ends = period_end(subscription)
    confirm = " ".join(alice.client.get("/subscriptions/cancel").get_data(as_text=True).split())
    assert f"You keep Pro until {ends.day} {ends:%B %Y, %H:%M} UTC;" in confirm
    assert checkout(alice, "gratis").status_code == 200
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert f"Your Pro plan ends on {ends.day} {ends:%B %Y, %H:%M} UTC and will not renew." in page


def paid_before_0034(app: Flask, user_id: int) -> None:
    """Forget the stored period's end, as for a subscription paid for before revision 0034."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.period_ends_at = None
        db.session.commit()


def test_a_period_end_paid_before_0034_is_asked_for_once_and_the_confirmation_says_the_date(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    paid_before_0034(app, alice.id)
    ends = period_end(subscription)
    path = f"/v1/subscriptions/{subscription['id']}"
    calls = len(standin.requests_to("GET", path))
    confirm = " ".join(alice.client.get("/subscriptions/cancel").get_data(as_text=True).split())
    assert f"You keep Pro until {plan_messages.long_moment(ends)}; then" in confirm
    assert "the end of the period you paid for" not in confirm
    assert billing_state(app, alice.id).plan_and_ends() == ("pro", "active", None, ends)
    assert standin.requests_to("POST", path) == []  # only asked: nothing is cancelled before the confirmation
    alice.client.get("/subscriptions/cancel")
    assert len(standin.requests_to("GET", path)) == calls + 1  # stored: asked once
    paid_before_0034(app, alice.id)
    done = alice.client.post("/subscriptions/cancel", data={"csrf_token": alice.csrf})
    assert done.status_code == 302
    state = billing_state(app, alice.id)
    assert (state.plan_ends_at, state.period_ends_at) == (ends, ends)  # from the cancellation's answer


def test_the_plans_page_says_the_period_end_it_knows_and_the_words_when_it_does_not(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """The Gratis card's hint names the day and UTC time a cancellation would stop the subscription; a
    period's end not stored (paid before 0034) is not asked for by the plans page: it keeps the words."""
    subscription = subscribe_to_pro(client, alice, standin)
    ends_on = plan_messages.long_moment(period_end(subscription))
    page = " ".join(alice.client.get("/subscriptions").get_data(as_text=True).split())
    assert (
        f"Your subscription stops on {ends_on}, the end of the period you paid for: you keep Pro until then."
    ) in page
    paid_before_0034(app, alice.id)
    calls = len(standin.requests)
    page = " ".join(alice.client.get("/subscriptions").get_data(as_text=True).split())
    assert "Your subscription stops at the end of the period you paid for: you keep Pro until then." in page
    assert ends_on not in page
    assert standin.requests[calls:] == []


def test_a_period_end_stripe_cannot_tell_leaves_the_confirmation_without_a_date(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    paid_before_0034(app, alice.id)
    before = billing_state(app, alice.id)
    standin.fail_next("GET", f"/v1/subscriptions/{subscription['id']}", status=500)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        confirm = alice.client.get("/subscriptions/cancel")
    assert confirm.status_code == 200
    text = " ".join(confirm.get_data(as_text=True).split())
    assert "You keep Pro until the end of the period you paid for; then" in text
    assert billing_state(app, alice.id) == before
    [logged] = billing_log(caplog)
    assert subscription["id"] in logged and "period's end" in logged, logged


def test_a_subscription_stripe_set_to_end_meanwhile_has_no_confirmation(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    paid_before_0034(app, alice.id)
    standin.set_cancel_at_period_end(subscription["id"], True)  # in the portal; its webhook not yet here
    assert alice.client.get("/subscriptions/cancel").headers["Location"] == "/subscriptions"
    assert billing_state(app, alice.id).plan_ends_at == period_end(subscription)


@pytest.mark.parametrize("with_keep", [True, False], ids=["keep", "cancel"])
def test_a_refused_form_leads_back_to_its_page_so_a_reload_sends_nothing_again(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, with_keep: bool
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    if with_keep:
        assert checkout(alice, "gratis").status_code == 200
        deliver(client, portal_sets(standin, subscription["id"], False, int(time.time()) + 1))  # another tab
        response = keep(alice)
        page, reason = "/subscriptions", "it renews as before"
    else:
        standin.fail_next("POST", f"/v1/subscriptions/{subscription['id']}", status=500)
        response = alice.client.post("/subscriptions/cancel", data={"csrf_token": alice.csrf})
        page, reason = "/subscriptions/cancel", "could not cancel your subscription. Nothing has changed"
    text = refused_page(alice, response, page)
    assert reason in text
    again = alice.client.get(page)  # the reload: a GET of the page, the reason said once
    assert again.status_code == 200 and reason not in again.get_data(as_text=True)


def test_the_dashboard_tells_a_failed_payment_within_the_grace_period_and_where_to_pay(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Stripe's mails aside, the dashboard is where a creator looks: a failed payment is said there too,
    with until when the plan is kept, not only on the plans page."""
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    dashboard = " ".join(alice.client.get("/dashboard").get_data(as_text=True).split())
    assert 'id="payment-failed"' not in dashboard
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", now + 1))
    dashboard = " ".join(alice.client.get("/dashboard").get_data(as_text=True).split())
    notice = re.search(r'<p id="payment-failed"[^>]*>(.*?)</p>', dashboard)
    assert notice is not None, dashboard
    assert notice.group(1).startswith("The last payment for Pro failed: you keep Pro until ")
    assert "UTC. Update your payment method under Manage billing." in notice.group(1)
    assert '<a href="/subscriptions">Plans and billing</a>' in notice.group(1)


def test_without_the_grace_tasks_audit_entry_the_messages_say_your_subscription(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Moved to gratis before the task wrote audit entries (or by an entry about another subscription):
    which paid plan it was is not known, so the notices say "your subscription", never "Gratis failed"."""
    subscription = set_to_end_then_past_due(client, alice, standin)
    move_past_due_since(app, alice.id, days_ago=GRACE_DAYS + 1)
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.subscription_plan = "gratis"  # as the task did before it wrote its entry
        db.session.commit()
    ends_on = plan_messages.long_moment(period_end(subscription))
    plans_page = " ".join(alice.client.get("/subscriptions").get_data(as_text=True).split())
    assert (
        "The last payment for your subscription failed, so your page has the limits of Gratis" in plans_page
    )
    assert f"Your subscription ends on {ends_on} and will not renew." in plans_page
    assert retried("your subscription") in plans_page
