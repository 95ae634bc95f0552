"""Manage billing without JavaScript: a plain form on the plans page (POST with its CSRF token) whose
answer moves on to Stripe's billing portal by itself (a meta refresh and a link: the CSP's form-action
'self' stops a form's redirect to another site), the past-due notice's way to update a card; when the
portal cannot be opened, the plans page says why."""

from __future__ import annotations

import html
import logging
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from ..billing_support import (
    SUBSCRIPTIONS_URL,
    billing_app,
    billing_state,
    browser,
    deliver,
    start_paid_checkout,
    store_customer,
    stripe_sets_status,
    subscribe_to_pro,
)
from ..conftest import BROWSER_UA, Account, sign_up

pytestmark = pytest.mark.database_matrix

PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
"""What a browser sends with a form (no script involved)."""


@dataclass
class Form:
    """A form of a page: its attributes, its fields' values and its buttons' texts."""

    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class Forms(HTMLParser):
    """The forms of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(values)
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and "name" in values:
            self._open.fields[values["name"]] = values.get("value", "")
        elif tag == "button" and self._open is not None and values.get("type", "submit") == "submit":
            self._button = []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self._open is not None:
            self._open.buttons.append("".join(self._button).strip())
            self._button = None
        elif tag == "form":
            self._open = None


def form_with_button(page: TestResponse, button: str) -> Form:
    """The page's one form whose button says ``button``."""
    parser = Forms()
    parser.feed(page.get_data(as_text=True))
    [form] = [form for form in parser.forms if button in form.buttons]
    return form


def manage_billing_form(page: TestResponse) -> Form:
    """The plans page's form whose button says Manage billing."""
    return form_with_button(page, "Manage billing")


def send(account: Account, form: Form) -> TestResponse:
    """Submit ``form`` as a browser without JavaScript does."""
    assert form.attrs.get("method", "").lower() == "post", form
    headers = {"Accept": PAGE_ACCEPT, "User-Agent": BROWSER_UA}
    return account.client.post(form.attrs["action"], data=form.fields, headers=headers)


def leaving_urls(page: TestResponse, link_id: str) -> tuple[str, str]:
    """Where a page leading to the payment provider moves on to by itself (its meta refresh), and where
    its link (``link_id``) leads."""
    text = page.get_data(as_text=True)
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', text)
    link = re.search(rf'<a class="button" id="{link_id}" href="([^"]+)">', text)
    assert refresh and link, text
    return html.unescape(refresh.group(1)), html.unescape(link.group(1))


def plans_page(account: Account) -> TestResponse:
    page = account.client.get("/subscriptions", headers={"Accept": PAGE_ACCEPT})
    assert page.status_code == 200
    return page


