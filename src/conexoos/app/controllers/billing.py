"""Subscriptions: choosing a plan, Stripe Checkout, the billing portal and webhooks.

The entitlement always comes from a subscription's status, never from an event's name. Every event about
a subscription applies the subscription as Stripe has it now (retrieved), so the order in which events
arrive does not matter; only when Stripe does not know the subscription is the event's own copy used, under
ordering rules. Every event id is stored in the transaction of its effect (idempotency).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadGateway, BadRequest, Conflict, HTTPException, ServiceUnavailable

from conexoos.app.dto.errors import InputError
from conexoos.app.models.persistent import StripeEvent, User
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.models.persistent.billing import StripeSubscriptionSeen
from conexoos.app.plans_config import FREE_PLAN, Plan
from conexoos.app.services import stripe_gateway as gateway
from conexoos.app.services.stripe_event import MalformedEvent, StripeEventData, object_id, parse_event
from conexoos.app.services.stripe_subscription import (
    ENTITLING_STATUSES,
    LINGERING_STATUSES,
    LIVE_STATUSES,
    PAID_PLAN_STATUSES,
    TERMINAL_STATUSES,
    SubscriptionState,
    lifecycle_rank,
    read_subscription,
)
from conexoos.framework import db
from conexoos.framework.lazy import lazy_module
from conexoos.framework.tasks import ServiceFault
from conexoos.framework.urls import external_url

from . import audit, plan_messages
from .plans import GRACE_OVER, all_plans, grace_expired, grace_over, plan_available, plan_for

# Stripe is imported at the first billing call, not with the app (see framework/lazy.py).
if TYPE_CHECKING:
    import stripe
else:
    stripe = lazy_module("stripe")

__all__ = ["plan_available"]  # the subscriptions page asks this module which plans are on sale

log = logging.getLogger("conexoos.billing")
SUBSCRIPTION_EVENTS = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
HANDLED_EVENTS = SUBSCRIPTION_EVENTS | {"checkout.session.completed", "invoice.payment_failed"}
LASTING_STATUSES = frozenset({400, 401, 403, 404})
"""Stripe's answers that the call itself is wrong (bad request, key refused or without the permission,
unknown object): they will be the same on every try."""
KEY_REFUSED = frozenset({401, 403})
"""Stripe's answers that it does not accept the site's key (wrong or revoked: 401) or that the key may not
make the call (a restricted key without the permission: 403)."""
UNCONFIRMED = (
    "We could not confirm the change with the payment provider: reload this page in a minute to see your "
    "subscription as it stands."
)
"""The 502 of a change Stripe did not answer (it may have made it) and could not be asked about."""
PORTAL_FAILED = "The payment provider could not open the billing portal."
KEEP = "keep your subscription going"
"""What Keep my subscription does, as the person's refusals say it ("so we cannot ...")."""
CHECKOUT_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
"""A Checkout Session's id as Stripe fills it into the success URL; anything else is not asked about."""
GRACE_TASK = "task billing-grace"
"""Who the audit log names for a move to gratis at the end of a grace period."""
RECONCILE_GRACE = timedelta(minutes=30)
"""How long after a subscription's end its ``customer.subscription.deleted`` webhook is waited for before
the ``billing-plan-ends`` task asks Stripe (Stripe sends it within seconds; a delivery that failed is
retried, so the first tries of a short outage are not waited for)."""


@dataclass(frozen=True)
class WebhookOutcome:
    """What a webhook did, for the response and the event log."""

    status: str
    detail: str = ""


@dataclass(frozen=True)
class Observed:
    """A subscription's state to apply: retrieved from Stripe, or the event's own copy, and the event time."""

    state: SubscriptionState
    retrieved: bool
    event_created: int


@dataclass(frozen=True)
class Decision:
    """What to do with one event: its outcome and, when it is applied, to whom and what."""

    outcome: WebhookOutcome
    user: User | None = None
    observed: Observed | None = None
    superseded: str | None = None
    """The older of the user's two subscriptions that may bill, cancelled first: the account's, which the
    applied one replaces, or the event's own, which is then not applied."""


def subscriptions_url(**params: str) -> str:
    """The absolute URL of the subscriptions page, with query parameters."""
    return external_url("subscriptions.index", **params)


# ---------------------------------------------------------------- choosing a plan


def start_checkout(user: User, plan_id: str) -> str:
    """Choose ``plan_id``: gratis is set at once; a paid plan returns a Stripe Checkout URL."""
    plan = _chosen_plan(plan_id)
    if plan.is_free:
        return _choose_free_plan(user)
    if has_paid_subscription(user):
        # A second Checkout would start a second subscription, billed on top of the first.
        if user.subscription_status == "past_due":
            raise Conflict(
                "Your subscription's last payment failed: update your payment method in the billing "
                "portal (Manage billing) to keep it, or switch to the free plan."
            )
        ending = plan_messages.plan_ending(user)
        if ending is not None and plan_messages.plan_ended(user):
            raise Conflict(f"{ending} Choose a plan again once it has: reload this page in a minute.")
        if ending is not None:
            raise Conflict(
                f"{ending} To go on with it, choose Keep my subscription; to change plans, use the "
                "billing portal (Manage billing)."
            )
        raise Conflict("You already have a subscription: change or cancel it in the billing portal.")
    if not plan_available(plan):
        raise Conflict(plan_messages.unavailable(plan))
    try:
        _cancel_lingering_subscription(user)
        customer_id = _checkout_customer(user)
        return gateway.create_checkout_session(
            customer_id,
            plan.price_id,
            user.id,
            plan.key,
            success_url=subscriptions_url(success="true") + "&session_id={CHECKOUT_SESSION_ID}",
            cancel_url=subscriptions_url(canceled="true"),
        )
    except stripe.StripeError as error:
        log.error("Stripe refused a checkout for user %s: %s", user.id, _cause(error))
        raise _payments_failed(error, "The payment provider could not start the checkout.") from None


