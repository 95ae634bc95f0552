"""Subscriptions: choosing a plan, Stripe Checkout and portal on the stand-in, and signed webhooks."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import billing
from conexoos.app.models.persistent import User
from conexoos.framework import db
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn, make_event, sign_payload, webhook_request

from ..billing_support import (
    GRACE_DAYS,
    GRATIS_LIMITS,
    PRO_LIMITS,
    PRO_PRICE,
    SUBSCRIPTIONS_URL,
    WEBHOOK_SECRET,
    all_billing_states,
    billing_app,
    billing_state,
    browser,
    checkout,
    deliver,
    move_past_due_since,
    post_webhook,
    start_paid_checkout,
    stored_event_ids,
    stripe_sets_status,
    subscribe_to_pro,
    subscription_event,
    subscription_object,
)
from ..conftest import Account, form_token, sign_up

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB


def set_stored_plan(app: Flask, user_id: int, plan: str, status: str = "") -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.subscription_plan, user.subscription_status = plan, status
        db.session.commit()


# ---------------------------------------------------------------- POST /subscriptions/checkout


def test_checkout_needs_a_csrf_token(app: Flask, alice: Account, standin: StripeStandIn) -> None:
    for headers in ({}, {"X-CSRFToken": "forged"}):
        response = alice.client.post("/subscriptions/checkout", data={"plan_id": "pro"}, headers=headers)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "csrf_failed"
    assert standin.requests == []
    assert billing_state(app, alice.id).customer is None


def test_checkout_needs_a_login(client: FlaskClient, standin: StripeStandIn) -> None:
    token = form_token(client.get("/login"))
    for path in ("/subscriptions/checkout", "/subscriptions/portal"):
        response = client.post(path, data={"plan_id": "pro"}, headers={"X-CSRFToken": token})
        assert response.status_code == 401
        assert "Location" not in response.headers
    assert standin.requests == []


def test_gratis_is_set_at_once_and_answers_the_seeds_shape(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    set_stored_plan(app, alice.id, "pro", status="canceled")
    response = alice.client.post(
        "/subscriptions/checkout", data={"plan_id": "gratis", "csrf_token": alice.csrf}
    )
    assert response.status_code == 200
    assert response.get_json() == {"redirect_url": SUBSCRIPTIONS_URL}
    assert billing_state(app, alice.id).stored_plan == "gratis"
    assert standin.requests == []


def test_gratis_while_a_paid_subscription_is_active_ends_it_with_its_period(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    response = checkout(alice, "gratis")
    assert response.status_code == 200
    assert response.get_json() == {"redirect_url": SUBSCRIPTIONS_URL}
    assert standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}") == []
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is True
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.plan_ends_at is not None) == ("pro", "active", True)


def test_a_paid_plan_creates_a_checkout_session_with_one_reused_customer(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    first = checkout(alice, "pro")
    assert first.status_code == 200
    [created] = standin.requests_to("POST", "/v1/checkout/sessions")
    params = created.params
    session_id = first.get_json()["redirect_url"].rsplit("/", 1)[1]
    session = standin.checkout_session(session_id)
    assert first.get_json() == {"redirect_url": session["url"]}
    assert session["url"] == f"{standin.base_url}/checkout/{session_id}"
    assert params["mode"] == "subscription"
    assert params["client_reference_id"] == str(alice.id)
    assert params["line_items"][0]["price"] == PRO_PRICE
    assert params["success_url"].startswith(f"{SUBSCRIPTIONS_URL}?success=true")
    assert params["cancel_url"].startswith(SUBSCRIPTIONS_URL)

    [customer_request] = standin.requests_to("POST", "/v1/customers")
    customer_id = billing_state(app, alice.id).customer
    assert customer_id is not None and params["customer"] == customer_id
    stored = standin.customer(customer_id)
    assert stored["email"] == alice.email and stored["metadata"]["user_id"] == str(alice.id)
    assert customer_request.headers["Authorization"] == "Bearer sk_test_x"

    second = checkout(alice, "pro")
    assert second.status_code == 200 and second.get_json() != first.get_json()
    assert len(standin.requests_to("POST", "/v1/customers")) == 1
    later = standin.requests_to("POST", "/v1/checkout/sessions")[1].params
    assert later["customer"] == customer_id
    assert billing_state(app, alice.id).plan == "gratis"  # nothing changes until Stripe says it is paid


def test_each_user_gets_their_own_customer(
    app: Flask, alice: Account, bob: Account, standin: StripeStandIn
) -> None:
    assert start_paid_checkout(alice, standin)["customer"] != start_paid_checkout(bob, standin)["customer"]
    assert len(standin.requests_to("POST", "/v1/customers")) == 2


def test_installations_sharing_a_stripe_account_never_share_a_customer(
    make_app: AppFactory, standin: StripeStandIn, tmp_path: Path
) -> None:
    # Staging and a developer's machine often share one Stripe test account; both have a user 1.
    staging = billing_app(make_app, standin)
    laptop = billing_app(make_app, standin, database_url=f"sqlite:///{tmp_path / 'laptop.db'}")
    alice, carol = sign_up(staging, "alice"), sign_up(laptop, "carol")
    assert alice.id == carol.id
    alice_customer = start_paid_checkout(alice, standin)["customer"]
    carol_customer = start_paid_checkout(carol, standin)["customer"]
    assert alice_customer != carol_customer
    assert standin.customer(carol_customer)["email"] == carol.email


def test_a_subscriber_cannot_start_a_second_subscription(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscribe_to_pro(client, alice, standin)
    sessions = len(standin.requests_to("POST", "/v1/checkout/sessions"))
    response = checkout(alice, "pro")
    assert response.status_code == 409
    assert "portal" in response.get_json()["error"]["message"]
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == sessions
    assert len(standin.subscriptions()) == 1


@pytest.mark.parametrize("plan_id", ["platinum", "", "GRATIS", "pro " * 30])
def test_an_unknown_plan_is_422(app: Flask, alice: Account, standin: StripeStandIn, plan_id: str) -> None:
    response = checkout(alice, plan_id)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "plan_id"
    assert standin.requests == []


def test_a_key_stripe_refuses_is_a_502_and_changes_nothing(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    app = billing_app(make_app, standin, secret_key="sk_test_revoked")
    alice = sign_up(app, "alice")
    response = checkout(alice, "pro")
    assert response.status_code == 502
    assert "sk_test_revoked" not in response.get_data(as_text=True)
    assert len(standin.requests_to("POST", "/v1/customers")) == 1  # tried, refused with a 401
    assert billing_state(app, alice.id).customer is None


def test_without_stripe_keys_paid_plans_are_unavailable_and_gratis_works(make_app: AppFactory) -> None:
    app = billing_app(make_app, None)
    alice = sign_up(app, "alice")
    response = checkout(alice, "pro")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert checkout(alice, "gratis").get_json() == {"redirect_url": SUBSCRIPTIONS_URL}
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert 'data-plan="pro"' in page
    assert 'class="choose-plan" data-plan="pro"' not in page
    assert "Paid plans cannot be bought on this site." in page
    assert "Upgrade to" not in page
    assert post_webhook(app.test_client(), make_event("ping", {})).status_code == 503


def test_the_subscriptions_page_offers_pro_when_stripe_is_configured(alice: Account) -> None:
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    assert 'class="choose-plan" data-plan="pro"' in page
    assert "cannot be bought" not in page
    assert '<strong id="current-plan">Gratis</strong>' in page
    assert "€5.00 / month" in page


# ---------------------------------------------------------------- POST /subscriptions/portal


def test_the_portal_returns_the_stand_ins_url(
    app: Flask, alice: Account, customer: str, standin: StripeStandIn
) -> None:
    response = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 200
    url = response.get_json()["redirect_url"]
    [portal] = standin.requests_to("POST", "/v1/billing_portal/sessions")
    assert portal.params["customer"] == customer
    assert portal.params["return_url"] == SUBSCRIPTIONS_URL
    assert url.startswith(f"{standin.base_url}/billing_portal/bps_")
    with browser() as pages:
        assert pages.get(url, timeout=5).status_code == 200
    assert alice.client.post("/subscriptions/portal").status_code == 400  # CSRF


def test_the_portal_without_a_customer_is_409(alice: Account, standin: StripeStandIn) -> None:
    response = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert standin.requests == []


# ---------------------------------------------------------------- webhook: signatures


def test_a_bad_or_missing_signature_is_400_and_changes_nothing(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    event = subscription_event(customer, "active", int(time.time()))
    body, headers = webhook_request(event, WEBHOOK_SECRET)
    tampered = body.replace(b'"active"', b'"trialing"')
    stale = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)
    before = all_billing_states(app)
    cases = {
        "missing": (body, {"Content-Type": "application/json"}),
        "empty": (body, {"Stripe-Signature": ""}),
        "garbage": (body, {"Stripe-Signature": "not-a-signature"}),
        "not ascii": (body, {"Stripe-Signature": f"t={int(time.time())},v1=\xe9"}),
        "wrong secret": webhook_request(event, "whsec_someone_else"),
        "tampered body": (tampered, headers),
        "too old": (body, {"Stripe-Signature": stale}),
        "not json": (b"{", {"Stripe-Signature": sign_payload(b"{", WEBHOOK_SECRET)}),
    }
    for name, (payload, case_headers) in cases.items():
        response = client.post("/stripe/webhook", data=payload, headers=case_headers)
        assert response.status_code == 400, name
        assert response.get_json()["error"]["code"] == "bad_request", name
    assert all_billing_states(app) == before
    assert stored_event_ids(app) == []
    assert client.post("/stripe/webhook", data=body, headers=headers).status_code == 200  # the real one works
    assert billing_state(app, alice.id).plan == "pro"


# ---------------------------------------------------------------- webhook: idempotency and order


def test_a_duplicate_event_is_processed_once(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    standin.set_subscription_status(subscription["id"], "past_due")
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": subscription["customer"],
        "parent": {"subscription_details": {"subscription": subscription["id"]}},
    }
    event = make_event("invoice.payment_failed", invoice, created=int(time.time()) + 5)
    retrievals = f"/v1/subscriptions/{subscription['id']}"
    before = len(standin.requests_to("GET", retrievals))

    assert deliver(client, event)["status"] == "applied"
    assert len(standin.requests_to("GET", retrievals)) == before + 1
    first = billing_state(app, alice.id)
    assert first.status == "past_due" and first.past_due_since is not None

    again = deliver(client, copy.deepcopy(event))
    assert again["status"] == "duplicate"
    assert len(standin.requests_to("GET", retrievals)) == before + 1  # not processed a second time
    assert billing_state(app, alice.id) == first
    assert stored_event_ids(app).count(event["id"]) == 1


def test_a_duplicate_never_reapplies_an_old_state(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    now = int(time.time())
    active = subscription_event(customer, "active", now, event_id="evt_same")
    assert deliver(client, active)["status"] == "applied"
    assert billing_state(app, alice.id).plan == "pro"
    # The same id delivered again, even re-signed with a newer timestamp and changed content, is a duplicate.
    replay = subscription_event(customer, "canceled", now + 60, event_id="evt_same")
    assert deliver(client, replay)["status"] == "duplicate"
    assert billing_state(app, alice.id).plan == "pro"


def test_an_older_event_never_overwrites_newer_state(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    now = int(time.time())
    subscription_id = "sub_order"
    newer = subscription_event(customer, "canceled", now + 100, subscription_id=subscription_id)
    older = subscription_event(
        customer, "active", now, subscription_id=subscription_id, event_type="customer.subscription.created"
    )
    assert deliver(client, newer)["status"] == "applied"
    settled = billing_state(app, alice.id)
    assert settled.plan == "gratis" and settled.status == "canceled"

    assert deliver(client, older)["status"] == "stale"
    assert billing_state(app, alice.id) == settled
    past_due = subscription_event(customer, "past_due", now + 50, subscription_id=subscription_id)
    assert deliver(client, past_due)["status"] == "stale"
    assert billing_state(app, alice.id) == settled

    # In the right order the same kind of events do apply.
    assert deliver(client, subscription_event(customer, "active", now + 200))["status"] == "applied"
    assert billing_state(app, alice.id).plan == "pro"


def test_an_old_checkout_completion_does_not_undo_a_cancellation(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    now = int(time.time())
    session = start_paid_checkout(alice, standin)
    paid, subscription = standin.complete_checkout(session["id"])
    assert subscription is not None
    cancel = stripe_sets_status(
        standin, subscription["id"], "canceled", now + 100, "customer.subscription.deleted"
    )
    assert deliver(client, cancel)["status"] == "applied"
    # Delivered late, the completion applies the subscription as Stripe has it now: canceled.
    deliver(client, make_event("checkout.session.completed", paid, created=now))
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("gratis", "canceled")


# ---------------------------------------------------------------- webhook: unknown customers


def test_events_for_an_unknown_customer_are_acknowledged_and_change_nothing(
    app: Flask, client: FlaskClient, alice: Account, bob: Account, customer: str, standin: StripeStandIn
) -> None:
    now = int(time.time())
    before = all_billing_states(app)
    stranger = "cus_unknown"
    events = [
        subscription_event(stranger, "active", now),
        subscription_event(stranger, "canceled", now, event_type="customer.subscription.deleted"),
        make_event(
            "checkout.session.completed",
            {
                "id": "cs_x",
                "object": "checkout.session",
                "customer": stranger,
                "client_reference_id": None,
                "subscription": "sub_x",
            },
        ),
        # A reference to Alice from a customer that is not hers is not trusted.
        make_event(
            "checkout.session.completed",
            {
                "id": "cs_y",
                "object": "checkout.session",
                "customer": stranger,
                "client_reference_id": str(alice.id),
                "subscription": "sub_y",
            },
        ),
        make_event(
            "invoice.payment_failed",
            {"id": "in_x", "object": "invoice", "customer": stranger, "subscription": "sub_x"},
        ),
    ]
    for event in events:
        response = post_webhook(client, event)
        assert 200 <= response.status_code < 300, response.get_data(as_text=True)
        assert response.get_json()["status"] == "ignored"
    assert all_billing_states(app) == before
    assert standin.requests_to("GET", "/v1/subscriptions/sub_x") == []


def test_an_event_type_that_is_not_handled_is_acknowledged(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    before = all_billing_states(app)
    event = make_event("customer.updated", {"id": customer, "object": "customer"})
    assert deliver(client, event)["status"] == "ignored"
    assert all_billing_states(app) == before


# ---------------------------------------------------------------- webhook: status → plan


@pytest.mark.parametrize(
    ("status", "plan"),
    [
        ("active", "pro"),
        ("trialing", "pro"),
        ("past_due", "pro"),
        ("canceled", "gratis"),
        ("unpaid", "gratis"),
        ("incomplete_expired", "gratis"),
    ],
)
@pytest.mark.parametrize("event_type", ["customer.subscription.updated", "customer.subscription.created"])
def test_each_status_maps_to_its_plan(
    app: Flask, client: FlaskClient, alice: Account, customer: str, status: str, plan: str, event_type: str
) -> None:
    now = int(time.time())
    # Start from the other side, so that the event's effect is visible.
    if plan == "gratis":
        assert (
            deliver(client, subscription_event(customer, "active", now, subscription_id="sub_1"))["status"]
            == "applied"
        )
        assert billing_state(app, alice.id).plan == "pro"
    event = subscription_event(customer, status, now + 10, subscription_id="sub_1", event_type=event_type)
    assert deliver(client, event)["status"] == "applied"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.subscription) == (plan, status, "sub_1")


def test_past_due_keeps_the_plan_during_the_grace_period_only(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    now = int(time.time())
    deliver(client, subscription_event(customer, "active", now, subscription_id="sub_1"))
    for number in range(GRATIS_LIMITS["MAX_LINKS"] + 1):
        alice.add_link(f"Link {number}", f"https://example.com/{number}")
    deliver(client, subscription_event(customer, "past_due", now + 10, subscription_id="sub_1"))
    first_due = billing_state(app, alice.id).past_due_since
    assert first_due is not None
    # A later past_due event does not restart the grace period.
    deliver(client, subscription_event(customer, "past_due", now + 20, subscription_id="sub_1"))
    assert billing_state(app, alice.id).past_due_since == first_due

    move_past_due_since(app, alice.id, days_ago=GRACE_DAYS - 0.5)
    assert billing_state(app, alice.id).plan == "pro"
    alice.add_link("Within grace", "https://example.com/grace")

    move_past_due_since(app, alice.id, days_ago=1)
    assert billing_state(app, alice.id).plan == "gratis"
    response = alice.api("POST", "/api/add/link", {"title": "After grace", "url": "https://example.com/late"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "plan_limit"
    assert alice.client.get("/subscriptions").get_data(as_text=True).count('id="current-plan">Gratis<') == 1
    with app.app_context():
        assert billing.end_expired_grace_periods() == 1
    assert billing_state(app, alice.id).stored_plan == "gratis"

    # Paying the invoice makes the subscription active again: the plan and its limits come back.
    deliver(client, subscription_event(customer, "active", now + 30, subscription_id="sub_1"))
    restored = billing_state(app, alice.id)
    assert (restored.plan, restored.past_due_since) == ("pro", None)
    alice.add_link("Paid again", "https://example.com/again")


def test_subscription_deleted_moves_to_gratis(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    ended = standin.set_subscription_status(subscription["id"], "canceled")
    event = make_event("customer.subscription.deleted", ended, created=int(time.time()) + 5)
    assert deliver(client, event)["status"] == "applied"
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("gratis", "canceled")


def test_the_status_decides_not_the_event_name(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    # A "deleted" event whose subscription is (again) active keeps the paid plan; a "created" one that is
    # already canceled does not grant it.
    now = int(time.time())
    deliver(client, subscription_event(customer, "canceled", now, event_type="customer.subscription.created"))
    assert billing_state(app, alice.id).plan == "gratis"
    deliver(
        client, subscription_event(customer, "active", now + 1, event_type="customer.subscription.deleted")
    )
    assert billing_state(app, alice.id).plan == "pro"


def test_a_subscription_to_an_unknown_price_grants_no_paid_plan(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    subscription = subscription_object(customer, "active", price_id="price_someone_elses")
    assert deliver(client, make_event("customer.subscription.updated", subscription))["status"] == "applied"
    assert billing_state(app, alice.id).plan == "gratis"


# ---------------------------------------------------------------- webhook: checkout and invoices


def test_checkout_completed_retrieves_the_subscription_and_links_the_customer(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    session = start_paid_checkout(alice, standin)
    paid, subscription = standin.complete_checkout(session["id"])
    assert subscription is not None
    # The event carries only the subscription id: the status must come from Stripe itself.
    assert deliver(client, make_event("checkout.session.completed", paid))["status"] == "applied"
    assert len(standin.requests_to("GET", f"/v1/subscriptions/{subscription['id']}")) == 1
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("pro", "active")
    assert (state.customer, state.subscription) == (paid["customer"], subscription["id"])


def test_checkout_completed_never_links_an_unknown_customer_by_the_client_reference(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    # A session created elsewhere (another installation sharing the Stripe account, a payment link) for
    # a customer this app has never stored: its client_reference_id must not grant the plan to user 1.
    stripe_client = standin.client()
    customer = stripe_client.v1.customers.create(params={"email": alice.email})
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "client_reference_id": str(alice.id),
            "line_items": [{"price": PRO_PRICE, "quantity": 1}],
            "success_url": "https://example.com/ok",
        }
    )
    paid, subscription = standin.complete_checkout(session.id)
    assert subscription is not None
    before = billing_state(app, alice.id)
    assert deliver(client, make_event("checkout.session.completed", paid))["status"] == "ignored"
    assert billing_state(app, alice.id) == before
    assert (before.plan, before.customer) == ("gratis", None)
    assert standin.requests_to("GET", f"/v1/subscriptions/{subscription['id']}") == []


@pytest.mark.parametrize("shape", ["parent", "legacy"])
def test_payment_failed_retrieves_the_subscription(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, shape: str
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    standin.set_subscription_status(subscription["id"], "unpaid")
    invoice: dict[str, Any] = {
        "id": "in_1",
        "object": "invoice",
        "customer": subscription["customer"],
        "status": "open",
    }
    if shape == "parent":
        invoice["parent"] = {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription["id"]},
        }
    else:
        invoice["subscription"] = subscription["id"]
    event = make_event("invoice.payment_failed", invoice, created=int(time.time()) + 5)
    assert deliver(client, event)["status"] == "applied"
    assert (
        len(standin.requests_to("GET", f"/v1/subscriptions/{subscription['id']}")) == 2
    )  # checkout + invoice
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("gratis", "unpaid")


# ---------------------------------------------------------------- the whole path


def test_paying_on_the_stand_in_puts_the_user_on_the_paid_plan(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    stripe_side = app.test_client()
    deliveries: list[int] = []

    def send_webhook(session: dict[str, Any], subscription: dict[str, Any] | None) -> None:
        response = post_webhook(stripe_side, make_event("checkout.session.completed", session))
        deliveries.append(response.status_code)

    standin.on_checkout_completed = send_webhook
    for number in range(GRATIS_LIMITS["MAX_LINKS"]):
        alice.add_link(f"Link {number}", f"https://example.com/{number}")
    assert alice.api("POST", "/api/add/link", {"title": "x", "url": "https://x.example/"}).status_code == 403

    checkout_url = checkout(alice, "pro").get_json()["redirect_url"]
    with browser() as pages:
        page = pages.get(checkout_url, timeout=5)
        assert page.status_code == 200 and 'id="pay"' in page.text
        paid = pages.post(f"{checkout_url}/pay", allow_redirects=False, timeout=10)
    assert paid.status_code == 303, paid.text
    assert deliveries == [200] and standin.callback_errors == []
    success = paid.headers["Location"]
    assert success.startswith(f"{SUBSCRIPTIONS_URL}?success=true&session_id=cs_test_")

    landing = alice.client.get(success.removeprefix("http://localhost")).get_data(as_text=True)
    assert '<strong id="current-plan">Pro</strong>' in landing
    assert f"{PRO_LIMITS['MAX_LINKS']} links" in landing
    products_page = alice.client.get("/dashboard/products").get_data(as_text=True)
    assert f"Your plan Pro shows {PRO_LIMITS['MAX_PRODUCTS']} products" in products_page
    alice.add_link("Now allowed", "https://example.com/more")
    state = billing_state(app, alice.id)
    assert (state.plan, state.status) == ("pro", "active")
    assert state.subscription == standin.subscriptions()[0]["id"]
    assert len(stored_event_ids(app)) == 1
