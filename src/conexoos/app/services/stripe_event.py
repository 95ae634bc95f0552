"""A verified webhook body checked for the shape of a Stripe event before anything reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100


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


def parse_event(raw: Any) -> StripeEventData:
    """Check ``raw`` (parsed JSON) is a Stripe event: id, type, created and data.object; else raise."""
    if not isinstance(raw, dict):
        raise MalformedEvent(f"the body is {type(raw).__name__}, not a JSON object")
    event_id, event_type, created = raw.get("id"), raw.get("type"), raw.get("created")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID_LENGTH:
        raise MalformedEvent(f"id is missing, not a string or longer than {MAX_ID_LENGTH} characters")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= MAX_TYPE_LENGTH:
        raise MalformedEvent(f"type is missing, not a string or longer than {MAX_TYPE_LENGTH} characters")
    if isinstance(created, bool) or not isinstance(created, int):
        raise MalformedEvent("created is missing or not a whole number of seconds")
    data = raw.get("data")
    data_object = data.get("object") if isinstance(data, dict) else None
    if not isinstance(data_object, dict):
        raise MalformedEvent("data.object is missing or not an object")
    livemode = raw.get("livemode")
    if livemode is not None and not isinstance(livemode, bool):
        raise MalformedEvent("livemode is not true or false")
    return StripeEventData(event_id, event_type, created, livemode, data_object)


def object_id(value: Any) -> str | None:
    """The id of a Stripe reference, which is an id string or (expanded) an object with an ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None