def _checkout_customer(user: User) -> str:
    """The user's Stripe customer, its earlier checkouts expired; a new customer when Stripe no longer
    knows the stored one (deleted in Stripe's dashboard, which cancelled its subscriptions: Stripe never
    takes a deleted customer again, so asking the same would fail on every try)."""
    customer_id = _customer_for(user)
    try:
        _expire_earlier_checkouts(user, customer_id)
    except stripe.InvalidRequestError as error:
        if not gateway.is_missing_customer(error):
            raise
        replaced = _customer_for(user, replacing=customer_id)
        log.warning(
            "Stripe does not know customer %s of user %s, so the checkout uses a new customer, %s. It was "
            "deleted in Stripe's dashboard, or made under another Stripe account: if nobody deleted it, "
            "check that SERVICES.stripe.SECRET_KEY is this site's",
            customer_id, user.id, replaced,
        )  # fmt: skip
        return replaced
    return customer_id


def _expire_earlier_checkouts(user: User, customer_id: str) -> None:
    """Expire the checkouts this customer left open (another tab, the Back button): only the newest can
    be paid, so two payments never start two subscriptions (409 if one was paid a moment ago). Stripe's
    refusal to list them is raised as it is."""
    expired = gateway.open_checkouts(customer_id)
    for session_id in expired:
        try:
            gateway.expire_checkout(session_id)
        except stripe.InvalidRequestError as error:
            log.warning(
                "Stripe refused to expire checkout %s of user %s (taken as being paid now: 409): %s",
                session_id, user.id, error.user_message or error,
            )  # fmt: skip
            raise Conflict(
                "A checkout you opened earlier is being paid right now: reload this page in a minute."
            ) from None
    if expired:
        log.info("Expired %d earlier checkout(s) of user %s: %s", len(expired), user.id, ", ".join(expired))


def has_paid_subscription(user: User) -> bool:
    """Whether the subscription gives (or, past due, keeps) a paid plan: a second checkout is refused."""
    return bool(user.stripe_subscription_id) and user.subscription_status in PAID_PLAN_STATUSES


def has_live_subscription(user: User) -> bool:
    """Whether the user's subscription still exists at Stripe and may bill: choosing gratis cancels it."""
    return bool(user.stripe_subscription_id) and user.subscription_status in LIVE_STATUSES


def _chosen_plan(plan_id: str) -> Plan:
    choices = ", ".join(all_plans())
    if not plan_id:
        raise InputError(f"plan_id is required; choose one of {choices}", field="plan_id", code="required")
    plan = all_plans().get(plan_id)
    if plan is None:
        # The sent value is not echoed: it may hold control characters (a hand-made post's "%00").
        raise InputError(
            f"plan_id names no plan of this site; choose one of {choices}",
            field="plan_id",
            code="unknown_plan",
        )
    return plan


def is_ending(user: User) -> bool:
    """Whether the user's subscription is cancelled at the end of its period and still runs until then."""
    return has_live_subscription(user) and user.plan_ends_at is not None


def cancels_at_period_end(user: User) -> bool:
    """Whether cancelling keeps the paid plan until the end of the period paid for: the subscription is
    in good standing (active or trialing). One past due, unpaid or incomplete is cancelled at once."""
    return bool(user.stripe_subscription_id) and user.subscription_status in ENTITLING_STATUSES


def can_cancel(user: User) -> bool:
    """Whether the plans page offers to cancel the subscription: one that may still bill and is not set to
    end, or one set to end that is not in good standing (past due: nothing paid is left to keep, so it is
    cancelled at once rather than left to bill until its end)."""
    return has_live_subscription(user) and not (is_ending(user) and cancels_at_period_end(user))


def bills_without_paid_plan(user: User) -> bool:
    """Whether a subscription that may still bill (:func:`can_cancel`) and would be cancelled at once gives
    no paid plan any more (past due beyond its grace period, unpaid, incomplete, paused): the free plan is
    the current one, yet the subscription is there to cancel, so that Stripe stops billing (and retrying)
    it. One in good standing at a price no plan has is left out: it would end with its period."""
    return can_cancel(user) and not cancels_at_period_end(user) and plan_for(user).is_free


def _choose_free_plan(user: User) -> str:
    """Gratis: a subscription in good standing is cancelled at the end of the period paid for (its plan
    kept until then); any other that still exists at Stripe is cancelled at once, so billing stops."""
    if cancels_at_period_end(user):
        _change_cancellation(user, at_period_end=True)
        return subscriptions_url()
    if has_live_subscription(user):
        _cancel_at_stripe(user, "move you to Gratis")
    user.subscription_plan = FREE_PLAN
    user.save()
    return subscriptions_url()


def checkout_paid(user: User, session_id: str) -> bool:
    """Whether ``session_id`` (the success URL's) is a checkout of ``user``'s customer that Stripe has as
    completed: back from it before the webhook, the plans page says the payment is being confirmed. The
    address bar alone proves nothing, so Stripe is asked; when it cannot be, False, and the page shows the
    plan as stored (the webhook changes it all the same)."""
    customer_id = user.stripe_customer_id
    if not customer_id or not CHECKOUT_ID.fullmatch(session_id) or not gateway.stripe_settings().configured:
        return False
    try:
        session = gateway.retrieve_checkout(session_id)
    except stripe.StripeError as error:
        log.warning(
            "Stripe could not tell about checkout %s of user %s: %s", session_id, user.id, _cause(error)
        )
        return False
    return (
        session is not None and session.get("customer") == customer_id and session.get("status") == "complete"
    )


def keep_subscription(user: User) -> None:
    """Withdraw the cancellation at the period's end ("Keep my subscription"): the subscription renews
    again. 409 when none is scheduled (as Stripe has it, asked when the stored state says none), without
    Stripe keys, or when it ended meanwhile; 502 when Stripe refuses or does not know the subscription
    (nothing is stored then)."""
    if not is_ending(user) and has_live_subscription(user) and gateway.stripe_settings().configured:
        # What is stored may lag behind Stripe (a change whose answer never came, a webhook not yet here).
        _refresh(user, KEEP)
    if not is_ending(user):
        raise Conflict(plan_messages.nothing_to_keep(user))
    state = _change_cancellation(user, at_period_end=False)
    if state.terminal:
        raise Conflict("Your subscription has already ended: choose a plan to subscribe again.")


