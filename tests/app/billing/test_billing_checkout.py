"""Choosing a plan: gratis cancels a live subscription, a lingering one is cancelled before a new checkout,
the portal's failures, a missing plan id, and Stripe calls that ignore proxy variables on loopback."""

from __future__ import annotations

import logging
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import plan_messages
from conexoos.app.services import stripe_gateway
from conexoos.framework.config import deep_merge
from conexoos.framework.redaction import redact_credentials
from tests.conftest import AppFactory
from tests.support.stripe_standin import SessionExpired, StripeStandIn, make_event

from ..billing_support import (
    PLAN_OVERRIDES,
    PLANS,
    SUBSCRIPTIONS_URL,
    billing_app,
    billing_state,
    checkout,
    deliver,
    period_end,
    post_webhook,
    start_paid_checkout,
    store_customer,
    stripe_ends_period,
    stripe_overrides,
    stripe_sets_status,
    subscribe_to_pro,
)
from ..conftest import Account, form_token, sign_up

pytestmark = pytest.mark.database_matrix
GRATIS_ANSWER = {"redirect_url": SUBSCRIPTIONS_URL}


# ---------------------------------------------------------------- gratis with a live subscription


@pytest.mark.parametrize("status", ["past_due", "unpaid", "incomplete"])
def test_gratis_cancels_a_subscription_not_in_good_standing_at_once(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, status: str
) -> None:
    """Nothing paid is left to keep: billing stops at once, as before."""
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    deliver(client, stripe_sets_status(standin, subscription["id"], status, now + 1))
    response = checkout(alice, "gratis")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == GRATIS_ANSWER
    [cancel] = standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}")
    assert cancel.headers["Authorization"] == "Bearer sk_test_x"
    assert standin.requests_to("POST", f"/v1/subscriptions/{subscription['id']}") == []
    assert standin.subscription(subscription["id"])["status"] == "canceled"  # Stripe stops billing
    state = billing_state(app, alice.id)
    assert (state.stored_plan, state.plan, state.status, state.past_due_since, state.plan_ends_at) == (
        "gratis",
        "gratis",
        "canceled",
        None,
        None,
    )
    # Stripe's customer.subscription.deleted follows: nothing changes.
    ended = standin.subscription(subscription["id"])
    deliver(client, make_event("customer.subscription.deleted", ended, created=now + 5))
    assert billing_state(app, alice.id) == state


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_gratis_ends_a_subscription_in_good_standing_with_its_period_and_keeps_the_plan_until_then(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, status: str
) -> None:
    now = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=now)
    if status != "active":
        deliver(client, stripe_sets_status(standin, subscription["id"], status, now + 1))
    response = checkout(alice, "gratis")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"redirect_url": SUBSCRIPTIONS_URL}
    [scheduled] = standin.requests_to("POST", f"/v1/subscriptions/{subscription['id']}")
    assert scheduled.params == {"cancel_at_period_end": "true"}
    assert standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}") == []
    assert standin.subscription(subscription["id"])["status"] == status  # still runs
    state = billing_state(app, alice.id)
    ends = period_end(subscription)
    assert (state.stored_plan, state.plan, state.status, state.plan_ends_at, state.period_ends_at) == (
        "pro",
        "pro",
        status,
        ends,
        ends,
    )
    # The period ends: Stripe cancels it and says so; the account moves to Gratis then.
    deliver(client, stripe_ends_period(standin, subscription["id"], now + 5))
    assert billing_state(app, alice.id).plan_and_ends() == ("gratis", "canceled", None, None)


