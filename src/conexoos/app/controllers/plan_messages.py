"""What the product says about plans, in one place: one wording per situation.

The API's limit errors, the dashboard's notes about items the page hides and the subscriptions page all
build their sentences here. A plan is suggested only when it can be bought (see ``plans.plan_available``:
a Stripe price and ``SERVICES.stripe`` keys); without Stripe a message states the limit and how to live
with it, never "upgrade".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from conexoos.app.models.persistent.base import utcnow
from conexoos.app.plans_config import FREE_PLAN, Plan
from conexoos.app.services.stripe_subscription import LIVE_STATUSES

from . import plans

if TYPE_CHECKING:
    from conexoos.app.models.persistent import User

    from .plans import Limited

CANNOT_BUY = "Paid plans cannot be bought on this site."


def count_of(number: int, kind: Limited) -> str:
    """``1 link``, ``10 links``, ``10,000 email sign-ups``."""
    return f"{number:,} {kind.singular if number == 1 else kind.plural}"


def with_article(noun: str) -> str:
    """``a link``, ``an embed``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def allowance(plan: Plan, kind: Limited) -> str:
    """What ``plan`` allows of ``kind``: ``up to 200 links`` or ``unlimited links``."""
    limit = kind.plan_limit(plan)
    return f"unlimited {kind.plural}" if limit is None else f"up to {count_of(limit, kind)}"


def upgrade_sentence(better: Plan | None, offer: str) -> str:
    """`` Upgrade to Pro for <offer>.``, or nothing when no plan on sale lifts the limit."""
    return f" Upgrade to {better.name} for {offer}." if better is not None else ""


def limit_reached(plan: Plan, kind: Limited, limit: int) -> str:
    """The 403 for one ``kind`` too many (API and dashboard show the same words); a cap that is the same
    on every plan is not worded as the plan's."""
    make_room = f"Delete {with_article(kind.singular)} to add another."
    if not kind.plan_bound:
        return f"A page holds at most {count_of(limit, kind)}. {make_room}"
    better = plans.lifting_plan(kind, limit)
    said = f"Your plan {plan.name} allows {count_of(limit, kind)}."
    if better is None:
        return f"{said} {make_room}"
    return said + upgrade_sentence(better, allowance(better, kind))


CAPTURE_FULL = "This page is not taking new sign-ups at the moment. Thank you for your interest."
"""What a visitor reads when the owner's plan holds no more email sign-ups."""


def capture_full_for_owner(plan: Plan, kind: Limited, limit: int) -> str:
    """The dashboard's warning when the email sign-ups reached ``plan``'s limit: visitors are turned away."""
    return f"{limit_reached(plan, kind, limit)} Meanwhile, visitors are told your page takes no new sign-ups."


def history_limit(plan: Plan, days: int, earliest: date) -> str:
    """The 403 for statistics older than the plan keeps."""
    better = plans.upgrade_among(
        candidate
        for candidate in plans.all_plans().values()
        if candidate.history_days is None or candidate.history_days > days
    )
    if better is None or better.history_days is None:
        offer = "statistics without a time limit"
    else:
        offer = f"{better.history_days} days of statistics"
    return (
        f"Your plan {plan.name} keeps {days} days of statistics: the earliest date is {earliest.isoformat()}."
        + upgrade_sentence(better, offer)
    )


def shown_on_page(plan: Plan, kind: Limited) -> str:
    """The dashboard's note on how many items of ``kind`` the public page shows."""
    limit = kind.plan_limit(plan)
    if limit is None:
        return f"Your plan {plan.name} shows all your {kind.plural} on your page."
    return f"Your plan {plan.name} shows {count_of(limit, kind)} on your page."


def hidden_by_plan(plan: Plan, kind: Limited) -> str:
    """The note on an item past the limit: the page hides it (it is kept, never deleted)."""
    limit = kind.plan_limit(plan) or 0
    return f"Not on your page: your plan {plan.name} shows {count_of(limit, kind)}."


@dataclass(frozen=True)
class Notes:
    """The dashboard's sentences about one kind on one plan."""

    shown: str
    """How many the page shows (:func:`shown_on_page`)."""
    hidden: str
    """The note on an item past the limit (:func:`hidden_by_plan`)."""
    upgrade: str
    """``Upgrade to Pro for up to 200 links.`` (linked to the plans page), empty when nothing on sale
    lifts the limit."""


def notes(plan: Plan, kind: Limited) -> Notes:
    """What the dashboard says about ``kind`` on ``plan``."""
    limit = kind.plan_limit(plan)
    better = None if limit is None else plans.lifting_plan(kind, limit)
    upgrade = upgrade_sentence(better, allowance(better, kind)).strip() if better is not None else ""
    return Notes(shown=shown_on_page(plan, kind), hidden=hidden_by_plan(plan, kind), upgrade=upgrade)


def on_sale() -> bool:
    """Whether any paid plan can be bought here (else the subscriptions page says :data:`CANNOT_BUY`)."""
    return any(plans.plan_available(plan) for plan in plans.all_plans().values() if not plan.is_free)


def billing_account_deleted() -> str:
    """The 409 of the billing portal for an account whose billing record the payment provider has as
    deleted (in its dashboard): nothing bills on it any more, and a new one is made at the next checkout."""
    said = (
        "Your billing record at the payment provider was deleted, so there is no billing portal to open, "
        "and nothing is billed on it any more."
    )
    if on_sale():
        return f"{said} To subscribe again, choose a paid plan: its checkout makes a new billing record."
    return said


