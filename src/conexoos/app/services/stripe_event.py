"""A verified webhook body checked for the shape of a Stripe event before anything reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
MAX_CREATED = 253_402_300_799
"""The last second of the year 9999: a larger ``created`` (seconds since 1970) is no date Python can show.
Stored in 64-bit columns (revision 0032: ``user.billing_event_at`` held 32 bits, which end in 2038)."""
STRIPE_ID = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_ID_LENGTH}}}")
"""Stripe's ids (``evt_…``, ``cus_…``, ``sub_…``, ``price_…``): letters, digits and underscores."""
EVENT_TYPE = re.compile(rf"[a-z0-9_.]{{1,{MAX_TYPE_LENGTH}}}")
"""Stripe's event types, e.g. ``customer.subscription.updated``."""


class MalformedEvent(ValueError):
    """A well-signed body that is not a Stripe event (its message says what is wrong)."""


@dataclass(frozen=True)
class StripeEventData:
    """The parts of a Stripe event the product reads; ``livemode`` is None when the event omits it."""

    id: str
    type: str
    created: int
    livemode: bool | None
    object: dict[str, Any]


def parse_event(raw: Any, latest_created: float = MAX_CREATED) -> StripeEventData:
    """Check ``raw`` (parsed JSON) is a Stripe event: id, type, created (not after ``latest_created``: a
    time to come would outlast every later event, and keep a grace period open until then) and
    data.object; else raise."""
    if not isinstance(raw, dict):
        raise MalformedEvent(f"the body is {type(raw).__name__}, not a JSON object")
    event_id, event_type, created = raw.get("id"), raw.get("type"), raw.get("created")
    if not is_stripe_id(event_id):
        raise MalformedEvent(
            f"id is missing, or not a Stripe id (up to {MAX_ID_LENGTH} letters, digits and underscores)"
        )
    if not isinstance(event_type, str) or not EVENT_TYPE.fullmatch(event_type):
        raise MalformedEvent(
            f"type is missing, or not an event type (up to {MAX_TYPE_LENGTH} of a-z 0-9 _ .)"
        )
    if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created <= MAX_CREATED:
        raise MalformedEvent(
            "created is missing, or not a whole number of seconds since 1970 before the year 10000"
        )
    if created > latest_created:
        raise MalformedEvent("created is in the future: Stripe dates an event when it happens")
    data = raw.get("data")
    data_object = data.get("object") if isinstance(data, dict) else None
    if not isinstance(data_object, dict):
        raise MalformedEvent("data.object is missing or not an object")
    livemode = raw.get("livemode")
    if livemode is not None and not isinstance(livemode, bool):
        raise MalformedEvent("livemode is not true or false")
    return StripeEventData(event_id, event_type, created, livemode, data_object)


def is_stripe_id(value: Any) -> TypeGuard[str]:
    """Whether ``value`` is a string shaped like a Stripe id (safe for the database and Stripe's URLs)."""
    return isinstance(value, str) and STRIPE_ID.fullmatch(value) is not None


def object_id(value: Any) -> str | None:
    """The id of a Stripe reference, which is an id string or (expanded) an object with an ``id``; None
    when there is none or it is not shaped like a Stripe id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if is_stripe_id(value) else None