@pytest.mark.parametrize(("method", "status"), [("POST", "active"), ("DELETE", "past_due")])
def test_gratis_when_stripe_cannot_cancel_is_502_and_changes_nothing(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, method: str, status: str
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    if status != "active":
        deliver(client, stripe_sets_status(standin, subscription["id"], status, int(time.time()) + 1))
    before = billing_state(app, alice.id)
    standin.fail_next(method, f"/v1/subscriptions/{subscription['id']}", status=500)
    response = checkout(alice, "gratis")
    assert response.status_code == 502
    assert set(response.get_json()["error"]) == {"code", "message", "field"}
    assert billing_state(app, alice.id) == before
    stored = standin.subscription(subscription["id"])
    assert (stored["status"], stored["cancel_at_period_end"]) == (status, False)


def test_gratis_for_a_subscription_stripe_already_ended_still_moves_to_gratis(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Stripe refuses (400) to schedule the end of a subscription that has ended: what it has is stored."""
    subscription = subscribe_to_pro(client, alice, standin)
    standin.set_subscription_status(subscription["id"], "canceled")  # its webhook has not arrived yet
    assert checkout(alice, "gratis").get_json() == GRATIS_ANSWER
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("gratis", "canceled", None)


def test_the_subscriptions_page_offers_gratis_to_a_subscriber(
    client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert (
        '<a class="button" href="/subscriptions/cancel">Cancel subscription and switch to Gratis</a>' in page
    )
    ends_on = plan_messages.long_moment(period_end(subscription))
    assert (
        f"Your subscription stops on {ends_on}, the end of the period you paid for: you keep Pro until then."
    ) in page
    assert 'class="choose-plan" data-plan="gratis"' not in page  # no one-click cancellation


def test_cancelling_asks_first_without_javascript_then_ends_with_the_period_and_can_be_kept(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    ends_on = plan_messages.long_moment(period_end(subscription))
    confirm = alice.client.get("/subscriptions/cancel")
    assert confirm.status_code == 200
    page = " ".join(confirm.get_data(as_text=True).split())
    assert "Cancel your Pro subscription?" in page
    assert f"You keep Pro until {ends_on}; then your page has the limits of Gratis: 3 links" in page
    assert "hidden from your page, never deleted" in page and "nothing more is charged" in page
    assert "Cancel at the end of the period" in page
    assert standin.requests_to("POST", f"/v1/subscriptions/{subscription['id']}") == []
    assert billing_state(app, alice.id).plan_ends_at is None  # asking changed nothing
    without_token = alice.client.post("/subscriptions/cancel")
    assert without_token.status_code == 400
    assert billing_state(app, alice.id).plan_ends_at is None

    done = alice.client.post("/subscriptions/cancel", data={"csrf_token": form_token(confirm)})
    assert done.status_code == 302 and done.headers["Location"] == SUBSCRIPTIONS_URL
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is True
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("pro", "active", period_end(subscription))
    ending = f"Your Pro plan ends on {ends_on} and will not renew."
    plans_page = alice.client.get(done.headers["Location"])
    text = plans_page.get_data(as_text=True)
    assert ending in text and ">Keep my subscription</button>" in text
    assert f"Your page moves to Gratis on {ends_on}." in text
    assert "/subscriptions/cancel" not in text  # nothing more to cancel
    dashboard = alice.client.get("/dashboard").get_data(as_text=True)
    assert ending in dashboard and 'action="/subscriptions/keep"' in dashboard
    assert alice.client.get("/subscriptions/cancel").headers["Location"] == "/subscriptions"

    kept = alice.client.post("/subscriptions/keep", data={"csrf_token": form_token(plans_page)})
    assert kept.status_code == 302 and kept.headers["Location"] == "/subscriptions"
    [_, resumed] = standin.requests_to("POST", f"/v1/subscriptions/{subscription['id']}")
    assert resumed.params == {"cancel_at_period_end": "false"}
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is False
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at) == ("pro", "active", None)
    text = alice.client.get(kept.headers["Location"]).get_data(as_text=True)
    assert "Your Pro subscription goes on: it renews as before." in text and ending not in text
    assert ending not in alice.client.get("/dashboard").get_data(as_text=True)


def test_a_past_due_subscription_is_said_to_be_cancelled_at_once_before_confirming(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", int(time.time()) + 1))
    plans_page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert "Cancelling stops it at once, without a refund." in plans_page  # what would happen, not a fact
    confirm = alice.client.get("/subscriptions/cancel")
    page = " ".join(confirm.get_data(as_text=True).split())
    until = re.search(r"you keep Pro until (\d+ \w+ \d{4}, \d\d:\d\d UTC)\.", page)
    assert until is not None, page  # the past-due notice: the day and the UTC time
    assert (
        "Since its payment failed, cancelling stops the subscription at once, without a refund, and you no "
        "longer keep Pro until then: your page has the limits of Gratis"
    ) in page
    assert "until you confirm" not in page
    assert "Cancel my subscription now" in page
    done = alice.client.post("/subscriptions/cancel", data={"csrf_token": form_token(confirm)})
    assert done.headers["Location"] == SUBSCRIPTIONS_URL
    assert standin.subscription(subscription["id"])["status"] == "canceled"
    assert billing_state(app, alice.id).plan == "gratis"


def test_a_cancellation_stripe_refuses_shows_why_on_the_confirmation(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    token = form_token(alice.client.get("/subscriptions/cancel"))
    standin.fail_next("POST", f"/v1/subscriptions/{subscription['id']}", status=500)
    refused = alice.client.post("/subscriptions/cancel", data={"csrf_token": token})
    assert (refused.status_code, refused.headers["Location"]) == (302, "/subscriptions/cancel")
    page = alice.client.get("/subscriptions/cancel").get_data(as_text=True)
    assert (
        "could not cancel your subscription" in page and "Nothing has changed; try again in a minute." in page
    )
    assert "Cancel at the end of the period" in page
    state = billing_state(app, alice.id)
    assert (state.plan, state.plan_ends_at) == ("pro", None)


def test_the_cancel_confirmation_is_a_page_like_the_others_once_logged_out(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Logged out, it answered the API's 401 and 400 in JSON, which the browser showed raw; its form is
    sent to the login page, not told its CSRF token failed."""
    bounced = app.test_client().get("/subscriptions/cancel")
    assert (bounced.status_code, bounced.headers["Location"]) == (302, "/login?next=/subscriptions/cancel")
    subscribe_to_pro(client, alice, standin)
    token = form_token(alice.client.get("/subscriptions/cancel"))
    alice.client.post("/logout", data={"csrf_token": token})  # logged out in another tab
    on_the_page = {"Referer": "http://localhost/subscriptions/cancel"}
    refused = alice.client.post("/subscriptions/cancel", data={"csrf_token": token}, headers=on_the_page)
    # The login is checked before the CSRF token (whose session ended): the login page, then back here.
    assert (refused.status_code, refused.headers["Location"]) == (302, "/login?next=/subscriptions/cancel")
    assert billing_state(app, alice.id).plan == "pro"
    # The calls the subscriptions page's script makes still answer in JSON.
    for call in ("/subscriptions/checkout", "/subscriptions/portal"):
        answer = app.test_client().post(call, data={"plan_id": "pro"})
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (401, "unauthorized"), call


# ---------------------------------------------------------------- a lingering subscription


@pytest.mark.parametrize("status", ["unpaid", "incomplete"])
def test_a_lingering_subscription_is_cancelled_before_a_new_checkout(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, status: str
) -> None:
    old = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, old["id"], status, int(time.time()) + 1))
    response = checkout(alice, "pro")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(standin.requests_to("DELETE", f"/v1/subscriptions/{old['id']}")) == 1
    assert standin.subscription(old["id"])["status"] == "canceled"
    assert billing_state(app, alice.id).status == "canceled"
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 2


