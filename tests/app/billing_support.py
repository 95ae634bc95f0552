"""What the products, plans and billing tests share: plans, the Stripe stand-in app, signed webhooks, state.

The app is the real product with ``SERVICES.stripe`` pointed at a :class:`StripeStandIn` (the real ``stripe``
library talks HTTP to it), and webhooks are signed with Stripe's scheme and posted to ``/stripe/webhook``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.controllers import plans
from conexoos.app.models.persistent import AnalyticsEvent, StripeEvent, User
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.app.analytics_support import flush_events
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn, make_event, new_id, webhook_request

from .conftest import BROWSER_UA, RATE_LIMITS_OFF, Account

SECRET_KEY = "sk_test_x"
WEBHOOK_SECRET = "whsec_x"
PRO_PRICE = "price_pro"
GRACE_DAYS = 3
GRATIS_LIMITS = {"MAX_LINKS": 3, "MAX_PRODUCTS": 2, "HISTORY_DAYS": 30}
PRO_LIMITS = {"MAX_LINKS": 50, "MAX_PRODUCTS": 20, "HISTORY_DAYS": 365}
PLANS = {
    "gratis": {"NAME": "Gratis", **GRATIS_LIMITS},
    "pro": {
        "NAME": "Pro",
        "PRICE_ID": PRO_PRICE,
        "PRICE": 500,
        "CURRENCY": "EUR",
        "INTERVAL": "month",
        **PRO_LIMITS,
    },
}
PLAN_OVERRIDES = deep_merge(
    RATE_LIMITS_OFF, {"APP": {"PLANS": PLANS, "BILLING": {"PAST_DUE_GRACE_DAYS": GRACE_DAYS}}}
)
SUBSCRIPTIONS_URL = "http://localhost/subscriptions"
"""The absolute URL of the subscriptions page as the test client's requests build it."""


def stripe_overrides(api_base: str, secret_key: str = SECRET_KEY) -> dict[str, Any]:
    """``SERVICES.stripe`` pointing the app at ``api_base``."""
    return {
        "SERVICES": {
            "stripe": {"SECRET_KEY": secret_key, "WEBHOOK_SECRET": WEBHOOK_SECRET, "API_BASE": api_base}
        }
    }


def billing_app(
    make_app: AppFactory,
    standin: StripeStandIn | None,
    secret_key: str = SECRET_KEY,
    database_url: str | None = None,
) -> Flask:
    """The product with the test plans; with Stripe pointed at ``standin``, or without Stripe keys at all."""
    overrides = PLAN_OVERRIDES
    if standin is not None:
        overrides = deep_merge(overrides, stripe_overrides(standin.base_url, secret_key))
    return make_app(overrides=overrides, database_url=database_url)


@contextmanager
def running_standin() -> Iterator[StripeStandIn]:
    """A stand-in that knows the Pro price (unknown prices are refused, as Stripe does)."""
    prices = {PRO_PRICE: {"unit_amount": 500, "currency": "eur", "interval": "month"}}
    with StripeStandIn(SECRET_KEY, prices=prices) as standin:
        yield standin
    assert not standin.server_errors, standin.server_errors


# ---------------------------------------------------------------- webhooks