def _change_cancellation(user: User, at_period_end: bool) -> SubscriptionState:
    """Set the subscription's ``cancel_at_period_end`` at Stripe and store its state as Stripe answers
    (409 without keys; 502 when Stripe refuses or does not know it, nothing stored). When Stripe does not
    answer (it may have made the change), the subscription is asked for and stored: 502 unless the change
    was made."""
    subscription_id = str(user.stripe_subscription_id)
    action = "cancel your subscription" if at_period_end else KEEP
    if not gateway.stripe_settings().configured:
        raise Conflict(f"Payments are not set up on this site at the moment, so we cannot {action}.")
    confirmed = True
    try:
        answer = _cancellation_answer(subscription_id, at_period_end)
    except stripe.APIConnectionError as error:
        # A timeout or a lost connection: Stripe may have made the change without its answer reaching us.
        answer, confirmed = _asked_after_silence(user, at_period_end, error), False
    except stripe.StripeError as error:
        answer = _ended_meanwhile(subscription_id, error)
        if answer is None:
            log.error(
                "Stripe refused cancel_at_period_end=%s for %s (user %s): %s",
                at_period_end, subscription_id, user.id, _cause(error),
            )  # fmt: skip
            raise _payments_failed(
                error, f"The payment provider could not {action}.", unchanged=True
            ) from None
    state = _store_answer(user, answer, action)
    if not confirmed and not state.terminal and (state.ends_at is not None) != at_period_end:
        raise BadGateway(
            f"The payment provider did not answer, and has not made the change, so we could not "
            f"{action}: try again in a minute."
        )
    return state


def _store_answer(user: User, answer: dict[str, Any] | None, action: str) -> SubscriptionState:
    """Store the user's subscription as Stripe answered it (see :func:`_answered_state`); its state."""
    state = _answered_state(answer, user, action)
    with transaction():
        _write_state(user, Observed(state, retrieved=True, event_created=int(time.time())))
    return state


def _asked_after_silence(
    user: User, at_period_end: bool, error: stripe.APIConnectionError
) -> dict[str, Any] | None:
    """The subscription as Stripe has it, once it did not answer a change (which it may have made); 502
    when it cannot be asked either, saying the change could not be confirmed (it may have been made)."""
    subscription_id = str(user.stripe_subscription_id)
    log.warning(
        "Stripe did not answer cancel_at_period_end=%s for %s (user %s): %s; asking it for the subscription",
        at_period_end, subscription_id, user.id, error,
    )  # fmt: skip
    try:
        return gateway.retrieve_subscription(subscription_id)
    except stripe.StripeError as retrieval:
        log.error(
            "Stripe did not answer cancel_at_period_end=%s for %s (user %s), nor could it be asked for the "
            "subscription: %s; it is stored as it was until its webhook comes",
            at_period_end, subscription_id, user.id, _cause(retrieval),
        )  # fmt: skip
        raise BadGateway(UNCONFIRMED) from None


def _refresh(user: User, action: str) -> None:
    """Store the user's subscription as Stripe has it now, before ``action`` (502 when Stripe cannot be
    asked, or does not know it)."""
    try:
        found = gateway.retrieve_subscription(str(user.stripe_subscription_id))
    except stripe.StripeError as error:
        log.error(
            "Stripe could not be asked for subscription %s (user %s): %s",
            user.stripe_subscription_id, user.id, _cause(error),
        )  # fmt: skip
        raise _payments_failed(
            error, "The payment provider could not be asked about your subscription."
        ) from None
    _store_answer(user, found, action)


def learn_period_end(user: User) -> None:
    """Store, as Stripe has it, a subscription in good standing whose period's end is not stored (paid for
    before revision 0034), so that the cancel confirmation can say until when the plan is kept. Only asks;
    when Stripe cannot answer, or does not know the subscription, nothing is stored (the confirmation then
    says "the end of the period you paid for", and the cancellation's answer stores the date)."""
    if user.period_ends_at is not None or not cancels_at_period_end(user):
        return
    if not gateway.stripe_settings().configured:
        return
    subscription_id = str(user.stripe_subscription_id)
    try:
        found = gateway.retrieve_subscription(subscription_id)
    except stripe.StripeError as error:
        log.warning(
            "Stripe could not be asked for the period's end of subscription %s (user %s): %s",
            subscription_id, user.id, _cause(error),
        )  # fmt: skip
        return
    state = read_subscription(found) if found is not None else None
    if state is None:
        log.warning(
            "Stripe %s subscription %s (user %s): its period's end is not known",
            "does not know" if found is None else "answered without a status", subscription_id, user.id,
        )  # fmt: skip
        return
    with transaction():
        _write_state(user, Observed(state, retrieved=True, event_created=int(time.time())))


def _cancellation_answer(subscription_id: str, at_period_end: bool) -> dict[str, Any] | None:
    """Stripe's subscription after setting ``cancel_at_period_end``; resuming also withdraws a date set in
    Stripe's dashboard (``cancel_at``), which ``cancel_at_period_end=false`` leaves. None: unknown."""
    answer = gateway.cancel_at_period_end(subscription_id, at_period_end)
    state = read_subscription(answer) if answer is not None else None
    if not at_period_end and state is not None and state.ends_at is not None:
        answer = gateway.clear_cancel_at(subscription_id)
    return answer


def _ended_meanwhile(subscription_id: str, error: stripe.StripeError) -> dict[str, Any] | None:
    """The subscription when Stripe refused the change because it has ended (its webhook has not come
    yet: Stripe refuses to change a canceled subscription with a 400); None otherwise, or when Stripe
    cannot be asked (the first refusal is then what the person hears)."""
    if not isinstance(error, stripe.InvalidRequestError) or error.http_status != 400:
        return None
    try:
        found = gateway.retrieve_subscription(subscription_id)
    except stripe.StripeError as retrieval:
        log.warning("Stripe could not be asked for subscription %s: %s", subscription_id, _cause(retrieval))
        return None
    state = read_subscription(found) if found is not None else None
    return found if state is not None and state.terminal else None


