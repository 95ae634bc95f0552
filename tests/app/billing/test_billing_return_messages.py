"""What the plans page says after a payment, a Keep or a switch to the free plan comes from the account's
state, never from the address bar alone: a link to ``/subscriptions?success=true`` or ``?kept=true`` made
by anyone claimed a payment or a kept subscription that did not happen (outside tester)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.stripe_standin import StripeStandIn, make_event

from ..billing_support import SUBSCRIPTIONS_URL, billing_state, checkout, deliver, start_paid_checkout
from ..conftest import Account, form_token

pytestmark = pytest.mark.database_matrix
PENDING = "Payment received: your plan will switch as soon as the payment provider confirms it."
CLAIMS = (PENDING, "Thank you", "plan is active", "plan now", "goes on", "payment-pending", "plan-active")


def claims_in(account: Account, path: str) -> list[str]:
    """The claims about a payment, a plan or a kept subscription that the page at ``path`` makes."""
    page = account.client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    return [claim for claim in CLAIMS if claim in text]


def success_path(session_id: str) -> str:
    return f"/subscriptions?success=true&session_id={session_id}"


@pytest.mark.parametrize(
    "query",
    ["success=true", "success=true&session_id=cs_test_made_up", "kept=true", "success=true&kept=true"],
)
def test_hand_made_return_addresses_claim_nothing(
    app: Flask, alice: Account, standin: StripeStandIn, query: str
) -> None:
    assert claims_in(alice, f"/subscriptions?{query}") == []


def test_back_from_a_paid_checkout_the_page_says_what_the_account_has(
    app: Flask, client: FlaskClient, alice: Account, bob: Account, standin: StripeStandIn
) -> None:
    unpaid = start_paid_checkout(alice, standin)
    assert claims_in(alice, success_path(unpaid["id"])) == []  # open, not paid: nothing was paid
    session = start_paid_checkout(alice, standin)
    paid, _subscription = standin.complete_checkout(session["id"])
    assert billing_state(app, alice.id).plan == "gratis"  # the webhook has not arrived yet
    page = alice.client.get(success_path(session["id"])).get_data(as_text=True)
    assert f'<p id="payment-pending" class="notice" role="status">{PENDING} Reload in a moment.</p>' in page
    assert claims_in(bob, success_path(session["id"])) == []  # someone else's checkout
    deliver(client, make_event("checkout.session.completed", paid))
    page = alice.client.get(success_path(session["id"])).get_data(as_text=True)
    assert '<p id="plan-active" class="notice" role="status">Your Pro plan is active.</p>' in page
    assert PENDING not in page and "Thank you" not in page


def test_keeping_and_the_free_plan_are_said_once_by_the_post_that_did_it(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    session = start_paid_checkout(alice, standin)
    paid, subscription = standin.complete_checkout(session["id"])
    deliver(client, make_event("checkout.session.completed", paid))
    assert checkout(alice, "gratis").get_json() == {"redirect_url": SUBSCRIPTIONS_URL}  # ends with its period
    kept = alice.client.post(
        "/subscriptions/keep", headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    )
    assert kept.get_json() == {"redirect_url": SUBSCRIPTIONS_URL}
    said = "Your Pro subscription goes on: it renews as before."
    assert said in alice.client.get("/subscriptions").get_data(as_text=True)
    assert said not in alice.client.get("/subscriptions").get_data(as_text=True)  # once
    assert standin.subscription(subscription["id"])["cancel_at_period_end"] is False


def test_the_free_plan_chosen_is_said_once(app: Flask, bob: Account, standin: StripeStandIn) -> None:
    chose = bob.client.post(
        "/subscriptions/choose", data={"plan_id": "gratis"}, headers={"X-CSRFToken": bob.csrf}
    )
    assert (chose.status_code, chose.headers["Location"]) == (302, SUBSCRIPTIONS_URL)
    assert "You are on the Gratis plan now." in bob.client.get(chose.headers["Location"]).get_data(
        as_text=True
    )
    assert claims_in(bob, "/subscriptions") == []


CANCELED = "Checkout canceled: your plan has not changed."


def test_checkout_canceled_is_said_once_and_only_after_this_browser_started_a_checkout(
    app: Flask, alice: Account, bob: Account, standin: StripeStandIn
) -> None:
    """``/subscriptions?canceled=true`` said "Checkout canceled" to anyone, no checkout started (outside
    tester)."""
    assert CANCELED not in alice.client.get("/subscriptions?canceled=true").get_data(as_text=True)
    start_paid_checkout(alice, standin)  # the API's call, as the page's script makes it
    assert CANCELED not in alice.client.get("/subscriptions").get_data(as_text=True)  # not spent here
    assert CANCELED in alice.client.get("/subscriptions?canceled=true").get_data(as_text=True)
    assert CANCELED not in alice.client.get("/subscriptions?canceled=true").get_data(as_text=True)  # once
    assert checkout(bob, "gratis").status_code == 200  # the free plan opens no checkout
    assert CANCELED not in bob.client.get("/subscriptions?canceled=true").get_data(as_text=True)
    token = form_token(bob.client.get("/subscriptions"))
    chosen = bob.client.post("/subscriptions/choose", data={"csrf_token": token, "plan_id": "pro"})
    assert chosen.status_code == 200  # the page moving on to the checkout
    assert CANCELED in bob.client.get("/subscriptions?canceled=true").get_data(as_text=True)