def post_webhook(client: FlaskClient, event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> TestResponse:
    """Deliver ``event`` as Stripe does: JSON body, ``Stripe-Signature`` header, no session, no CSRF token."""
    body, headers = webhook_request(event, secret)
    return client.post("/stripe/webhook", data=body, headers=headers)


def deliver(client: FlaskClient, event: dict[str, Any]) -> dict[str, Any]:
    """Deliver ``event`` and return the acknowledgement, which must be a 2xx."""
    response = post_webhook(client, event)
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def subscription_object(
    customer: str,
    status: str,
    *,
    subscription_id: str | None = None,
    price_id: str = PRO_PRICE,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Stripe subscription (API 2026-10-28 shape: the period lives on each item)."""
    sub_id = subscription_id or new_id("sub")
    now = int(time.time())
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "created": now,
        "cancel_at_period_end": False,
        "metadata": metadata or {},
        "items": {
            "object": "list",
            "has_more": False,
            "total_count": 1,
            "data": [
                {
                    "id": new_id("si", 14),
                    "object": "subscription_item",
                    "subscription": sub_id,
                    "quantity": 1,
                    "current_period_start": now,
                    "current_period_end": now + 30 * 86_400,
                    "price": {
                        "id": price_id,
                        "object": "price",
                        "currency": "eur",
                        "unit_amount": 500,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                }
            ],
        },
    }


def subscription_event(
    customer: str,
    status: str,
    created: int,
    *,
    event_type: str = "customer.subscription.updated",
    subscription_id: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A ``customer.subscription.*`` event carrying a subscription in ``status``."""
    subscription = subscription_object(customer, status, subscription_id=subscription_id)
    return make_event(event_type, subscription, event_id=event_id, created=created)


def stripe_sets_status(
    standin: StripeStandIn,
    subscription_id: str,
    status: str,
    created: int,
    event_type: str = "customer.subscription.updated",
) -> dict[str, Any]:
    """Change the subscription on the stand-in, as Stripe does, and return the event telling about it."""
    return make_event(event_type, standin.set_subscription_status(subscription_id, status), created=created)


def period_end(subscription: dict[str, Any]) -> datetime:
    """The end of a stand-in subscription's current period (on its item, as the pinned API has it)."""
    return datetime.fromtimestamp(subscription["items"]["data"][0]["current_period_end"], UTC)


def stripe_ends_period(standin: StripeStandIn, subscription_id: str, created: int) -> dict[str, Any]:
    """The period of a subscription cancelled at its end is over: Stripe cancels it and tells with
    ``customer.subscription.deleted``, returned."""
    return stripe_sets_status(standin, subscription_id, "canceled", created, "customer.subscription.deleted")


# ---------------------------------------------------------------- the user's billing state


@dataclass(frozen=True)
class BillingState:
    """What the database holds about a user's subscription, and the plan they are entitled to now."""

    stored_plan: str
    plan: str
    status: str
    customer: str | None
    subscription: str | None
    past_due_since: datetime | None
    plan_ends_at: datetime | None = None
    """When a subscription cancelled at its period's end stops (None: it renews, or none)."""
    period_ends_at: datetime | None = None

    def plan_and_ends(self) -> tuple[str, str, datetime | None, datetime | None]:
        """The plan, its status, when the plan ends and when the period ends: what tests of an end compare."""
        return (self.plan, self.status, self.plan_ends_at, self.period_ends_at)


def billing_state(app: Flask, user_id: int) -> BillingState:
    """Read the user's billing columns straight from the database."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return BillingState(
            user.subscription_plan,
            plans.plan_for(user).key,
            user.subscription_status,
            user.stripe_customer_id,
            user.stripe_subscription_id,
            user.past_due_since,
            user.plan_ends_at,
            user.period_ends_at,
        )


def store_customer(app: Flask, user_id: int, customer_id: str) -> None:
    """Store ``customer_id`` as the user's Stripe customer, as an earlier checkout would have."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.stripe_customer_id = customer_id
        db.session.commit()


def all_billing_states(app: Flask) -> dict[int, BillingState]:
    """Every user's billing state, by id."""
    with app.app_context():
        ids = db.session.scalars(select(User.id)).all()
    return {user_id: billing_state(app, user_id) for user_id in ids}


def stored_event_ids(app: Flask) -> list[str]:
    """The Stripe event ids recorded as processed."""
    with app.app_context():
        return list(db.session.scalars(select(StripeEvent.id).order_by(StripeEvent.id)).all())


def move_past_due_since(app: Flask, user_id: int, days_ago: float) -> None:
    """Pretend the subscription fell past due ``days_ago`` days ago."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None and user.past_due_since is not None
        user.past_due_since = user.past_due_since - timedelta(days=days_ago)
        db.session.commit()


# ---------------------------------------------------------------- checkout


def checkout(account: Account, plan_id: str) -> TestResponse:
    """Choose ``plan_id`` as the subscriptions page does (form field, CSRF header)."""
    return account.client.post(
        "/subscriptions/checkout",
        data={"plan_id": plan_id},
        headers={"X-CSRFToken": account.csrf, "Accept": "application/json"},
    )


def start_paid_checkout(account: Account, standin: StripeStandIn) -> dict[str, Any]:
    """Start a Pro checkout and return the stand-in's session."""
    response = checkout(account, "pro")
    assert response.status_code == 200, response.get_data(as_text=True)
    session_id = response.get_json()["redirect_url"].rsplit("/", 1)[1]
    return standin.checkout_session(session_id)


def subscribe_to_pro(
    client: FlaskClient, account: Account, standin: StripeStandIn, created: int | None = None
) -> dict[str, Any]:
    """Checkout, pay on the stand-in, deliver ``checkout.session.completed``; returns the subscription."""
    session = start_paid_checkout(account, standin)
    paid, subscription = standin.complete_checkout(session["id"])
    assert subscription is not None
    event = make_event("checkout.session.completed", paid, created=created)
    assert deliver(client, event)["status"] == "applied"
    return subscription


# ---------------------------------------------------------------- visitors


def browser() -> requests.Session:
    """A plain HTTP client for the stand-in's hosted pages (proxy variables ignored: it is on loopback)."""
    session = requests.Session()
    session.trust_env = False
    return session


def visit(client: FlaskClient, path: str) -> TestResponse:
    """GET ``path`` as an anonymous visitor with a real browser's user-agent."""
    return client.get(path, headers={"User-Agent": BROWSER_UA})


def buy_events(app: Flask, product_id: int) -> list[tuple[str, int | None]]:
    """The analytics events recorded for ``product_id``'s buy link, as (kind, link_id) (buffer flushed)."""
    flush_events(app)
    with app.app_context():
        rows = db.session.execute(
            select(AnalyticsEvent.kind, AnalyticsEvent.link_id).where(AnalyticsEvent.link_id == product_id)
        ).all()
        return [(kind, link_id) for kind, link_id in rows]


def count_rows(app: Flask, model: Any) -> int:
    """How many rows ``model``'s table holds."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)
