"""Subscriptions: choosing a plan, Stripe Checkout, the billing portal and webhooks.

The entitlement always comes from a subscription's status, never from an event's name; every event id
is stored with its effect in one transaction (idempotency); an event older than the newest one applied
to a user never overwrites that user's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from flask import url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadGateway, BadRequest, Conflict, ServiceUnavailable

from conexoos.app.dto.errors import InputError
from conexoos.app.models.persistent import StripeEvent, User
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.plans_config import FREE_PLAN, Plan
from conexoos.app.services import stripe_gateway as gateway
from conexoos.framework import db

from .plans import PAID_STATUSES, all_plans, grace_expired

log = logging.getLogger("conexoos.billing")
ENDED_STATUSES = frozenset({"canceled", "unpaid", "incomplete_expired", "incomplete", "paused"})
SUBSCRIPTION_EVENTS = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
HANDLED_EVENTS = SUBSCRIPTION_EVENTS | {"checkout.session.completed", "invoice.payment_failed"}


@dataclass(frozen=True)
class WebhookOutcome:
    """What a webhook did, for the response and the event log."""

    status: str
    detail: str = ""


def plan_available(plan: Plan) -> bool:
    """Free plans always; paid plans only with a Stripe price id and Stripe keys."""
    return plan.is_free or (bool(plan.price_id) and gateway.stripe_settings().configured)


def subscriptions_url(**params: str) -> str:
    """The absolute URL of the subscriptions page, with query parameters."""
    return url_for("subscriptions.index", _external=True, **params)


def start_checkout(user: User, plan_id: str) -> str:
    """Choose ``plan_id``: gratis is set at once; a paid plan returns a Stripe Checkout URL."""
    plan = all_plans().get(plan_id)
    if plan is None:
        raise InputError(
            f"unknown plan {plan_id[:40]!r}; choose one of {', '.join(all_plans())}",
            field="plan_id",
            code="unknown_plan",
        )
    if plan.is_free:
        return _choose_free_plan(user)
    if user.stripe_subscription_id and user.subscription_status in PAID_STATUSES | {"past_due"}:
        # A second Checkout would start a second subscription, billed on top of the first.
        raise Conflict("You already have a subscription: change or cancel it in the billing portal.")
    if not plan_available(plan):
        raise Conflict(f"The {plan.name} plan is not available for purchase right now.")
    try:
        customer_id = _customer_for(user)
        return gateway.create_checkout_session(
            customer_id,
            plan.price_id,
            user.id,
            plan.key,
            success_url=subscriptions_url(success="true") + "&session_id={CHECKOUT_SESSION_ID}",
            cancel_url=subscriptions_url(canceled="true"),
        )
    except stripe.StripeError as error:
        log.error("Stripe refused a checkout for user %s: %s", user.id, error.user_message or error)
        raise BadGateway(
            "The payment provider could not start the checkout. Try again in a minute."
        ) from None


def _choose_free_plan(user: User) -> str:
    if user.subscription_plan != FREE_PLAN and user.subscription_status in PAID_STATUSES:
        raise Conflict("You have a paid subscription: cancel it in the billing portal to move to Gratis.")
    user.subscription_plan = FREE_PLAN
    user.save()
    return subscriptions_url() + "?success=true"


def _customer_for(user: User) -> str:
    """The user's Stripe customer, created once and reused."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    # Stripe replays a key for 24 hours across the whole account: naming the user row (id and creation
    # time) lets double clicks share one customer without another database's user 1 receiving this one.
    key = f"customer-{user.id}-{user.created_at:%Y%m%d%H%M%S%f}"
    user.stripe_customer_id = gateway.create_customer(user.email, user.id, key)
    user.save()
    return user.stripe_customer_id


def portal_url(user: User) -> str:
    """A billing-portal URL for the user's Stripe customer."""
    if not user.stripe_customer_id:
        raise Conflict("You have no billing account yet: choose a paid plan first.")
    try:
        return gateway.create_portal_session(user.stripe_customer_id, subscriptions_url())
    except stripe.StripeError as error:
        log.error("Stripe refused a portal session for user %s: %s", user.id, error.user_message or error)
        raise BadGateway(
            "The payment provider could not open the billing portal. Try again in a minute."
        ) from None


