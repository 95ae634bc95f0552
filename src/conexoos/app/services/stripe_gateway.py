"""The one place that talks to Stripe, through the real ``stripe`` library.

Keys, the webhook secret, the API base URL and the timeout come from ``SERVICES.stripe``; the base URL
lets tests and proxies stand in for Stripe's servers.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from conexoos.app.server.config import STRIPE_TIMEOUT
from conexoos.framework import runtime
from conexoos.framework.lazy import lazy_module

# Stripe and requests are imported at the first billing call, not with the app (see framework/lazy.py).
if TYPE_CHECKING:
    import requests
    import stripe
else:
    requests = lazy_module("requests")
    stripe = lazy_module("stripe")

NETWORK_RETRIES = 2
"""Tries after a lost connection (never after a timeout: see :func:`requests_client_class`)."""
SIGNATURE_TOLERANCE = 300
"""A webhook signed more than five minutes before or after now is refused (replayed or forged clock)."""
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


class StripeUnavailable(RuntimeError):
    """Stripe is not configured (no SECRET_KEY), so paid plans cannot be bought."""


@dataclass(frozen=True)
class StripeSettings:
    """``SERVICES.stripe``."""

    secret_key: str
    webhook_secret: str
    api_base: str
    timeout: int
    """Seconds to wait for each answer (``TIMEOUT``)."""

    @property
    def configured(self) -> bool:
        return bool(self.secret_key)

    @property
    def sells(self) -> bool:
        """Whether paid plans can be bought: Stripe is called with the key, and its webhooks (which apply
        a payment) are verified with the secret; with the key alone a payment would never apply."""
        return bool(self.secret_key and self.webhook_secret)

    @property
    def livemode(self) -> bool | None:
        """True for a live key, False for a test key, None when the key's prefix says neither."""
        if self.secret_key.startswith(LIVE_KEY_PREFIXES):
            return True
        if self.secret_key.startswith(TEST_KEY_PREFIXES):
            return False
        return None


