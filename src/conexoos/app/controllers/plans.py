"""Plan limits, enforced on the server: adds over the limit are refused, downgrades hide but never delete."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Protocol

from flask import current_app
from werkzeug.exceptions import Forbidden

from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.models.public_page import PageOwner
from conexoos.app.plans_config import FREE_PLAN, Plan
from conexoos.app.services import stripe_gateway as gateway

from . import audit, plan_messages

GRACE_OVER = "billing.grace_over"
"""The audit log's action of the ``billing-grace`` task moving a past-due subscriber to gratis; its
``before`` holds the paid plan and the subscription."""


class Limited(Protocol):
    """Something a plan limits: a block kind (``controllers/blocks``) declares its limit and its count."""

    singular: str
    plural: str
    plan_bound: bool
    """Whether the limit depends on the plan (False: the same cap on every page, whatever its plan)."""

    def plan_limit(self, plan: Plan) -> int | None:
        """How many of these ``plan`` allows (None: unlimited)."""

    def count(self, owner_id: int) -> int:
        """How many of these the owner has."""


class PlanLimitReached(Forbidden):
    """403 with the JSON error code ``plan_limit``."""

    error_code = "plan_limit"


class PageLimitReached(Forbidden):
    """403 with the JSON error code ``page_limit``: a cap every page has, whatever its plan."""

    error_code = "page_limit"


def all_plans() -> dict[str, Plan]:
    """The configured plans, by id."""
    plans: dict[str, Plan] = current_app.config["CONEXOOS_PLANS"]
    return plans


def plan_available(plan: Plan) -> bool:
    """Free plans always; paid plans only with a Stripe price id, Stripe's key and its webhook secret."""
    return plan.is_free or (bool(plan.price_id) and gateway.stripe_settings().sells)


def plan_for(user: User | PageOwner) -> Plan:
    """The plan the user is entitled to now; past due, it is kept only during the grace period."""
    plans = all_plans()
    plan = plans.get(user.subscription_plan) or plans[FREE_PLAN]
    if user.subscription_status == "past_due" and grace_expired(user):
        return plans[FREE_PLAN]
    return plan


def grace_expired(user: User | PageOwner) -> bool:
    """Whether the user's past-due grace period is over."""
    return user.past_due_since is not None and grace_over(user.past_due_since)


def lapsed_plan(user: User) -> Plan | None:
    """The paid plan a past-due subscription gave before the ``billing-grace`` task stored gratis, as that
    task's audit entry for this very subscription records it; None when the account is not in that state,
    or no such entry names a plan still configured (moved to gratis before the entry was written)."""
    if user.subscription_status != "past_due" or user.subscription_plan != FREE_PLAN:
        return None
    where = audit.AuditFilter(action=GRACE_OVER, target_type="user", target_id=str(user.id))
    for entry in audit.entries(where, limit=1):
        before = audit.decoded(entry.before) or {}
        if before.get("subscription") == user.stripe_subscription_id:
            plan = all_plans().get(str(before.get("plan")))
            return plan if plan is not None and not plan.is_free else None
    return None


def grace_ends(past_due_since: datetime) -> datetime:
    """When a subscription past due since ``past_due_since`` loses its paid plan."""
    return past_due_since + timedelta(days=current_app.config["CONEXOOS_BILLING"].past_due_grace_days)


def grace_over(past_due_since: datetime) -> bool:
    """Whether a subscription past due since ``past_due_since`` is beyond the grace period now."""
    return utcnow() >= grace_ends(past_due_since)


def check_can_add(user: User, kind: Limited) -> None:
    """Raise a 403 (worded by ``plan_messages``) when one more of ``kind`` would exceed the plan's limit
    (:class:`PlanLimitReached`) or the cap of every page (:class:`PageLimitReached`)."""
    plan = plan_for(user)
    limit = kind.plan_limit(plan)
    if limit is None:
        return
    if kind.count(user.id) >= limit:
        refusal = PlanLimitReached if kind.plan_bound else PageLimitReached
        raise refusal(plan_messages.limit_reached(plan, kind, limit))


def lifting_plan(kind: Limited, current_limit: int) -> Plan | None:
    """The cheapest plan a user can buy that allows more than ``current_limit`` of ``kind``."""
    return upgrade_among(
        plan
        for plan in all_plans().values()
        if kind.plan_limit(plan) is None or (kind.plan_limit(plan) or 0) > current_limit
    )


def upgrade_among(candidates: Iterable[Plan]) -> Plan | None:
    """The plan to suggest among ``candidates``: the cheapest one on sale (a Stripe price and Stripe keys);
    a plan on sale without PRICE counts after the priced ones. None when none can be bought (without
    Stripe, nothing is suggested: a plan that cannot be bought is no way out of a limit)."""
    on_sale = [plan for plan in candidates if plan_available(plan) and not plan.is_free]
    return min(on_sale, key=lambda plan: (not plan.price, plan.price, plan.key)) if on_sale else None


def visible_limit(user: User | PageOwner, kind: Limited) -> int | None:
    """How many live items of ``kind`` the public page may show (None: all)."""
    return kind.plan_limit(plan_for(user))


def check_history(user: User, start: date, today: date) -> None:
    """Refuse statistics older than the plan's analytics history."""
    plan = plan_for(user)
    if plan.history_days is None:
        return
    earliest = today - timedelta(days=plan.history_days - 1)
    if start < earliest:
        raise PlanLimitReached(plan_messages.history_limit(plan, plan.history_days, earliest))
