"""Reordering a user's items (links, products) from ``{"ids": [...]}``: one rule for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from werkzeug.exceptions import NotFound

from conexoos.app.dto.errors import InputError
from conexoos.app.dto.links import REORDER


class Ordered(Protocol):
    """An item with an id and a position on the page."""

    id: int
    order_index: int


Item = TypeVar("Item", bound=Ordered)
STALE = "reload to see them as they are now"
"""What a person does when the order sent was read before another tab or window changed the items."""


def _position(item: Item) -> tuple[int, int]:
    return item.order_index, item.id


def reorder(items: Sequence[Item], payload: Any, noun: str, plural: str = "") -> list[Item]:
    """Give ``items`` the order of ``payload["ids"]``, which must list each of them once; messages name
    the items ``plural`` (default: ``noun`` and an "s"). With ``payload["previous"]``, the order the client
    last saw, a 409 when the order changed since (so a tab left open never undoes another's move).

    An id that is not one of ``items`` (someone else's, or unknown) is a 404. The caller commits, holding
    the owner's lock (:func:`~.owner_lock.locked_owner`) since it read ``items``.
    """
    fields = REORDER.parse(payload)
    ids = fields["ids"]
    plural = plural or f"{noun}s"
    by_id = {item.id: item for item in items}
    foreign = [item_id for item_id in ids if item_id not in by_id]
    if foreign:
        raise NotFound(f"One of these {plural} no longer exists (deleted in another tab or window?): {STALE}")
    if len(ids) != len(by_id):
        message = f"Your {plural} changed in another tab or window: {STALE} (ids must list each of them once)"
        raise InputError(message, field="ids", code="incomplete")
    previous = fields.get("previous")
    if previous is not None and previous != [item.id for item in sorted(items, key=_position)]:
        message = f"Your {plural} were reordered in another tab or window: {STALE}"
        raise InputError(message, field="previous", code="reordered", status=409)
    for position, item_id in enumerate(ids):
        by_id[item_id].order_index = position
    return [by_id[item_id] for item_id in ids]
