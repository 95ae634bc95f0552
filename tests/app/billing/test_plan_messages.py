"""The plan messages agree: the API's limit errors, the dashboard's notes and the subscriptions page use one
wording, and without Stripe none of them suggests upgrading to a plan that cannot be bought."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from conexoos.app.controllers import plan_messages
from conexoos.app.controllers.capture_entries import ENTRIES
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from ..billing_support import GRATIS_LIMITS, PRO_LIMITS, billing_app, checkout
from ..conftest import Account, sign_up
from .test_plans import add

pytestmark = pytest.mark.database_matrix

ADD_PATHS = {"links": "/api/add/link", "products": "/api/add/product"}
DASHBOARDS = {"links": "/dashboard", "products": "/dashboard/products"}
KEYS = {"links": "MAX_LINKS", "products": "MAX_PRODUCTS"}
NO_SALES = "Paid plans cannot be bought on this site."


def one_too_many(account: Account, kind: str) -> str:
    """Fill ``kind`` to the free plan's limit, add one more and return the 403's message."""
    for number in range(GRATIS_LIMITS[KEYS[kind]]):
        add(account, kind, number)
    body = {"title": "one more", "url": "https://example.com/more"}
    if kind == "products":
        body = {"title": "one more", "price": 900, "currency": "EUR", "buy_url": "https://shop.example/more"}
    response = account.api("POST", ADD_PATHS[kind], body)
    assert response.status_code == 403, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "plan_limit"
    return str(error["message"])


def page_text(account: Account, path: str) -> str:
    """The page's HTML with entities decoded and whitespace runs folded, to find sentences in it."""
    response = account.client.get(path)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def app_for(make_app: AppFactory, standin: StripeStandIn, with_stripe: bool) -> Flask:
    return billing_app(make_app, standin if with_stripe else None)


@pytest.mark.parametrize("kind", ["links", "products"])
def test_with_stripe_the_api_and_the_dashboard_name_the_same_plan_in_the_same_words(
    make_app: AppFactory, standin: StripeStandIn, kind: str
) -> None:
    alice = sign_up(app_for(make_app, standin, True), "alice")
    limit, pro = GRATIS_LIMITS[KEYS[kind]], PRO_LIMITS[KEYS[kind]]
    upgrade = f"Upgrade to Pro for up to {pro} {kind}."
    assert one_too_many(alice, kind) == f"Your plan Gratis allows {limit} {kind}. {upgrade}"
    dashboard = page_text(alice, DASHBOARDS[kind])
    assert f"Your plan Gratis shows {limit} {kind} on your page." in dashboard
    # The hint and the note on an item the page hides both link the same sentence to the plans page.
    assert dashboard.count(f'<a href="/subscriptions">{upgrade}</a>') == 2, dashboard
    assert f"Not on your page: your plan Gratis shows {limit} {kind}." in dashboard
    assert NO_SALES not in page_text(alice, "/subscriptions")


@pytest.mark.parametrize("kind", ["links", "products"])
def test_without_stripe_no_message_suggests_a_plan_that_cannot_be_bought(
    make_app: AppFactory, standin: StripeStandIn, kind: str
) -> None:
    alice = sign_up(app_for(make_app, standin, False), "alice")
    limit = GRATIS_LIMITS[KEYS[kind]]
    singular = kind[:-1]
    message = one_too_many(alice, kind)
    assert message == f"Your plan Gratis allows {limit} {kind}. Delete a {singular} to add another."
    dashboard = page_text(alice, DASHBOARDS[kind])
    assert f"Your plan Gratis shows {limit} {kind} on your page." in dashboard
    assert f"Not on your page: your plan Gratis shows {limit} {kind}." in dashboard
    assert "Upgrade" not in dashboard and not re.search(r"\bPro\b", dashboard)
    plans_page = page_text(alice, "/subscriptions")
    assert NO_SALES in plans_page
    assert "Upgrade" not in plans_page
    assert 'class="choose-plan" data-plan="pro"' not in plans_page
    assert "Pro cannot be bought on this site." in plans_page
    refused = checkout(alice, "pro")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "Pro cannot be bought on this site."


@pytest.mark.parametrize("with_stripe", [True, False])
def test_billing_without_an_account_suggests_a_plan_only_when_one_can_be_bought(
    make_app: AppFactory, standin: StripeStandIn, with_stripe: bool
) -> None:
    alice = sign_up(app_for(make_app, standin, with_stripe), "alice")
    response = alice.client.post("/subscriptions/portal", headers={"X-CSRFToken": alice.csrf})
    assert response.status_code == 409
    expected = (
        "You have no billing account yet: choose a paid plan first."
        if with_stripe
        else f"You have no billing account: {NO_SALES[0].lower()}{NO_SALES[1:]}"
    )
    assert response.get_json()["error"]["message"] == expected


@pytest.mark.parametrize("with_stripe", [True, False])
def test_the_statistics_limit_names_a_plan_only_when_it_can_be_bought(
    make_app: AppFactory, standin: StripeStandIn, with_stripe: bool
) -> None:
    alice = sign_up(app_for(make_app, standin, with_stripe), "alice")
    today = datetime.now(UTC).date()
    days = GRATIS_LIMITS["HISTORY_DAYS"]
    start = today - timedelta(days=days)
    response = alice.api("GET", f"/api/stats?from={start.isoformat()}&to={today.isoformat()}&tz=UTC")
    assert response.status_code == 403
    earliest = (today - timedelta(days=days - 1)).isoformat()
    said = f"Your plan Gratis keeps {days} days of statistics: the earliest date is {earliest}."
    upgrade = f" Upgrade to Pro for {PRO_LIMITS['HISTORY_DAYS']} days of statistics." if with_stripe else ""
    assert response.get_json()["error"]["message"] == said + upgrade


def test_a_plan_with_no_limit_says_so_and_offers_nothing(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    app = app_for(make_app, standin, True)
    plans = app.config["CONEXOOS_PLANS"]
    plans["gratis"] = dataclasses.replace(plans["gratis"], max_links=None)
    alice = sign_up(app, "alice")
    dashboard = page_text(alice, "/dashboard")
    assert "Your plan Gratis shows all your links on your page." in dashboard
    assert "Upgrade to Pro" not in dashboard


def test_a_noun_starting_with_a_vowel_takes_an() -> None:
    assert plan_messages.with_article("embed") == "an embed"
    assert plan_messages.with_article("link") == "a link"


def test_a_count_is_written_with_a_thousands_separator() -> None:
    """As elsewhere on the site: "10,000", not "10000" (outside tester)."""
    assert plan_messages.count_of(10000, ENTRIES) == "10,000 email sign-ups"