def stripe_settings() -> StripeSettings:
    """Read ``SERVICES.stripe`` of the running app (a key or secret of spaces is none: Stripe's hold none)."""
    conf = runtime().services.config("stripe")
    return StripeSettings(
        secret_key=str(conf.get("SECRET_KEY") or "").strip(),
        webhook_secret=str(conf.get("WEBHOOK_SECRET") or "").strip(),
        api_base=str(conf.get("API_BASE") or "").strip(),
        timeout=int(conf.get("TIMEOUT") or STRIPE_TIMEOUT),  # conf is {} when SERVICES.stripe is absent
    )


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (127.0.0.0/8, ::1 or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.cache
def requests_client_class() -> type[stripe.RequestsClient]:
    """The library's requests client, except that a call that timed out is not tried again: the library
    retries timeouts like lost connections, so a Stripe that hangs held a request three times ``TIMEOUT``
    (and more, with its back-off) before the person heard anything."""

    class RequestsClient(stripe.RequestsClient):
        def _handle_request_error(self, e: Exception) -> NoReturn:
            if isinstance(e, requests.exceptions.Timeout):
                raise stripe.APIConnectionError(
                    f"Stripe did not answer in time (SERVICES.stripe.TIMEOUT): {e}", should_retry=False
                ) from e
            super()._handle_request_error(e)

    return RequestsClient


def http_client(settings: StripeSettings) -> stripe.HTTPClient:
    """The requests client for ``settings``: its timeout; proxy variables are ignored when the API base is
    on loopback."""
    client_class = requests_client_class()
    if not settings.api_base or not is_loopback(settings.api_base):
        return client_class(timeout=settings.timeout)
    # HTTP(S)_PROXY would send loopback traffic to the proxy, which cannot reach this machine's ports.
    session = requests.Session()
    session.trust_env = False
    return client_class(timeout=settings.timeout, session=session)


def client() -> stripe.StripeClient:
    """A StripeClient for this app's keys (and API base, when one is configured)."""
    settings = stripe_settings()
    if not settings.configured:
        raise StripeUnavailable("Stripe is not configured: set SERVICES.stripe.SECRET_KEY")
    options: dict[str, Any] = {"http_client": http_client(settings), "max_network_retries": NETWORK_RETRIES}
    if settings.api_base:
        options["base_addresses"] = {"api": settings.api_base}
        stripe.enable_telemetry = False
    return stripe.StripeClient(settings.secret_key, **options)


def is_missing(error: stripe.StripeError) -> bool:
    """Whether Stripe answered that the object does not exist (404 ``resource_missing``)."""
    return error.http_status == 404 or error.code == "resource_missing"


def create_customer(email: str, user_id: int, idempotency_key: str) -> str:
    """Create a Stripe customer; returns its id (a repeated ``idempotency_key`` returns the same one)."""
    customer = client().v1.customers.create(
        params={"email": email, "metadata": {"user_id": str(user_id)}},
        options={"idempotency_key": idempotency_key},
    )
    return _text(customer, "id")


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
    return _text(session, "url")


def open_checkouts(customer_id: str) -> list[str]:
    """The ids of the customer's open Checkout Sessions in subscription mode (each one paid would start a
    subscription of its own); a list that is none raises ``stripe.APIError``."""
    found = _fields(
        client().v1.checkout.sessions.list(params={"customer": customer_id, "status": "open", "limit": 100})
    )
    sessions = found.get("data")
    if not isinstance(sessions, list):
        raise stripe.APIError("Stripe's answer holds no list of sessions: is API_BASE Stripe's API?")
    return [
        _text(session, "id")
        for session in sessions
        if isinstance(session, dict) and session.get("mode") == "subscription"
    ]


def retrieve_checkout(session_id: str) -> dict[str, Any] | None:
    """A Checkout Session as Stripe has it now; None when Stripe does not know it (404)."""
    return _unless_missing(lambda: client().v1.checkout.sessions.retrieve(session_id))


def expire_checkout(session_id: str) -> None:
    """Expire an open Checkout Session; one paid meanwhile raises ``stripe.InvalidRequestError`` (Stripe
    expires open sessions only)."""
    client().v1.checkout.sessions.expire(session_id)


def is_missing_customer(error: stripe.StripeError) -> bool:
    """Whether Stripe refused a call because it does not know the customer it names (deleted in Stripe's
    dashboard, or made with another account's key): ``resource_missing`` on the ``customer`` param."""
    return (
        isinstance(error, stripe.InvalidRequestError)
        and error.code == "resource_missing"
        and error.param == "customer"
    )


def retrieve_customer(customer_id: str) -> dict[str, Any] | None:
    """The customer as Stripe has it now: one deleted in Stripe's dashboard is its id with ``deleted:
    true``; None when Stripe does not know the id at all (404: made under another Stripe account)."""
    return _unless_missing(lambda: client().v1.customers.retrieve(customer_id))


def create_portal_session(customer_id: str, return_url: str) -> str:
    """Create a billing-portal session; returns its URL."""
    session = client().v1.billing_portal.sessions.create(
        params={"customer": customer_id, "return_url": return_url}
    )
    return _text(session, "url")


def _fields(answer: object) -> dict[str, Any]:
    """A Stripe answer's fields; ``stripe.APIError`` (a 502 for the caller) when it is no object: what
    answered is no Stripe (a proxy's page, another API at API_BASE)."""
    if isinstance(answer, stripe.StripeObject):
        return answer.to_dict()
    if isinstance(answer, dict):
        return answer
    raise stripe.APIError("Stripe's answer is no object: is API_BASE Stripe's API?")


def _text(answer: object, name: str) -> str:
    """The text ``name`` of a Stripe answer; ``stripe.APIError`` when the answer holds none."""
    value = _fields(answer).get(name)
    if not isinstance(value, str) or not value:
        raise stripe.APIError(f"Stripe's answer holds no {name}: is API_BASE Stripe's API?")
    return value


def retrieve_subscription(subscription_id: str) -> dict[str, Any] | None:
    """The subscription as Stripe has it now; None when Stripe does not know it (404)."""
    return _unless_missing(lambda: client().v1.subscriptions.retrieve(subscription_id))


def cancel_subscription(subscription_id: str) -> dict[str, Any] | None:
    """Cancel a subscription at once (no proration); None when Stripe does not know it (404)."""
    return _unless_missing(lambda: client().v1.subscriptions.cancel(subscription_id))


def cancel_at_period_end(subscription_id: str, at_period_end: bool) -> dict[str, Any] | None:
    """Schedule (True) or withdraw (False) the subscription's cancellation at the end of the period paid
    for (Stripe's ``cancel_at_period_end``); None when Stripe does not know it (404)."""
    return _unless_missing(
        lambda: client().v1.subscriptions.update(
            subscription_id, params={"cancel_at_period_end": at_period_end}
        )
    )


def clear_cancel_at(subscription_id: str) -> dict[str, Any] | None:
    """Withdraw a cancellation set for a date (``cancel_at``, chosen in Stripe's dashboard); None when
    Stripe does not know the subscription (404)."""
    return _unless_missing(
        lambda: client().v1.subscriptions.update(subscription_id, params={"cancel_at": ""})
    )


def _unless_missing(call: Callable[[], stripe.StripeObject]) -> dict[str, Any] | None:
    """``call()``'s object as a dict; None when Stripe answers that it does not exist; other errors raise."""
    try:
        return _fields(call())
    except stripe.StripeError as error:
        if is_missing(error):
            return None
        raise


def construct_event(payload: bytes, signature: str) -> Any:
    """Verify the ``Stripe-Signature`` of a webhook, then parse its JSON body (any JSON value).

    Raises ``stripe.SignatureVerificationError`` on a bad or missing signature, or one signed more than
    ``SIGNATURE_TOLERANCE`` seconds before or after now, and ``ValueError`` when the body is not UTF-8 JSON.
    """
    secret = stripe_settings().webhook_secret
    if not secret:
        raise StripeUnavailable("Stripe webhooks are not configured: set SERVICES.stripe.WEBHOOK_SECRET")
    if not signature.isascii():
        # The library compares digests with hmac.compare_digest, which raises TypeError on such text.
        raise stripe.SignatureVerificationError("The signature header is not ASCII", signature)
    text = payload.decode("utf-8")
    # The library refuses old timestamps only; one from the future would stay replayable until then.
    stripe.WebhookSignature.verify_header(text, signature, secret, SIGNATURE_TOLERANCE)
    signed_at = _signature_timestamp(signature)
    if signed_at > time.time() + SIGNATURE_TOLERANCE:
        raise stripe.SignatureVerificationError(
            f"Timestamp is more than {SIGNATURE_TOLERANCE} seconds in the future", signature, text
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the body nests too deeply") from None


def _signature_timestamp(signature: str) -> int:
    """The ``t=`` of a header the library has already verified (it takes the first one too)."""
    for item in signature.split(","):
        parts = item.split("=", 2)
        if parts[0] == "t" and len(parts) > 1:
            return int(parts[1])
    raise stripe.SignatureVerificationError("No timestamp in the signature header", signature)