def handle_webhook(payload: bytes, signature: str | None) -> WebhookOutcome:
    """Verify, de-duplicate and apply one Stripe event."""
    try:
        event = gateway.construct_event(payload, signature or "")
    except gateway.StripeUnavailable as error:
        raise ServiceUnavailable(str(error)) from None
    except (stripe.SignatureVerificationError, ValueError):
        raise BadRequest("The Stripe signature is missing or invalid.") from None
    if db.session.get(StripeEvent, event["id"]) is not None:
        return WebhookOutcome("duplicate")
    outcome = WebhookOutcome("ignored", "event type not handled")
    if event["type"] in HANDLED_EVENTS:
        outcome = _apply(event)
    try:
        with transaction():
            db.session.add(StripeEvent(id=event["id"], type=event["type"], outcome=outcome.status))
    except IntegrityError:
        return WebhookOutcome("duplicate")
    return outcome


def _apply(event: dict[str, Any]) -> WebhookOutcome:
    obj = event["data"]["object"]
    if event["type"] == "checkout.session.completed":
        user = _user_for(obj.get("customer"), obj.get("client_reference_id"))
        subscription_id = obj.get("subscription")
        if user is None or not subscription_id:
            return WebhookOutcome("ignored", "unknown customer or no subscription")
        return _apply_subscription(
            user, gateway.retrieve_subscription(str(subscription_id)), event["created"]
        )
    if event["type"] == "invoice.payment_failed":
        subscription_id = _invoice_subscription(obj)
        user = _user_for(obj.get("customer"), None)
        if user is None or not subscription_id:
            return WebhookOutcome("ignored", "unknown customer or no subscription")
        return _apply_subscription(user, gateway.retrieve_subscription(subscription_id), event["created"])
    user = _user_for(obj.get("customer"), (obj.get("metadata") or {}).get("user_id"))
    if user is None:
        return WebhookOutcome("ignored", "unknown customer")
    return _apply_subscription(user, obj, event["created"])


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    # Older API versions put it on the invoice, newer ones under parent.subscription_details.
    direct = invoice.get("subscription")
    details = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    found = direct or details
    return str(found) if found else None


def _user_for(customer_id: Any, reference: Any) -> User | None:
    user = User.get_by_stripe_customer(str(customer_id)) if customer_id else None
    if user is None and reference and str(reference).isdigit():
        user = User.get_by_id(int(reference))
        if user is not None and user.stripe_customer_id not in (None, customer_id):
            return None  # the reference names a user linked to another customer: do not trust it
    return user


def _apply_subscription(user: User, subscription: dict[str, Any], event_created: int) -> WebhookOutcome:
    if event_created < user.billing_event_at:
        return WebhookOutcome("stale", "an event newer than this one was already applied")
    status = str(subscription.get("status") or "")
    if _replaced(user, str(subscription.get("id") or ""), status):
        return WebhookOutcome("stale", "the event is about a subscription the user has replaced")
    plan = _plan_of(subscription)
    with transaction():
        user.billing_event_at = event_created
        user.stripe_subscription_id = str(subscription.get("id") or "") or user.stripe_subscription_id
        if user.stripe_customer_id is None and subscription.get("customer"):
            user.stripe_customer_id = str(subscription["customer"])
        user.subscription_status = status
        _entitle(user, status, plan)
    return WebhookOutcome("applied", f"{status} → {user.subscription_plan}")


def _replaced(user: User, subscription_id: str, status: str) -> bool:
    """An ended subscription other than the user's live one must not take the live one's plan away."""
    live = user.subscription_status in PAID_STATUSES or user.subscription_status == "past_due"
    return (
        bool(user.stripe_subscription_id)
        and subscription_id != user.stripe_subscription_id
        and live
        and status not in PAID_STATUSES
    )


def _entitle(user: User, status: str, plan: Plan | None) -> None:
    if status in PAID_STATUSES and plan is not None:
        user.subscription_plan = plan.key
        user.past_due_since = None
    elif status == "past_due":
        # Only a subscription that was paid falls past due: it entitles to its plan until the grace ends.
        if plan is not None:
            user.subscription_plan = plan.key
        user.past_due_since = user.past_due_since or utcnow()
    elif status in ENDED_STATUSES or status not in PAID_STATUSES:
        user.subscription_plan = FREE_PLAN
        user.past_due_since = None


def _plan_of(subscription: dict[str, Any]) -> Plan | None:
    items = (subscription.get("items") or {}).get("data") or []
    price_ids = {str((item.get("price") or {}).get("id") or "") for item in items}
    for plan in all_plans().values():
        if plan.price_id and plan.price_id in price_ids:
            return plan
    return None


def end_expired_grace_periods() -> int:
    """Move users whose past-due grace period is over to gratis; returns how many."""
    users = db.session.scalars(select(User).where(User.subscription_status == "past_due")).all()
    expired = [user for user in users if grace_expired(user) and user.subscription_plan != FREE_PLAN]
    with transaction():
        for user in expired:
            user.subscription_plan = FREE_PLAN
    return len(expired)