def test_a_lingering_subscription_stripe_reports_paid_again_is_kept(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    old = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, old["id"], "unpaid", int(time.time()) + 1))
    standin.set_subscription_status(old["id"], "active")  # paid in the portal; the webhook is on its way
    response = checkout(alice, "pro")
    assert response.status_code == 409
    assert standin.requests_to("DELETE", f"/v1/subscriptions/{old['id']}") == []
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert (billing_state(app, alice.id).plan, billing_state(app, alice.id).status) == ("pro", "active")


# ---------------------------------------------------------------- input and the portal


# ---------------------------------------------------------------- one subscription per customer


def test_a_new_checkout_expires_the_open_one_so_only_the_newest_can_be_paid(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    first = start_paid_checkout(alice, standin)  # another tab, or Back after opening Stripe
    second = start_paid_checkout(alice, standin)
    assert standin.checkout_session(first["id"])["status"] == "expired"
    assert standin.checkout_session(second["id"])["status"] == "open"
    with pytest.raises(SessionExpired):
        standin.complete_checkout(first["id"])
    assert billing_state(app, alice.id).plan == "gratis"


def test_a_checkout_opened_while_an_earlier_one_is_being_paid_is_409(
    app: Flask, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    first = start_paid_checkout(alice, standin)
    standin.fail_next("POST", f"/v1/checkout/sessions/{first['id']}/expire", status=400)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        response = checkout(alice, "pro")
    assert response.status_code == 409, response.get_data(as_text=True)
    assert "being paid right now" in response.get_json()["error"]["message"]
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert f"Stripe refused to expire checkout {first['id']}" in logged, logged  # the operator sees why
    assert standin.requests_to("POST", "/v1/checkout/sessions")[1:] == []  # no second session


def test_a_customer_deleted_at_stripe_is_replaced_by_a_new_one_and_the_checkout_opens(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleted in Stripe's dashboard (which cancels its subscriptions): Stripe never takes that id again,
    so the next checkout makes a new customer, and paying it gives the plan."""
    old = subscribe_to_pro(client, alice, standin)
    standin.delete_customer(old["customer"])
    deliver(client, make_event("customer.subscription.deleted", standin.subscription(old["id"])))
    assert billing_state(app, alice.id).plan == "gratis"
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        session = start_paid_checkout(alice, standin)  # the Upgrade button, once: no 409, no retry
    assert session["customer"] not in (None, old["customer"])
    assert standin.customer(session["customer"])["metadata"] == {"user_id": str(alice.id)}
    assert billing_state(app, alice.id).customer == session["customer"]
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert old["customer"] in logged and session["customer"] in logged, logged
    assert redact_credentials(logged) == logged  # the log's redactor leaves every word of it to be read
    paid, subscription = standin.complete_checkout(session["id"])
    assert deliver(client, make_event("checkout.session.completed", paid))["status"] == "applied"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.subscription) == ("pro", "active", subscription["id"])


@pytest.mark.parametrize("status", [400, 404])
def test_a_refused_look_for_earlier_checkouts_says_payments_are_unavailable_and_logs_why(
    app: Flask, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    start_paid_checkout(alice, standin)
    standin.fail_next("GET", "/v1/checkout/sessions", status=status)
    with caplog.at_level(logging.ERROR, logger="conexoos.billing"):
        response = checkout(alice, "pro")
    assert response.status_code == 502, response.get_data(as_text=True)
    message = response.get_json()["error"]["message"]
    assert message == f"The payment provider could not start the checkout. {UNAVAILABLE}"
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert f"HTTP {status}" in logged and "trying again will not help" in logged, logged
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 1  # no second session


def test_a_second_paid_subscription_replaces_the_first_which_is_cancelled(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Both paid before either webhook came (so the second checkout could not see the first): the later
    one applied cancels the earlier at Stripe, and nothing about the earlier changes the account again."""
    first_session = start_paid_checkout(alice, standin)
    first_paid, first = standin.complete_checkout(first_session["id"])
    second_session = start_paid_checkout(alice, standin)
    second_paid, second = standin.complete_checkout(second_session["id"])
    assert first is not None and second is not None
    assert deliver(client, make_event("checkout.session.completed", first_paid))["status"] == "applied"
    answer = deliver(client, make_event("checkout.session.completed", second_paid))
    assert answer["status"] == "applied" and first["id"] in answer["detail"], answer
    assert standin.subscription(first["id"])["status"] == "canceled"  # it bills no more
    assert standin.subscription(second["id"])["status"] == "active"
    state = billing_state(app, alice.id)
    assert (state.subscription, state.plan, state.status) == (second["id"], "pro", "active")
    # Stripe's own events about the first follow; they change nothing.
    ended = standin.subscription(first["id"])
    deliver(client, make_event("customer.subscription.deleted", ended))
    deliver(client, make_event("customer.subscription.updated", dict(ended, status="active")))
    state = billing_state(app, alice.id)
    assert (state.subscription, state.plan, state.status) == (second["id"], "pro", "active")
    # "Cancel" now leaves nothing billing after the period paid for.
    assert checkout(alice, "gratis").status_code == 200
    assert standin.subscription(first["id"])["status"] == "canceled"
    assert standin.subscription(second["id"])["cancel_at_period_end"] is True


def test_a_late_event_about_an_older_subscription_cancels_it_not_the_newer(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    """Re-check: whichever event came last won, so a retried event about the older subscription cancelled
    the customer's newer choice. The newest subscription is kept, in any order of events."""
    now = int(time.time())
    first_session = start_paid_checkout(alice, standin)
    standin.clock = lambda: now - 3600
    older_paid, older = standin.complete_checkout(first_session["id"])
    second_session = start_paid_checkout(alice, standin)
    standin.clock = lambda: now
    newer_paid, newer = standin.complete_checkout(second_session["id"])
    assert older is not None and newer is not None
    assert deliver(client, make_event("checkout.session.completed", newer_paid))["status"] == "applied"
    late = deliver(client, make_event("checkout.session.completed", older_paid, created=now - 3500))
    assert late["status"] == "ignored" and "which the account keeps" in late["detail"], late
    assert standin.subscription(older["id"])["status"] == "canceled"  # it bills no more
    assert standin.subscription(newer["id"])["status"] == "active"
    state = billing_state(app, alice.id)
    assert (state.subscription, state.plan, state.status) == (newer["id"], "pro", "active")


def test_when_stripe_cannot_cancel_the_replaced_subscription_the_event_is_retried(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    first_session = start_paid_checkout(alice, standin)
    first_paid, first = standin.complete_checkout(first_session["id"])
    second_session = start_paid_checkout(alice, standin)
    second_paid, second = standin.complete_checkout(second_session["id"])
    assert first is not None and second is not None
    deliver(client, make_event("checkout.session.completed", first_paid))
    event = make_event("checkout.session.completed", second_paid)
    standin.fail_next("DELETE", f"/v1/subscriptions/{first['id']}")
    assert post_webhook(client, event).status_code == 503  # Stripe delivers it again later
    assert billing_state(app, alice.id).subscription == first["id"]
    assert deliver(client, event)["status"] == "applied"  # the retry
    assert standin.subscription(first["id"])["status"] == "canceled"
    assert billing_state(app, alice.id).subscription == second["id"]


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/v1/customers", {"unexpected": True}),
        ("/v1/customers", [1]),
        ("/v1/checkout/sessions", {"id": "cs_x", "url": None}),
        ("/v1/checkout/sessions", None),
        ("GET /v1/checkout/sessions", {"data": "nope"}),
    ],
    ids=["customer-without-id", "customer-a-list", "session-without-url", "session-null", "list-not-a-list"],
)
def test_an_answer_that_is_no_stripe_object_is_a_502(
    app: Flask, alice: Account, standin: StripeStandIn, path: str, answer: dict[str, object]
) -> None:
    """What answers at API_BASE may be no Stripe (a proxy, another API): a 500 with a traceback before."""
    if path.startswith("/v1/checkout/sessions"):
        start_paid_checkout(alice, standin)  # the customer exists
    method, _, path = path.rpartition(" ")
    standin.answer_next(method or "POST", path, answer)
    response = checkout(alice, "pro")
    assert response.status_code == 502, response.get_data(as_text=True)
    assert "payment provider could not start the checkout" in response.get_json()["error"]["message"]


def test_a_missing_plan_id_is_422_required(app: Flask, alice: Account, standin: StripeStandIn) -> None:
    for data in ({}, {"plan_id": ""}, {"plan_id": "   "}):
        response = alice.client.post(
            "/subscriptions/checkout",
            data=data,
            headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"},
        )
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert (error["code"], error["field"]) == ("required", "plan_id")
    assert standin.requests == []


def test_a_json_body_chooses_the_plan_like_the_form(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    """Like every other API call, a JSON body works; a body that is no object, or a plan_id that is no
    string, is refused saying so, and a missing one is the form's 422 required."""
    headers = {"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    chosen = alice.client.post("/subscriptions/checkout", json={"plan_id": "gratis"}, headers=headers)
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    assert chosen.get_json()["redirect_url"]
    for body, status, code in (
        ({}, 422, "required"),
        ({"plan_id": " "}, 422, "required"),
        ({"plan_id": 5}, 422, "invalid_type"),
        (["gratis"], 400, "bad_request"),
    ):
        response = alice.client.post("/subscriptions/checkout", json=body, headers=headers)
        assert response.status_code == status, (body, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == code
    broken = alice.client.post(
        "/subscriptions/checkout", data="{", headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and "not valid JSON" in broken.get_json()["error"]["message"]
    assert standin.requests == []


def test_the_portal_is_502_when_stripe_fails(app: Flask, alice: Account, standin: StripeStandIn) -> None:
    start_paid_checkout(alice, standin)
    standin.fail_next("POST", "/v1/billing_portal/sessions", status=500)
    response = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 502
    assert set(response.get_json()["error"]) == {"code", "message", "field"}


# ---------------------------------------------------------------- refusals trying again cannot mend

UNAVAILABLE = "Payments are unavailable on this site at the moment: please contact the people who run it."
TRY_AGAIN = "Try again in a minute."


def test_a_key_stripe_refuses_says_payments_are_unavailable_and_logs_why(
    make_app: AppFactory, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    alice = sign_up(billing_app(make_app, standin, secret_key="sk_test_revoked_key_0123456789"), "alice")
    with caplog.at_level(logging.ERROR, logger="conexoos.billing"):
        response = checkout(alice, "pro")
    assert response.status_code == 502
    message = response.get_json()["error"]["message"]
    assert message == f"The payment provider could not start the checkout. {UNAVAILABLE}"
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert "HTTP 401" in logged and "SERVICES.stripe.SECRET_KEY" in logged, logged
    assert "sk_test_revoked_key_0123456789" not in logged


def test_a_price_stripe_does_not_know_says_payments_are_unavailable_and_logs_why(
    make_app: AppFactory, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = deep_merge(PLAN_OVERRIDES, stripe_overrides(standin.base_url))
    plans = {**PLANS, "pro": {**PLANS["pro"], "PRICE_ID": "price_deleted"}}
    overrides["APP"] = dict(overrides["APP"], PLANS=plans)  # PLAN_OVERRIDES itself stays as it is
    alice = sign_up(make_app(overrides=overrides), "alice")
    with caplog.at_level(logging.ERROR, logger="conexoos.billing"):
        response = checkout(alice, "pro")
    assert response.status_code == 502
    assert response.get_json()["error"]["message"].endswith(UNAVAILABLE)
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert "price_deleted" in logged and "HTTP 400" in logged and "PRICE_ID" in logged, logged


@pytest.mark.parametrize(
    ("status", "lasting"),
    [(400, True), (401, True), (403, True), (404, True), (429, False), (500, False), (503, False)],
)
def test_the_portal_says_try_again_only_when_trying_again_may_help(
    app: Flask, alice: Account, standin: StripeStandIn, status: int, lasting: bool
) -> None:
    start_paid_checkout(alice, standin)
    standin.fail_next("POST", "/v1/billing_portal/sessions", status=status)
    response = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 502
    message = response.get_json()["error"]["message"]
    said = UNAVAILABLE if lasting else TRY_AGAIN
    assert message == f"The payment provider could not open the billing portal. {said}"


@pytest.mark.parametrize(("status", "lasting"), [(401, True), (403, True), (500, False)])
def test_gratis_when_stripe_refuses_to_cancel_says_whether_to_try_again(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, status: int, lasting: bool
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    standin.fail_next("POST", f"/v1/subscriptions/{subscription['id']}", status=status)
    response = checkout(alice, "gratis")
    assert response.status_code == 502
    message = response.get_json()["error"]["message"]
    assert message.startswith("The payment provider could not cancel your subscription")
    assert (UNAVAILABLE in message, "try again in a minute" in message) == (lasting, not lasting), message
    assert "Nothing has changed" in message
    state = billing_state(app, alice.id)
    assert (state.plan, state.plan_ends_at) == ("pro", None)


def test_a_stripe_that_hangs_is_given_up_after_the_timeout_and_said_to_try_again(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    overrides = deep_merge(PLAN_OVERRIDES, stripe_overrides(standin.base_url))
    alice = sign_up(
        make_app(overrides=deep_merge(overrides, {"SERVICES": {"stripe": {"TIMEOUT": 1}}})), "alice"
    )
    standin.slow_down("POST", "/v1/checkout/sessions", 30)
    started = time.monotonic()
    response = checkout(alice, "pro")
    waited = time.monotonic() - started
    assert response.status_code == 502
    assert response.get_json()["error"]["message"] == (
        f"The payment provider could not start the checkout. {TRY_AGAIN}"
    )
    # Asked once and given up after TIMEOUT: a timeout is not tried again (three tries of 15 s before).
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert waited < 10, waited


def test_the_portal_without_stripe_keys_is_409(make_app: AppFactory) -> None:
    app = billing_app(make_app, None)
    alice = sign_up(app, "alice")
    store_customer(app, alice.id, "cus_old")
    response = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


# ---------------------------------------------------------------- proxies


def test_stripe_calls_to_a_loopback_api_base_ignore_proxy_variables(
    app: Flask, alice: Account, standin: StripeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    response = checkout(alice, "pro")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 1


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:4000", True),
        ("http://127.8.0.3", True),
        ("http://[::1]:8080", True),
        ("http://localhost:12111", True),
        ("https://api.stripe.com", False),
        ("http://10.0.0.5:8080", False),
    ],
)
def test_loopback_hosts_are_recognised(url: str, loopback: bool) -> None:
    assert stripe_gateway.is_loopback(url) is loopback