def _answered_state(answer: dict[str, Any] | None, user: User, action: str) -> SubscriptionState:
    """The state Stripe answered about the user's subscription; 502 when Stripe does not know it
    (:func:`_unknown_subscription`: ``action`` is not done) or the answer holds no status (what answered
    is no Stripe)."""
    if answer is None:
        raise _unknown_subscription(user, action)
    state = read_subscription(answer)
    if state is None:
        log.error(
            "Stripe answered subscription %s without a status: is API_BASE Stripe's API?",
            user.stripe_subscription_id,
        )
        raise BadGateway("The payment provider's answer could not be read: reload this page in a minute.")
    return state


def _unknown_subscription(user: User, action: str) -> HTTPException:
    """The 502 of a person's ``action`` on a subscription Stripe does not know (404): nothing is changed or
    stored, as in :func:`reconcile_plan_ends` (a plan never ends without Stripe's word; a key of another
    Stripe account would say 404 of every subscription). One warning tells the operator what to check."""
    log.warning(
        "Stripe does not know subscription %s (user %s), so nothing was changed (asked to %s): check that "
        "SERVICES.stripe.SECRET_KEY is the key of the Stripe account that holds it, and the subscription "
        "in Stripe's dashboard",
        user.stripe_subscription_id, user.id, action,
    )  # fmt: skip
    return BadGateway(
        f"The payment provider does not know your subscription, so we cannot {action}. Nothing has "
        "changed: please contact the people who run this site."
    )


def cancel_before_deletion(user: User) -> None:
    """Cancel a subscription that may still bill, before the account is deleted (409 without Stripe keys,
    502 when Stripe refuses or does not know it, as it may bill under another key: the caller then
    deletes nothing)."""
    if has_live_subscription(user):
        _cancel_at_stripe(user, "delete your account")


def _cancel_lingering_subscription(user: User) -> None:
    """Cancel an unpaid or incomplete subscription before a new checkout starts a second one."""
    if not user.stripe_subscription_id or user.subscription_status not in LINGERING_STATUSES:
        return
    # The stored status may lag behind Stripe (an invoice paid in the portal): ask before cancelling.
    found = gateway.retrieve_subscription(user.stripe_subscription_id)
    if found is None:
        raise _unknown_subscription(user, "start a new subscription")
    state = read_subscription(found)
    if state is not None and state.status not in LINGERING_STATUSES:
        with transaction():
            _write_state(user, Observed(state, retrieved=True, event_created=int(time.time())))
        if not state.terminal:
            raise Conflict("You already have a subscription: change or cancel it in the billing portal.")
        return
    _cancel_at_stripe(user, "start a new subscription")


def _cancel_at_stripe(user: User, purpose: str) -> None:
    """Cancel the user's subscription at Stripe now and store it as Stripe answers (409 without keys, else
    502: Stripe refused, or does not know the subscription, see :func:`_ended_before`)."""
    subscription_id = str(user.stripe_subscription_id)
    if not gateway.stripe_settings().configured:
        raise Conflict(
            f"Your subscription cannot be cancelled while payments are not set up, so we cannot {purpose}."
        )
    failed = f"The payment provider could not cancel your subscription, so we cannot {purpose}."
    state = _cancel(
        subscription_id, f"user {user.id}", lambda error: _payments_failed(error, failed, unchanged=True)
    ) or _ended_before(user, purpose, failed)
    with transaction():
        _write_state(user, Observed(state, retrieved=True, event_created=int(time.time())))


def _customer_for(user: User, replacing: str | None = None) -> str:
    """The user's Stripe customer, created once and reused; a new one in place of ``replacing``, a
    customer Stripe no longer knows."""
    if user.stripe_customer_id and user.stripe_customer_id != replacing:
        return user.stripe_customer_id
    # Stripe replays a key for 24 hours across the whole account: naming the user row (id and creation
    # time) lets double clicks share one customer without another database's user 1 receiving this one.
    key = f"customer-{user.id}-{user.created_at:%Y%m%d%H%M%S%f}"
    if replacing:
        key += f"-after-{replacing}"  # the first key would replay the deleted customer
    elif user.stripe_subscription_id:
        # No customer, yet a subscription: its customer was forgotten, deleted at Stripe (_forget_customer).
        key += f"-after-{user.stripe_subscription_id}"
    user.stripe_customer_id = gateway.create_customer(user.email, user.id, key)
    user.save()
    return user.stripe_customer_id


def portal_url(user: User) -> str:
    """A billing-portal URL for the user's Stripe customer (409 without one or without keys; 502)."""
    if not user.stripe_customer_id:
        raise Conflict(plan_messages.no_billing_account())
    if not gateway.stripe_settings().configured:
        raise Conflict("Billing is not available right now: payments are not set up.")
    try:
        return gateway.create_portal_session(user.stripe_customer_id, subscriptions_url())
    except stripe.StripeError as error:
        if gateway.is_missing_customer(error):
            raise _customer_gone(user) from None
        log.error("Stripe refused a portal session for user %s: %s", user.id, _cause(error))
        raise _payments_failed(error, PORTAL_FAILED) from None


def _customer_gone(user: User) -> HTTPException:
    """The refusal of the billing portal for a customer Stripe does not know. Stripe is asked about it:
    deleted (in Stripe's dashboard), its id is forgotten (:func:`_forget_customer`) and the person told
    that a paid plan's checkout makes a new one (409); unknown under this key altogether (a key of another
    Stripe account), nothing is changed and the operator is told which setting to check (502)."""
    customer_id = str(user.stripe_customer_id)
    try:
        found = gateway.retrieve_customer(customer_id)
    except stripe.StripeError as error:
        log.error(
            "Stripe does not know customer %s of user %s for the billing portal, and could not be asked "
            "about it: %s", customer_id, user.id, _cause(error),
        )  # fmt: skip
        return _payments_failed(error, PORTAL_FAILED)
    if found is None or found.get("deleted") is not True:
        log.error(
            "Stripe does not know customer %s of user %s (asked for the billing portal): check that "
            "SERVICES.stripe.SECRET_KEY is the key of the Stripe account that holds it",
            customer_id, user.id,
        )  # fmt: skip
        return BadGateway(
            "The payment provider does not know your billing account, so the billing portal cannot be "
            "opened. Nothing has changed: please contact the people who run this site."
        )
    _forget_customer(user, customer_id)
    return Conflict(plan_messages.billing_account_deleted())


