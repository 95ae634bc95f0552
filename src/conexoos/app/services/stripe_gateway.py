"""The one place that talks to Stripe, through the real ``stripe`` library.

Keys, the webhook secret and the API base URL come from ``SERVICES.stripe``; the base URL lets tests and
proxies stand in for Stripe's servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from conexoos.framework import runtime


class StripeUnavailable(RuntimeError):
    """Stripe is not configured (no SECRET_KEY), so paid plans cannot be bought."""


@dataclass(frozen=True)
class StripeSettings:
    """``SERVICES.stripe``."""

    secret_key: str
    webhook_secret: str
    api_base: str

    @property
    def configured(self) -> bool:
        return bool(self.secret_key)


def stripe_settings() -> StripeSettings:
    """Read ``SERVICES.stripe`` of the running app."""
    conf = runtime().services.config("stripe")
    return StripeSettings(
        secret_key=str(conf.get("SECRET_KEY") or ""),
        webhook_secret=str(conf.get("WEBHOOK_SECRET") or ""),
        api_base=str(conf.get("API_BASE") or ""),
    )


def client() -> stripe.StripeClient:
    """A StripeClient for this app's keys (and API base, when one is configured)."""
    settings = stripe_settings()
    if not settings.configured:
        raise StripeUnavailable("Stripe is not configured: set SERVICES.stripe.SECRET_KEY")
    options: dict[str, Any] = {"http_client": stripe.RequestsClient(timeout=15), "max_network_retries": 2}
    if settings.api_base:
        options["base_addresses"] = {"api": settings.api_base}
        stripe.enable_telemetry = False
    return stripe.StripeClient(settings.secret_key, **options)


def create_customer(email: str, user_id: int, idempotency_key: str) -> str:
    """Create a Stripe customer; returns its id (a repeated ``idempotency_key`` returns the same one)."""
    customer = client().v1.customers.create(
        params={"email": email, "metadata": {"user_id": str(user_id)}},
        options={"idempotency_key": idempotency_key},
    )
    return str(customer.id)


def create_checkout_session(
    customer_id: str, price_id: str, user_id: int, plan_id: str, success_url: str, cancel_url: str
) -> str:
    """Create a subscription-mode Checkout Session; returns its URL."""
    metadata = {"user_id": str(user_id), "plan_id": plan_id}
    session = client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(user_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
        }
    )
    return str(session.url)


def create_portal_session(customer_id: str, return_url: str) -> str:
    """Create a billing-portal session; returns its URL."""
    session = client().v1.billing_portal.sessions.create(
        params={"customer": customer_id, "return_url": return_url}
    )
    return str(session.url)


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    """The subscription as Stripe has it now."""
    return client().v1.subscriptions.retrieve(subscription_id).to_dict()


def construct_event(payload: bytes, signature: str) -> dict[str, Any]:
    """Verify the ``Stripe-Signature`` of a webhook and parse it; raises on a bad or missing signature."""
    secret = stripe_settings().webhook_secret
    if not secret:
        raise StripeUnavailable("Stripe webhooks are not configured: set SERVICES.stripe.WEBHOOK_SECRET")
    event = stripe.Webhook.construct_event(payload, signature, secret)
    return event.to_dict()
