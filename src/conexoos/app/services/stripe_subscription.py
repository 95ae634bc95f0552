"""A Stripe subscription object read into what entitlement needs: id, customer, status, prices, period,
and when it stops if it is cancelled at the end of a period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from .stripe_event import MAX_CREATED, object_id

STATUS = re.compile(r"[a-z_]{1,32}")
"""A subscription status as Stripe writes them (``active``, ``past_due``): stored in 32 characters."""

ENTITLING_STATUSES = frozenset({"active", "trialing"})
PAID_PLAN_STATUSES = ENTITLING_STATUSES | {"past_due"}
"""A subscription in one of these gives its paid plan (past due: only during the grace period)."""
TERMINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete", "paused"})
"""A subscription in one of these still exists at Stripe and may bill."""
LINGERING_STATUSES = LIVE_STATUSES - PAID_PLAN_STATUSES
"""Still exists at Stripe but entitles to nothing: cancelled before a new checkout starts."""
LIFECYCLE_RANK = {
    "incomplete": 0,
    "trialing": 1,
    "active": 1,
    "past_due": 2,
    "unpaid": 3,
    "paused": 3,
    "canceled": 4,
    "incomplete_expired": 4,
}
"""How far along its life a status is: a subscription never moves back to a lower rank."""


@dataclass(frozen=True)
class SubscriptionState:
    """One subscription as Stripe (or an event) described it."""

    id: str
    customer: str | None
    status: str
    price_ids: tuple[str, ...]
    period_start: int | None
    created: int | None = None
    """When the subscription was started (Stripe's ``created``); None when the object does not say."""
    period_end: int | None = None
    """The end of the current period (``current_period_end``); None when the object does not say."""
    ends_at: int | None = None
    """When a subscription that is cancelled but not ended yet stops (``cancel_at``, else the period's end
    when ``cancel_at_period_end``); None when it renews, or has ended."""

    @property
    def terminal(self) -> bool:
        """Canceled or expired: final for this subscription id."""
        return self.status in TERMINAL_STATUSES


def lifecycle_rank(status: str) -> int:
    """The rank of ``status`` in a subscription's life (unknown statuses rank first)."""
    return LIFECYCLE_RANK.get(status, 0)


def read_subscription(subscription: dict[str, Any]) -> SubscriptionState | None:
    """``subscription`` read into a state; None when it has no id or no status."""
    subscription_id, status = object_id(subscription), subscription.get("status")
    if subscription_id is None or not isinstance(status, str) or not STATUS.fullmatch(status):
        return None
    items = _items(subscription)
    return SubscriptionState(
        id=subscription_id,
        customer=object_id(subscription.get("customer")),
        status=status,
        price_ids=tuple(price for item in items if (price := _price_id(item)) is not None),
        period_start=_period_start(subscription, items),
        created=created if _is_timestamp(created := subscription.get("created")) else None,
        period_end=_latest(subscription, items, "current_period_end"),
        ends_at=None if status in TERMINAL_STATUSES else _ends_at(subscription, items),
    )


def _items(subscription: dict[str, Any]) -> list[dict[str, Any]]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _price_id(item: dict[str, Any]) -> str | None:
    # Current API versions name the price; very old ones only the plan (whose id is the price id).
    return object_id(item.get("price")) or object_id(item.get("plan"))


def _period_start(subscription: dict[str, Any], items: list[dict[str, Any]]) -> int | None:
    return _latest(subscription, items, "current_period_start")


def _ends_at(subscription: dict[str, Any], items: list[dict[str, Any]]) -> int | None:
    """Stripe's ``cancel_at`` (a date chosen in its dashboard, or the period's end); else the period's end
    when ``cancel_at_period_end`` is true (API versions that leave ``cancel_at`` empty then)."""
    cancel_at = subscription.get("cancel_at")
    if _is_timestamp(cancel_at):
        return cancel_at
    if subscription.get("cancel_at_period_end") is True:
        return _latest(subscription, items, "current_period_end")
    return None


def _latest(subscription: dict[str, Any], items: list[dict[str, Any]], name: str) -> int | None:
    """The latest of the period's times ``name``. Since API 2025-03-31 the period lives on each item;
    before, on the subscription itself: both are read."""
    times = [item.get(name) for item in items]
    times.append(subscription.get(name))
    found = [moment for moment in times if _is_timestamp(moment)]
    return max(found) if found else None


def _is_timestamp(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CREATED