def _forget_customer(user: User, customer_id: str) -> None:
    """Forget ``customer_id``, which Stripe has as deleted, so that no checkout names it again (the next
    one makes a new customer). Deleting a customer cancels its subscriptions: one stored as live is first
    stored as Stripe has it (its webhook, naming the forgotten customer, would be ignored); should Stripe
    not answer, or have it live still, the id is kept and the next try forgets it."""
    if has_live_subscription(user):
        subscription_id = str(user.stripe_subscription_id)
        try:
            found = gateway.retrieve_subscription(subscription_id)
        except stripe.StripeError as error:
            log.warning(
                "Customer %s of user %s is deleted at Stripe; its subscription %s could not be asked about "
                "(%s), so the customer is kept until the next try", customer_id, user.id, subscription_id,
                _cause(error),
            )  # fmt: skip
            return
        state = read_subscription(found) if found is not None else None
        if state is None or not state.terminal:
            log.warning(
                "Customer %s of user %s is deleted at Stripe, yet its subscription %s is %s there: the "
                "customer is kept", customer_id, user.id, subscription_id,
                state.status if state is not None else "unknown",
            )  # fmt: skip
            return
        with transaction():
            _write_state(user, Observed(state, retrieved=True, event_created=int(time.time())))
    with transaction():
        user.stripe_customer_id = None
    log.warning(
        "Stripe has customer %s of user %s as deleted (in Stripe's dashboard): the account forgets it, and "
        "its next checkout makes a new customer. If nobody deleted it, look at Stripe's dashboard's logs",
        customer_id, user.id,
    )  # fmt: skip


def _lasting(error: stripe.StripeError) -> bool:
    """Whether Stripe refused the call itself (a key it does not accept, a price or customer it does not
    know: its 400, 401, 403 and 404), which trying again cannot mend; a timeout, a lost connection, a rate
    limit or Stripe's own 5xx may pass."""
    return error.http_status in LASTING_STATUSES


def _cause(error: stripe.StripeError) -> str:
    """What the operator reads in the log about ``error`` (the logs hide the configured secrets)."""
    return f"{error} {_lasting_advice(error)}" if _lasting(error) else str(error)


def _lasting_advice(error: stripe.StripeError) -> str:
    """What to check after a refusal trying again will not mend (:func:`_lasting`)."""
    return (
        f"(HTTP {error.http_status}, {type(error).__name__}: trying again will not help; check "
        "SERVICES.stripe.SECRET_KEY and the plans' PRICE_ID in APP.PLANS against the Stripe account)"
    )


def _payments_failed(error: stripe.StripeError, failed: str, unchanged: bool = False) -> HTTPException:
    """The 502 of a person's request Stripe failed, ``failed`` saying what could not be done: payments
    are unavailable when trying again cannot help (:func:`_lasting`), else try again in a minute.
    ``unchanged``: the request was a change, which Stripe's refusal leaves undone; one Stripe did not
    answer (a timeout, a lost connection) may have been made, so it is not said to be undone."""
    if unchanged and isinstance(error, stripe.APIConnectionError):
        return BadGateway(UNCONFIRMED)
    if _lasting(error):
        nothing = " Nothing has changed." if unchanged else ""
        return BadGateway(
            f"{failed}{nothing} Payments are unavailable on this site at the moment: "
            "please contact the people who run it."
        )
    return BadGateway(f"{failed} {'Nothing has changed; try' if unchanged else 'Try'} again in a minute.")


# ---------------------------------------------------------------- webhooks


def handle_webhook(payload: bytes, signature: str | None) -> WebhookOutcome:
    """Verify, de-duplicate and apply one Stripe event; its id is stored with its effect."""
    event = _verified_event(payload, signature)
    if db.session.get(StripeEvent, event.id) is not None:
        return WebhookOutcome("duplicate")
    decision = _decide(event)
    ended = _cancel_superseded(decision, event)
    try:
        with transaction():
            if ended is not None:
                _remember(ended, int(time.time()))
            if decision.user is not None and decision.observed is not None:
                _write_state(decision.user, decision.observed)
            db.session.add(StripeEvent(id=event.id, type=event.type, outcome=decision.outcome.status))
    except IntegrityError:
        # A concurrent delivery of the same event won the race: this one's effect is rolled back.
        if db.session.get(StripeEvent, event.id) is not None:
            return WebhookOutcome("duplicate")
        raise ServiceUnavailable(
            "Another event changed this subscription at the same moment: retry."
        ) from None
    return decision.outcome


def _cancel_superseded(decision: Decision, event: StripeEventData) -> SubscriptionState | None:
    """Cancel the older subscription ``decision`` names, at Stripe, before anything is applied; its state
    as cancelled (None: nothing to cancel). 503 when Stripe cannot: the event is delivered again."""
    if decision.superseded is None or decision.user is None:
        return None
    subscription_id = decision.superseded
    refusal = ServiceUnavailable(
        f"Stripe could not cancel subscription {subscription_id}, the older of two; "
        "the event will be processed when Stripe retries it."
    )
    whose = f"replaced by event {event.id}"
    state = _cancel(subscription_id, whose, lambda error: refusal)
    if state is None:
        # Not the account's plan any more: the subscription the event applies replaces it.
        log.warning("Stripe does not know subscription %s (%s): stored as canceled", subscription_id, whose)
        state = SubscriptionState(subscription_id, decision.user.stripe_customer_id, "canceled", (), None)
    log.warning(
        "User %s paid a second subscription: %s, the older, cancelled at Stripe (event %s)",
        decision.user.id, subscription_id, event.id,
    )  # fmt: skip
    return state