def test_manage_billing_is_a_form_that_leads_a_past_due_subscriber_to_stripes_portal(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    deliver(client, stripe_sets_status(standin, subscription["id"], "past_due", int(time.time()) + 1))
    page = plans_page(alice)
    assert "Update your payment method under Manage billing." in page.get_data(as_text=True)
    form = manage_billing_form(page)
    assert set(form.fields) == {"csrf_token"}
    response = send(alice, form)
    assert (response.status_code, response.mimetype) == (200, "text/html"), response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # the portal's URL opens the customer's billing
    [portal] = standin.requests_to("POST", "/v1/billing_portal/sessions")
    assert (portal.params["customer"], portal.params["return_url"]) == (
        subscription["customer"],
        SUBSCRIPTIONS_URL,
    )
    url, link = leaving_urls(response, "portal-link")
    assert url == link and url.startswith(f"{standin.base_url}/billing_portal/bps_"), url
    with browser() as pages:
        assert "Stripe stand-in billing portal" in pages.get(url, timeout=5).text
    scripted = alice.client.post(
        form.attrs["action"], headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    )
    assert scripted.status_code == 200
    assert scripted.get_json()["redirect_url"].startswith(f"{standin.base_url}/billing_portal/bps_")


def flashed(account: Account, response: TestResponse) -> str:
    """The plans page a refused form is led back to, with the reason shown once."""
    assert (response.status_code, response.headers.get("Location")) == (302, "/subscriptions"), (
        response.get_data(as_text=True)
    )
    page = plans_page(account).get_data(as_text=True)
    assert "Manage billing" in page
    return page


@pytest.mark.parametrize(
    ("status", "said"),
    [(500, "Try again in a minute."), (401, "Payments are unavailable on this site at the moment")],
)
def test_when_stripe_cannot_open_the_portal_the_plans_page_says_why(
    app: Flask, customer: str, alice: Account, standin: StripeStandIn, status: int, said: str
) -> None:
    form = manage_billing_form(plans_page(alice))
    standin.fail_next("POST", "/v1/billing_portal/sessions", status=status)
    page = flashed(alice, send(alice, form))
    assert f"The payment provider could not open the billing portal. {said}" in page
    assert "could not open the billing portal" not in plans_page(alice).get_data(as_text=True)  # once


def test_without_stripe_keys_the_plans_page_says_billing_is_not_available(make_app: AppFactory) -> None:
    app = billing_app(make_app, None)
    alice = sign_up(app, "alice")
    store_customer(app, alice.id, "cus_old")
    page = flashed(alice, send(alice, manage_billing_form(plans_page(alice))))
    assert "Billing is not available right now: payments are not set up." in page


def test_the_form_needs_its_token_and_a_login_and_says_so_as_pages(
    app: Flask, customer: str, alice: Account, standin: StripeStandIn
) -> None:
    form = manage_billing_form(plans_page(alice))
    forged = send(alice, Form(form.attrs, {}, form.buttons))
    assert forged.status_code == 400 and forged.mimetype == "text/html"
    alice.client.post("/logout", data={"csrf_token": alice.csrf})
    logged_out = send(alice, form)
    assert logged_out.status_code == 302 and "/login" in logged_out.headers["Location"]
    assert standin.requests_to("POST", "/v1/billing_portal/sessions") == []


DELETED = (
    "Your billing record at the payment provider was deleted, so there is no billing portal to open, and "
    "nothing is billed on it any more. To subscribe again, choose a paid plan: its checkout makes a new "
    "billing record."
)


def test_a_customer_deleted_at_stripe_is_told_in_words_forgotten_and_replaced_at_the_next_checkout(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleted in Stripe's dashboard (its webhooks lost): Manage billing says what happened and what to
    do, the subscription Stripe cancelled with it is stored so, and the id is not named again."""
    old = subscribe_to_pro(client, alice, standin)
    standin.delete_customer(old["customer"])
    form = manage_billing_form(plans_page(alice))
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        response = send(alice, form)
    assert (response.status_code, response.headers.get("Location")) == (302, "/subscriptions")
    page = plans_page(alice).get_data(as_text=True)
    assert html.escape(DELETED) in page, page
    assert "Manage billing" not in page  # no billing record left to manage
    state = billing_state(app, alice.id)
    assert (state.plan, state.status, state.customer) == ("gratis", "canceled", None)
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert f"Stripe has customer {old['customer']} of user {alice.id} as deleted" in logged, logged
    scripted = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert scripted.status_code == 409  # nothing to open now: "no billing account yet"
    session = start_paid_checkout(alice, standin)
    assert session["customer"] not in (None, old["customer"])
    assert [r.params.get("customer") for r in standin.requests_to("GET", "/v1/checkout/sessions")][-1] == (
        session["customer"]
    )


def test_the_portal_api_says_the_same_of_a_deleted_customer_as_a_409(
    app: Flask, customer: str, alice: Account, standin: StripeStandIn
) -> None:
    standin.delete_customer(customer)
    response = alice.client.post(
        "/subscriptions/portal", headers={"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    )
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"] == DELETED
    assert billing_state(app, alice.id).customer is None


def test_a_customer_stripe_never_knew_changes_nothing_and_names_the_key_to_check(
    app: Flask, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """A key of another Stripe account knows none of the site's customers: forgetting them would cut the
    accounts off their subscriptions, so nothing is changed."""
    store_customer(app, alice.id, "cus_otheraccount")
    with caplog.at_level(logging.ERROR, logger="conexoos.billing"):
        page = flashed(alice, send(alice, manage_billing_form(plans_page(alice))))
    assert (
        "The payment provider does not know your billing account, so the billing portal cannot be opened. "
        "Nothing has changed: please contact the people who run this site."
    ) in page
    assert billing_state(app, alice.id).customer == "cus_otheraccount"
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.billing"]
    assert "cus_otheraccount" in logged and "SERVICES.stripe.SECRET_KEY" in logged, logged
