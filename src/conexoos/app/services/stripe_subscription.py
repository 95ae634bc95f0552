"""A Stripe subscription object read into what entitlement needs: id, customer, status, prices, period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
    )


def _items(subscription: dict[str, Any]) -> list[dict[str, Any]]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _price_id(item: dict[str, Any]) -> str | None:
    # Current API versions name the price; very old ones only the plan (whose id is the price id).
    return object_id(item.get("price")) or object_id(item.get("plan"))


def _period_start(subscription: dict[str, Any], items: list[dict[str, Any]]) -> int | None:
    # Since API 2025-03-31 the period lives on each item; before, on the subscription itself.
    starts = [item.get("current_period_start") for item in items]
    starts.append(subscription.get("current_period_start"))
    found = [
        start
        for start in starts
        if isinstance(start, int) and not isinstance(start, bool) and 0 <= start <= MAX_CREATED
    ]
    return max(found) if found else None


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CREATED