def _cancel(
    subscription_id: str, whose: str, refusal: Callable[[stripe.StripeError], HTTPException]
) -> SubscriptionState | None:
    """Cancel ``subscription_id`` at Stripe now: its state as Stripe answers; None when Stripe answers that
    it does not know it (also Stripe's answer for one that has ended already). When Stripe refuses, the
    error is logged (naming ``whose``) and ``refusal(error)`` raised."""
    try:
        canceled = gateway.cancel_subscription(subscription_id)
    except stripe.StripeError as error:
        log.error("Stripe refused to cancel %s (%s): %s", subscription_id, whose, _cause(error))
        raise refusal(error) from None
    return read_subscription(canceled) if canceled is not None else None


def _ended_before(user: User, purpose: str, failed: str) -> SubscriptionState:
    """The user's subscription as Stripe has it, once Stripe answered that it does not know it to its
    cancellation: it had ended (Stripe takes a canceled subscription for a deleted one), or Stripe does
    not know it at all (502, nothing changed: :func:`_unknown_subscription`). 502 ``failed`` when Stripe
    cannot be asked, or has it still live."""
    subscription_id = str(user.stripe_subscription_id)
    try:
        found = gateway.retrieve_subscription(subscription_id)
    except stripe.StripeError as error:
        log.error(
            "Stripe could not be asked for subscription %s (user %s), which it would not cancel: %s",
            subscription_id, user.id, _cause(error),
        )  # fmt: skip
        raise _payments_failed(error, failed, unchanged=True) from None
    state = _answered_state(found, user, purpose)
    if not state.terminal:
        log.error(
            "Stripe answered 404 to cancelling subscription %s (user %s), yet has it %s",
            subscription_id, user.id, state.status,
        )  # fmt: skip
        raise BadGateway(f"{failed} Nothing has changed; try again in a minute.")
    return state


def _verified_event(payload: bytes, signature: str | None) -> StripeEventData:
    try:
        raw = gateway.construct_event(payload, signature or "")
        return parse_event(raw, latest_created=time.time() + gateway.SIGNATURE_TOLERANCE)
    except gateway.StripeUnavailable as error:
        raise ServiceUnavailable(str(error)) from None
    except stripe.SignatureVerificationError as error:
        raise BadRequest(f"The Stripe signature is missing or invalid: {error.user_message}.") from None
    except MalformedEvent as error:
        raise BadRequest(f"not a Stripe event: {error}") from None
    except ValueError as error:  # not UTF-8, or not JSON
        raise BadRequest(f"not a Stripe event: the body is not JSON ({type(error).__name__})") from None


def _decide(event: StripeEventData) -> Decision:
    if event.type not in HANDLED_EVENTS:
        return Decision(WebhookOutcome("ignored", "event type not handled"))
    key_livemode = gateway.stripe_settings().livemode
    if event.livemode is not None and key_livemode is not None and event.livemode != key_livemode:
        log.info(
            "Stripe event %s ignored: livemode=%s but the key is for the other mode", event.id, event.livemode
        )
        return Decision(WebhookOutcome("ignored", "the event's mode (live/test) is not the key's"))
    customer_id, subscription_id = _references(event)
    user = User.get_by_stripe_customer(customer_id) if customer_id else None
    if user is None or not subscription_id:
        log.info(
            "Stripe event %s ignored: customer %s is no user's, or no subscription", event.id, customer_id
        )
        return Decision(WebhookOutcome("ignored", "unknown customer or no subscription"))
    observed = _observe(event, subscription_id)
    if observed is None:
        return Decision(WebhookOutcome("ignored", f"Stripe does not know subscription {subscription_id}"))
    return _decide_state(user, observed, f"Stripe event {event.id}")


def _decide_state(user: User, observed: Observed, source: str) -> Decision:
    """What to do with ``observed``, a state of one of ``user``'s subscriptions, whether a webhook or the
    reconciliation (:func:`reconcile_plan_ends`) brought it: ``source`` names which, for the log."""
    if observed.state.customer != user.stripe_customer_id:
        log.warning(
            "%s ignored: subscription %s belongs to customer %s, not user %s's %s",
            source, observed.state.id, observed.state.customer, user.id, user.stripe_customer_id,
        )  # fmt: skip
        return Decision(WebhookOutcome("ignored", "the subscription belongs to another customer"))
    refusal = _refusal(user, observed)
    if refusal is not None:
        return Decision(refusal)
    plan = _plan_for_state(observed.state)
    if plan is None and observed.state.status in PAID_PLAN_STATUSES:
        log.warning(
            "Subscription %s has price(s) %s, which match no plan in APP.PLANS: it gives the free plan",
            observed.state.id, ", ".join(observed.state.price_ids) or "(none)",
        )  # fmt: skip
    if _older_than_current(user, observed):
        detail = (
            f"{observed.state.id} started before {user.stripe_subscription_id}, which the account keeps: "
            "it is cancelled"
        )
        return Decision(WebhookOutcome("ignored", detail), user, None, superseded=observed.state.id)
    detail = f"{observed.state.status} → {plan.key if plan else FREE_PLAN}"
    superseded = _superseded(user, observed)
    if superseded is not None:
        detail += f"; {superseded}, which it replaces, is cancelled"
    return Decision(WebhookOutcome("applied", detail), user, observed, superseded)


def _older_than_current(user: User, observed: Observed) -> bool:
    """Whether ``observed`` is a paid subscription started before the account's current one, which may
    still bill: of a customer's two, the newest is kept, whichever event comes last (a retried event
    about the older one came after the newer was applied). Asks Stripe when the account's was started."""
    current = user.stripe_subscription_id
    started = observed.state.created
    if not current or current == observed.state.id or started is None or not _entitles(observed):
        return False
    if user.subscription_status not in LIVE_STATUSES:
        return False
    found = _retrieved_for_event(current, "comparing two subscriptions")
    kept = read_subscription(found) if found is not None else None
    return kept is not None and not kept.terminal and kept.created is not None and started < kept.created


def _superseded(user: User, observed: Observed) -> str | None:
    """The user's tracked subscription when ``observed`` is another one that entitles (a second checkout
    was paid) and the tracked one may still bill: one customer keeps one subscription."""
    current = user.stripe_subscription_id
    if current and current != observed.state.id and user.subscription_status in LIVE_STATUSES:
        return current if _entitles(observed) else None
    return None


