"""Choosing a plan without JavaScript: each plan's button on the plans page is a plain form (POST with its
CSRF token). A paid plan's answer moves on to Stripe Checkout by itself (a meta refresh and a link: the
CSP's form-action 'self' stops a form's redirect to another site); the free plan is set at once; a plan
that cannot be chosen leads back to the plans page, which says why."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.stripe_standin import StripeStandIn

from ..billing_support import billing_state, browser, subscribe_to_pro
from ..conftest import Account
from .test_billing_portal_form import Form, flashed, form_with_button, leaving_urls, plans_page, send

pytestmark = pytest.mark.database_matrix


def test_a_paid_plan_is_a_form_that_leads_to_stripes_checkout(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    page = plans_page(alice)
    assert 'id="needs-javascript"' not in page.get_data(as_text=True)
    form = form_with_button(page, "Upgrade to Pro")
    assert (form.fields.keys(), form.fields["plan_id"]) == ({"csrf_token", "plan_id"}, "pro")
    response = send(alice, form)
    assert (response.status_code, response.mimetype) == (200, "text/html"), response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    [session] = standin.requests_to("POST", "/v1/checkout/sessions")
    assert session.params["client_reference_id"] == str(alice.id)
    url, link = leaving_urls(response, "checkout-link")
    assert url == link and url.startswith(f"{standin.base_url}/"), url
    with browser() as pages:
        assert pages.get(url, timeout=5).status_code == 200
    assert billing_state(app, alice.id).plan == "gratis"  # until the payment is confirmed


def test_the_form_sent_by_the_page_s_script_answers_where_to_go(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    form = form_with_button(plans_page(alice), "Upgrade to Pro")
    scripted = alice.client.post(
        form.attrs["action"],
        data={"plan_id": "pro"},
        headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"},
    )
    assert scripted.status_code == 200, scripted.get_data(as_text=True)
    assert scripted.get_json()["redirect_url"].startswith(f"{standin.base_url}/")
    unknown = alice.client.post(
        form.attrs["action"],
        data={"plan_id": "platinum"},
        headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"},
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["field"] == "plan_id"
    assert "no plan of this site" in unknown.get_json()["error"]["message"]


def test_a_refused_choice_leads_back_to_the_plans_page_which_says_why(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    stale = plans_page(alice)  # shown before the subscription below: a tab left open
    subscribe_to_pro(client, alice, standin)
    page = flashed(alice, send(alice, form_with_button(stale, "Upgrade to Pro")))
    assert "You already have a subscription: change or cancel it in the billing portal." in page
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 1  # the subscription's own


@pytest.mark.parametrize(
    "plan_id",
    [["platinum"], ["GRATIS"], ["\x00"], ["x", "gratis"]],
    ids=["gone", "capitals", "control-character", "twice"],
)
def test_a_plan_the_site_does_not_offer_is_refused_on_the_plans_page_in_words(
    app: Flask, alice: Account, standin: StripeStandIn, plan_id: list[str]
) -> None:
    """The plans page said "Unknown plan 'GRATIS'; choose one of gratis, pro.", with a Python escape for a
    control character, and named plans that may not be on sale here (outside tester)."""
    form = form_with_button(plans_page(alice), "Upgrade to Pro")
    response = alice.client.post(
        form.attrs["action"],
        data={"csrf_token": form.fields["csrf_token"], "plan_id": plan_id},
        headers={"Accept": "text/html"},
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/subscriptions")
    page = plans_page(alice).get_data(as_text=True)
    said = "That plan is not offered here: choose one of the plans on this page."
    assert f'<p class="notice" role="status">{said}</p>' in page
    assert "Unknown plan" not in page and "choose one of gratis" not in page and "\\x00" not in page
    assert standin.requests_to("POST", "/v1/checkout/sessions") == []
    scripted = alice.client.post(
        form.attrs["action"],
        data={"plan_id": plan_id},
        headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"},
    )
    assert scripted.status_code == 422 and scripted.get_json()["error"]["field"] == "plan_id"
    message = scripted.get_json()["error"]["message"]
    assert "\x00" not in message and "\\x00" not in message and plan_id[0] not in message.split(";")[0]


@pytest.mark.parametrize(
    "chosen", [{"plan_id": ""}, {"plan_id": "  "}, {}], ids=["empty", "blank", "missing"]
)
def test_a_form_without_a_plan_asks_for_one_in_words(
    app: Flask, alice: Account, standin: StripeStandIn, chosen: dict[str, str]
) -> None:
    form = form_with_button(plans_page(alice), "Upgrade to Pro")
    response = send(alice, Form(form.attrs, {"csrf_token": form.fields["csrf_token"], **chosen}, []))
    assert (response.status_code, response.headers["Location"]) == (302, "/subscriptions")
    page = plans_page(alice).get_data(as_text=True)
    assert '<p class="notice" role="status">Choose a plan.</p>' in page
    assert "Plan_id" not in page and "is required" not in page
    assert standin.requests_to("POST", "/v1/checkout/sessions") == []
    scripted = alice.client.post(
        form.attrs["action"], data=chosen, headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    )
    assert scripted.status_code == 422
    assert scripted.get_json()["error"]["field"] == "plan_id"
    assert not scripted.get_json()["error"]["message"].startswith("Plan_id")


def test_the_free_plan_from_a_stale_page_is_set_at_once_and_the_page_says_so(
    app: Flask, alice: Account, standin: StripeStandIn
) -> None:
    page = plans_page(alice)
    pro = form_with_button(page, "Upgrade to Pro")
    gratis = Form(pro.attrs, {**pro.fields, "plan_id": "gratis"}, ["Switch to Gratis"])
    response = send(alice, gratis)
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "http://localhost/subscriptions",  # PUBLIC_URL's
    )
    shown = alice.client.get("/subscriptions").get_data(as_text=True)
    assert "You are on the Gratis plan now." in shown


def test_the_form_needs_its_token_and_a_login(app: Flask, alice: Account, standin: StripeStandIn) -> None:
    form = form_with_button(plans_page(alice), "Upgrade to Pro")
    forged = send(alice, Form(form.attrs, {"plan_id": "pro"}, form.buttons))
    assert forged.status_code == 400 and forged.mimetype == "text/html"
    alice.client.post("/logout", data={"csrf_token": alice.csrf})
    logged_out = send(alice, form)
    assert logged_out.status_code == 302 and "/login" in logged_out.headers["Location"]
    assert standin.requests_to("POST", "/v1/checkout/sessions") == []