def no_billing_account() -> str:
    """The 409 of the billing portal for someone who never paid: choose a plan, when one is on sale."""
    if on_sale():
        return "You have no billing account yet: choose a paid plan first."
    return f"You have no billing account: {CANNOT_BUY[0].lower()}{CANNOT_BUY[1:]}"


def unavailable(plan: Plan) -> str:
    """Why a paid plan cannot be bought: on its card, and the 409 of a checkout that asks for it."""
    return f"{plan.name} cannot be bought on this site." if not on_sale() else f"{plan.name} is not on sale."


def long_moment(moment: datetime) -> str:
    """``4 January 2027, 10:00 UTC``: how the pages write when something ends (the day and the UTC time)."""
    in_utc = moment.astimezone(UTC)
    return f"{in_utc.day} {in_utc:%B %Y, %H:%M} UTC"


def plan_ending(user: User) -> str | None:
    """``Your Pro plan ends on 4 January 2027, 10:00 UTC and will not renew.`` for a subscription cancelled
    at the end of its period (here or in Stripe's billing portal); once that moment has passed while Stripe
    has yet to say the subscription ended (its webhook is late), that it ended then; None otherwise."""
    if user.plan_ends_at is None or user.subscription_status not in LIVE_STATUSES:
        return None
    when = long_moment(user.plan_ends_at)
    name = paid_plan_name(user)
    yours = f"Your {name} plan" if name is not None else f"Y{subscription_of(user)[1:]}"
    if plan_ended(user):
        return f"{yours} ended on {when}; the payment provider has yet to confirm it."
    return f"{yours} ends on {when} and will not renew."


def stops_at_period_end(user: User) -> str:
    """The Gratis card's hint for a subscription in good standing: cancelling stops it at the end of the
    period paid for, said as a day and UTC time when its end is stored (``period_ends_at``), else in words."""
    when = "at the end of the period you paid for"
    if user.period_ends_at is not None:
        when = f"on {long_moment(user.period_ends_at)}, the end of the period you paid for"
    return f"Your subscription stops {when}: you keep {plan_name(user)} until then."


def plan_ended(user: User) -> bool:
    """Whether the moment a cancelled subscription ends has passed (it can no longer be kept), though
    Stripe's word that it ended has not come yet."""
    return user.plan_ends_at is not None and user.plan_ends_at <= utcnow()


def nothing_to_keep(user: User) -> str:
    """The 409 of Keep my subscription when no subscription is set to end, one true sentence a case."""
    if not user.stripe_subscription_id or not user.subscription_status:
        return "You have no subscription, so there is nothing to keep."
    if user.subscription_status not in LIVE_STATUSES:
        return "Your subscription has already ended: choose a plan to subscribe again."
    return "Your subscription is not set to end: it renews as before, so there is nothing to keep."


def plan_name(user: User) -> str:
    """The name of the plan the user pays for (its key when the plan is no longer configured)."""
    paid = plans.all_plans().get(user.subscription_plan)
    return paid.name if paid is not None else user.subscription_plan


def still_billing(user: User) -> str:
    """What someone whose plan is the free one is told about a subscription that still exists at the
    payment provider (see ``billing.bills_without_paid_plan``): past due, that its payment is still being
    retried; otherwise that it may bill. Either way naming its plan (:func:`subscription_of`), and that
    cancelling stops it at once."""
    if user.subscription_status == "past_due":
        return (
            f"A payment for {subscription_of(user)} is still being retried at the payment provider: "
            "cancelling stops the retries and the subscription at once, without a refund."
        )
    named = subscription_of(user)
    return (
        f"{named[0].upper()}{named[1:]} still exists at the payment provider and may bill you: cancelling "
        "stops it at once, without a refund."
    )


def paid_plan_name(user: User) -> str | None:
    """:func:`plan_name`, or None when the stored plan is the free one (past due beyond its grace period,
    the ``billing-grace`` task stores gratis: see :func:`subscription_of`)."""
    stored = plans.all_plans().get(user.subscription_plan)
    return None if stored is not None and stored.is_free else plan_name(user)


def subscription_of(user: User) -> str:
    """``your Pro subscription``: its paid plan as stored (:func:`paid_plan_name`; past due beyond the
    grace period before the ``billing-grace`` task ran), or for a past-due subscription that task moved to
    gratis, its plan as the task's audit entry records it (``plans.lapsed_plan``); ``your subscription``
    when neither says (moved before such entries were written)."""
    name = paid_plan_name(user)
    if not name:
        lapsed = plans.lapsed_plan(user)
        name = lapsed.name if lapsed is not None else ""
    return f"your {name} subscription" if name else "your subscription"


def payment_failed(user: User) -> str | None:
    """What a past-due subscriber is told on the subscriptions page: which plan's payment failed, until
    when the plan is kept (or that its limits are Gratis's now), and where to pay; None otherwise."""
    if user.subscription_status != "past_due" or user.past_due_since is None:
        return None
    name = paid_plan_name(user) or subscription_of(user)
    if plans.grace_over(user.past_due_since):
        free = plans.all_plans()[FREE_PLAN].name
        kept = f", so your page has the limits of {free} until it is paid"
    else:
        kept = f": you keep {name} until {long_moment(plans.grace_ends(user.past_due_since))}"
    return f"The last payment for {name} failed{kept}. Update your payment method under Manage billing."