def _references(event: StripeEventData) -> tuple[str | None, str | None]:
    """The event's customer id and subscription id (either may be None)."""
    obj = event.object
    if event.type == "checkout.session.completed":
        return object_id(obj.get("customer")), object_id(obj.get("subscription"))
    if event.type == "invoice.payment_failed":
        return object_id(obj.get("customer")), _invoice_subscription(obj)
    return object_id(obj.get("customer")), object_id(obj)


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    # Older API versions put it on the invoice, newer ones under parent.subscription_details.
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    nested = details.get("subscription") if isinstance(details, dict) else None
    return object_id(invoice.get("subscription")) or object_id(nested)


def _retrieved_for_event(subscription_id: str, why: str) -> dict[str, Any] | None:
    """The subscription as Stripe has it now (None: Stripe does not know it), while a webhook is handled;
    503 when Stripe cannot answer, so that Stripe delivers the event again later."""
    try:
        return gateway.retrieve_subscription(subscription_id)
    except gateway.StripeUnavailable as error:
        raise ServiceUnavailable(f"{error}; the event will be processed when Stripe retries it.") from None
    except stripe.StripeError as error:
        if error.http_status in KEY_REFUSED:
            raise _key_refused(error, subscription_id, why) from None
        log.error(
            "Stripe could not be asked for subscription %s (%s): %s", subscription_id, why, _cause(error)
        )
        raise ServiceUnavailable(
            "Stripe could not be reached to read the subscription; "
            "the event will be processed when Stripe retries it."
        ) from None


def _key_refused(error: stripe.StripeError, subscription_id: str, why: str) -> HTTPException:
    """The 503 of a webhook whose subscription Stripe would not let this site read: the key is wrong,
    revoked, or a restricted key without that permission. The event is not applied nor acknowledged, so
    Stripe delivers it again (for up to three days) and it is applied once the key is mended; meanwhile
    each delivery logs an error naming the setting to fix, and the answer, shown in Stripe's dashboard
    beside the event, says the same."""
    log.error(
        "Stripe refused this site's secret key (HTTP %s, %s) when asked for subscription %s (%s): the event "
        "is not applied, and Stripe delivers it again for up to three days. Set SERVICES.stripe.SECRET_KEY "
        "to a secret key (or a restricted key that may read subscriptions) of the Stripe account that sends "
        "the webhooks: %s",
        error.http_status, type(error).__name__, subscription_id, why, error,
    )  # fmt: skip
    return ServiceUnavailable(
        f"Stripe refused the site's API key (HTTP {error.http_status}) when the subscription was read: the "
        "event was not applied. It will be when Stripe delivers it again, once the site's "
        "SERVICES.stripe.SECRET_KEY is a key of this Stripe account."
    )


def _observe(event: StripeEventData, subscription_id: str) -> Observed | None:
    """The subscription as Stripe has it now; the event's copy when Stripe does not know it; else None.

    503 when Stripe cannot answer, so that Stripe delivers the event again later.
    """
    current = _retrieved_for_event(subscription_id, f"event {event.id}")
    if current is not None:
        state = read_subscription(current)
        if state is None:
            raise ServiceUnavailable(f"Stripe answered subscription {subscription_id} without a status.")
        return Observed(state, retrieved=True, event_created=event.created)
    if event.type not in SUBSCRIPTION_EVENTS:
        return None
    state = read_subscription(event.object)
    if state is None:
        raise BadRequest("not a Stripe event: data.object is a subscription without a status")
    return Observed(state, retrieved=False, event_created=event.created)


def _refusal(user: User, observed: Observed) -> WebhookOutcome | None:
    """Why this state must not be applied (stale, or about a replaced subscription), or None."""
    state = observed.state
    if not observed.retrieved:
        stale = _stale(user, state, observed.event_created)
        if stale is not None:
            return WebhookOutcome("stale", stale)
    current = user.stripe_subscription_id
    if current and current != state.id and not _entitles(observed):
        return WebhookOutcome("ignored", "the event is about a subscription the user has replaced")
    if current == state.id and state.terminal and user.subscription_status in TERMINAL_STATUSES:
        # Nothing left to apply; staff may have given the account a plan since (user_management).
        return WebhookOutcome("ignored", f"the subscription already ended ({user.subscription_status})")
    return None


def _stale(user: User, state: SubscriptionState, event_created: int) -> str | None:
    """For an event's own copy of a subscription: why it is older than what was applied, or None."""
    seen = StripeSubscriptionSeen.get(state.id)
    if seen is not None:
        last_status, last_created = seen.status, seen.event_created
    elif user.stripe_subscription_id == state.id and user.subscription_status:
        last_status, last_created = user.subscription_status, user.billing_event_at
    else:
        return None
    if last_status in TERMINAL_STATUSES:
        return f"the subscription already ended ({last_status})"
    if event_created < last_created:
        return "an event newer than this one was already applied"
    if event_created == last_created and lifecycle_rank(state.status) < lifecycle_rank(last_status):
        return f"{state.status} comes before {last_status}, applied in the same second"
    return None


def _entitles(observed: Observed) -> bool:
    """Whether the state gives a paid plan: active or trialing, or past due within the grace period."""
    state = observed.state
    if _plan_for_state(state) is None:
        return False
    if state.status in ENTITLING_STATUSES:
        return True
    return state.status == "past_due" and not grace_over(_past_due_start(observed))


def _write_state(user: User, observed: Observed) -> None:
    """Put the subscription's state on the user (in the caller's transaction) and remember it."""
    state = observed.state
    still_past_due = user.subscription_status == "past_due" and user.stripe_subscription_id == state.id
    plan = _plan_for_state(state)
    user.billing_event_at = max(user.billing_event_at, observed.event_created)
    user.stripe_subscription_id = state.id
    user.subscription_status = state.status
    user.subscription_plan = plan.key if plan is not None else FREE_PLAN
    user.plan_ends_at = _moment(state.ends_at)
    user.period_ends_at = None if state.terminal else _moment(state.period_end)
    if state.status != "past_due":
        user.past_due_since = None
    elif not (still_past_due and user.past_due_since is not None):
        user.past_due_since = _past_due_start(observed)
    _remember(state, observed.event_created)


