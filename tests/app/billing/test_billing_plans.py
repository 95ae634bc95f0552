"""Plans and prices: unknown prices give gratis, the legacy plan shape, prices shown, the plan a limit names,
and APP.PLANS keys (other case read with a warning, unknown ones warned about and ignored)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.plans_config import parse_plans
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn, make_event

from ..billing_support import (
    PLAN_OVERRIDES,
    PLANS,
    PRO_PRICE,
    billing_state,
    deliver,
    stripe_overrides,
    subscription_event,
    subscription_object,
)
from ..conftest import Account, sign_up

pytestmark = pytest.mark.database_matrix
LEGACY = {"NAME": "Legacy", "PRICE": 300, "MAX_LINKS": 10, "MAX_PRODUCTS": 5, "HISTORY_DAYS": 60}


def app_with_plans(make_app: AppFactory, plans: dict[str, Any], standin: StripeStandIn | None) -> Flask:
    overrides = deep_merge(PLAN_OVERRIDES, stripe_overrides(standin.base_url) if standin else {})
    overrides["APP"] = dict(overrides["APP"], PLANS=plans)
    return make_app(overrides=overrides)


def add_links_to_the_limit(account: Account, count: int) -> Any:
    for number in range(count):
        account.add_link(f"Link {number}", f"https://example.com/{number}")
    return account.api("POST", "/api/add/link", {"title": "one more", "url": "https://example.com/more"})


# ---------------------------------------------------------------- prices → plans


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_an_unknown_price_gives_gratis_even_after_pro(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    customer: str,
    status: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = int(time.time())
    deliver(client, subscription_event(customer, "active", now, subscription_id="sub_1"))
    assert billing_state(app, alice.id).plan == "pro"
    moved = subscription_object(customer, status, subscription_id="sub_1", price_id="price_unknown")
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        deliver(client, make_event("customer.subscription.updated", moved, created=now + 5))
    assert (billing_state(app, alice.id).plan, billing_state(app, alice.id).status) == ("gratis", status)
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("price_unknown" in message and "sub_1" in message for message in warnings), warnings


def test_the_legacy_plan_shape_maps_to_its_plan(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    subscription = {
        "id": "sub_2018",
        "object": "subscription",
        "customer": customer,
        "status": "active",
        "items": {"object": "list", "data": [{"id": "si_1", "plan": {"id": PRO_PRICE, "object": "plan"}}]},
    }
    deliver(client, make_event("customer.subscription.updated", subscription))
    assert billing_state(app, alice.id).plan == "pro"


# ---------------------------------------------------------------- what the pages and limits say


def test_a_paid_plan_without_a_price_shows_the_price_at_checkout(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    plans = {
        "gratis": PLANS["gratis"],
        "pro": {
            "NAME": "Pro",
            "PRICE_ID": PRO_PRICE,
            "MAX_LINKS": 50,
            "MAX_PRODUCTS": 20,
            "HISTORY_DAYS": 365,
        },
    }
    alice = sign_up(app_with_plans(make_app, plans, standin), "alice")
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    pro_card = page[page.index('data-plan="pro"') :]
    assert '<p class="price">Price shown at checkout</p>' in pro_card
    assert page.count('<p class="price">Free</p>') == 1


def test_the_plans_page_lists_which_plans_remove_the_made_with_link(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    plans = {**PLANS, "pro": {**PLANS["pro"], "REMOVE_BRANDING": True}}
    app = app_with_plans(make_app, plans, standin)
    name = app.config["APP_NAME"]
    alice = sign_up(app, "alice")
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    gratis_card, pro_card = page[page.index('data-plan="gratis"') :], page[page.index('data-plan="pro"') :]
    gratis_card = gratis_card[: gratis_card.index("</article>")]
    pro_card = pro_card[: pro_card.index("</article>")]
    assert f'<li class="branding">A “Made with {name}” link on your page</li>' in gratis_card
    assert f'<li class="branding">No “Made with {name}” link on your page</li>' in pro_card


def test_the_plans_page_writes_limits_with_a_thousands_separator(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    """The Pro card said "10000 email sign-ups" where the site writes "10,000" (outside tester)."""
    plans = {**PLANS, "pro": {**PLANS["pro"], "MAX_CAPTURE_ENTRIES": 10000, "MAX_LINKS": 1500}}
    alice = sign_up(app_with_plans(make_app, plans, standin), "alice")
    page = alice.client.get("/subscriptions").get_data(as_text=True)
    pro_card = page[page.index('data-plan="pro"') :]
    pro_card = pro_card[: pro_card.index("</article>")]
    assert "<li>10,000 email sign-ups</li>" in pro_card and "<li>1,500 links</li>" in pro_card
    assert "10000" not in page and "1500" not in page


@pytest.mark.parametrize("with_keys", [True, False])
def test_the_limit_message_names_a_plan_on_sale(
    make_app: AppFactory, standin: StripeStandIn, with_keys: bool
) -> None:
    # Legacy is cheaper and lifts the limit, but it has no Stripe price: nobody can buy it.
    plans = {**PLANS, "legacy": LEGACY}
    alice = sign_up(app_with_plans(make_app, plans, standin if with_keys else None), "alice")
    response = add_links_to_the_limit(alice, PLANS["gratis"]["MAX_LINKS"])
    assert response.status_code == 403
    message = response.get_json()["error"]["message"]
    # Without Stripe keys no plan is on sale: none is named, since none can be bought.
    if with_keys:
        assert "Upgrade to Pro" in message, message
    else:
        assert "Upgrade" not in message and "Legacy" not in message, message


def test_a_plan_on_sale_without_price_is_named_before_one_not_for_sale(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    pro = {key: value for key, value in PLANS["pro"].items() if key != "PRICE"}
    alice = sign_up(app_with_plans(make_app, {**PLANS, "pro": pro, "legacy": LEGACY}, standin), "alice")
    response = add_links_to_the_limit(alice, PLANS["gratis"]["MAX_LINKS"])
    assert "Upgrade to Pro" in response.get_json()["error"]["message"]


# ---------------------------------------------------------------- APP.PLANS keys


def test_plan_keys_in_another_case_are_read_with_a_warning() -> None:
    problems: list[str] = []
    warnings: list[str] = []
    plans = parse_plans(
        {
            "gratis": {"name": "Gratis", "max_links": 3, "MAX_PRODUCTS": 2, "HISTORY_DAYS": 30},
            "pro": {"NAME": "Pro", "price_id": PRO_PRICE, "Max_Links": 50},
        },
        problems,
        warnings,
    )
    assert problems == []
    assert (plans["gratis"].name, plans["gratis"].max_links, plans["pro"].price_id) == (
        "Gratis",
        3,
        PRO_PRICE,
    )
    assert plans["pro"].max_links == 50
    assert "APP.PLANS.gratis.max_links is read as APP.PLANS.gratis.MAX_LINKS; write it MAX_LINKS" in warnings
    assert len(warnings) == 4


def test_an_unknown_plan_key_is_a_warning_naming_the_closest_key() -> None:
    problems: list[str] = []
    warnings: list[str] = []
    plans = parse_plans({"gratis": {"MAX_LINKS_OLD": 3, "COLOUR": "red"}}, problems, warnings)
    assert problems == [] and "gratis" in plans
    assert sorted(warnings) == [
        "unknown key APP.PLANS.gratis.COLOUR is ignored; known keys: "
        "NAME, PRICE_ID, PRICE, CURRENCY, INTERVAL, MAX_LINKS, MAX_PRODUCTS, MAX_CAPTURE_ENTRIES, "
        "HISTORY_DAYS, REMOVE_BRANDING",
        "unknown key APP.PLANS.gratis.MAX_LINKS_OLD is ignored; did you mean APP.PLANS.gratis.MAX_LINKS?",
    ]


def test_a_plan_key_one_slip_from_a_known_one_is_a_problem() -> None:
    """``MAX_LINK: 3`` was a warning: the free plan then had no limit at all."""
    problems: list[str] = []
    parse_plans({"gratis": {"MAX_LINK": 3}}, problems, [])
    assert problems == [
        "APP.PLANS.gratis.MAX_LINK: unknown key, a typing slip away from APP.PLANS.gratis.MAX_LINKS: "
        "write it APP.PLANS.gratis.MAX_LINKS (as written it would be ignored)"
    ]


def test_a_key_set_twice_in_two_cases_is_a_problem() -> None:
    problems: list[str] = []
    parse_plans({"gratis": {"NAME": "Gratis", "name": "Free"}}, problems, [])
    assert problems == ["APP.PLANS.gratis.name: NAME is set twice; keep only APP.PLANS.gratis.NAME"]


def test_an_app_with_lowercase_plan_keys_starts_and_warns(
    make_app: AppFactory, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    plans = {
        "gratis": {"name": "Gratis", "max_links": 3, "max_products": 2, "history_days": 30},
        "pro": {"name": "Pro", "price_id": PRO_PRICE, "price": 500, "max_links": 50},
    }
    with caplog.at_level(logging.WARNING, logger="conexoos.config"):
        app = app_with_plans(make_app, plans, standin)
    assert app.config["CONEXOOS_PLANS"]["pro"].price_id == PRO_PRICE
    assert app.config["CONEXOOS_PLANS"]["gratis"].max_links == 3
    assert any("APP.PLANS.pro.price_id is read as" in record.getMessage() for record in caplog.records)