def _moment(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


def _remember(state: SubscriptionState, event_created: int) -> None:
    seen = StripeSubscriptionSeen.get(state.id)
    if seen is None:
        db.session.add(StripeSubscriptionSeen(id=state.id, status=state.status, event_created=event_created))
        return
    seen.status = state.status
    seen.event_created = max(seen.event_created, event_created)


def _past_due_start(observed: Observed) -> datetime:
    """When the subscription fell past due: its current period's start as Stripe has it (the renewal that
    failed), else the event's time; never the time the webhook happens to be processed."""
    start = min(observed.event_created, int(time.time()))
    if observed.retrieved and observed.state.period_start is not None:
        start = min(observed.state.period_start, int(time.time()))
    return datetime.fromtimestamp(start, UTC)


def _plan_for_state(state: SubscriptionState) -> Plan | None:
    """The paid plan a subscription in this state gives (None: gratis); unknown prices give gratis."""
    if state.status not in PAID_PLAN_STATUSES:
        return None
    for plan in all_plans().values():
        if plan.price_id and plan.price_id in state.price_ids:
            return plan
    return None


def end_expired_grace_periods() -> int:
    """Move users whose past-due grace period is over to gratis; returns how many. Each move is in the
    audit log (:data:`GRACE_OVER`, by the ``billing-grace`` task) with the paid plan it had and the
    subscription, so that the messages can still name the plan whose payment failed
    (:func:`plans.lapsed_plan`)."""
    users = db.session.scalars(select(User).where(User.subscription_status == "past_due")).all()
    expired = [user for user in users if grace_expired(user) and user.subscription_plan != FREE_PLAN]
    with transaction():
        for user in expired:
            paid = {"plan": user.subscription_plan, "subscription": user.stripe_subscription_id}
            user.subscription_plan = FREE_PLAN
            audit.record(
                GRACE_OVER,
                user,
                paid,
                {"plan": FREE_PLAN, "subscription": user.stripe_subscription_id},
                f"{user.username}'s subscription is past due beyond its grace period: {paid['plan']} → "
                f"{FREE_PLAN}",
                acting=GRACE_TASK,
            )
    return len(expired)


# ---------------------------------------------------------------- reconciling ends Stripe did not tell


def reconcile_plan_ends(now: datetime | None = None) -> int:
    """Ask Stripe about every subscription whose end (``plan_ends_at``) passed more than
    :data:`RECONCILE_GRACE` ago while it is still stored as live (its ``customer.subscription.deleted``
    webhook never came, or a Keep in the portal went unheard), and apply what Stripe has through the
    webhooks' rules: ended, the account moves to gratis; kept or renewed, its dates are updated. Returns
    how many were applied. A plan never ends without Stripe's word: a subscription Stripe does not know is
    left as it is (logged), and when Stripe is not configured or fails the run stops there and fails with
    :class:`ServiceFault`
    (the ``billing-plan-ends`` task's failure, logged in one line by the scheduler, which runs it again
    after its back-off)."""
    overdue = _overdue_ends((now or utcnow()) - RECONCILE_GRACE)
    if not overdue:
        return 0
    if not gateway.stripe_settings().configured:  # the task's failure: it cannot do its work
        raise ServiceFault(
            f"{len(overdue)} subscription(s) set to end have passed their end without Stripe's word, and "
            "Stripe is not configured (SERVICES.stripe.SECRET_KEY), so they keep their plan until it can be "
            "asked; running the task again will not help until the key is set"
        )
    applied = 0
    for index, user in enumerate(overdue):
        try:
            found = gateway.retrieve_subscription(str(user.stripe_subscription_id))
        except stripe.StripeError as error:
            left, advice = len(overdue) - index, f" {_lasting_advice(error)}" if _lasting(error) else ""
            raise ServiceFault(
                f"Stripe could not be asked about {left} subscription(s) whose end has passed (first: "
                f"{user.stripe_subscription_id} of user {user.id}); they are left as they are until the task "
                f"runs again{advice}"
            ) from error
        applied += _reconcile(user, found)
    return applied


def _overdue_ends(before: datetime) -> list[User]:
    """The users whose live subscription was set to end before ``before``, the earliest end first."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.plan_ends_at < before,
                User.stripe_subscription_id.is_not(None),
                User.subscription_status.in_(LIVE_STATUSES),
            )
            .order_by(User.plan_ends_at, User.id)
        ).all()
    )


def _reconcile(user: User, found: dict[str, Any] | None) -> int:
    """Apply ``found``, the user's subscription as Stripe has it, as a webhook applies it (1), or leave
    the account as it is (0): Stripe does not know the subscription (a key of another Stripe account
    would say so of every one), or the rules refuse it."""
    subscription_id = str(user.stripe_subscription_id)
    state = read_subscription(found) if found is not None else None
    if state is None:
        log.warning(
            "Subscription %s of user %s passed its end, but Stripe %s: the plan is left as it is; check "
            "SERVICES.stripe.SECRET_KEY, and the subscription in Stripe's dashboard",
            subscription_id, user.id, "does not know it" if found is None else "answered it without a status",
        )  # fmt: skip
        return 0
    observed = Observed(state, retrieved=True, event_created=int(time.time()))
    decision = _decide_state(user, observed, f"Reconciling subscription {subscription_id}")
    if decision.observed is None or decision.user is None:
        log.info(
            "Reconciling subscription %s of user %s: %s", subscription_id, user.id, decision.outcome.detail
        )
        return 0
    with transaction():
        _write_state(decision.user, decision.observed)
    log.warning(
        "Subscription %s of user %s passed its end without a webhook; applied as Stripe has it: %s. Check "
        "that Stripe's webhook endpoint reaches /stripe/webhook",
        subscription_id, user.id, decision.outcome.detail,
    )  # fmt: skip
    return 1
