"""Rules of a user's links: create, edit, delete, reorder; another user's link does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from werkzeug.exceptions import NotFound

from conexoos.app.dto.links import LINK_CREATE, LINK_UPDATE, check_window
from conexoos.app.models.persistent import User, UserLink

from . import plans
from .ordering import reorder


def list_links(user: User) -> Sequence[UserLink]:
    """The user's links in page order."""
    return UserLink.get_links_by_user_id(user.id)


def get_link(user: User, link_id: int) -> UserLink:
    """The user's link ``link_id``; 404 when it is missing or someone else's."""
    link = UserLink.get_owned(link_id, user.id)
    if link is None:
        raise NotFound("No such link.")
    return link


def create_link(user: User, payload: Any) -> UserLink:
    """Validate ``payload`` and append a new link to the user's page."""
    fields = LINK_CREATE.parse(payload)
    check_window(fields)
    plans.check_can_add(user, "links")
    link = UserLink(owner_id=user.id, order_index=UserLink.next_order_index(user.id), **fields)
    link.save()
    return link


def update_link(user: User, link_id: int, payload: Any) -> UserLink:
    """Apply any subset of fields to the user's link."""
    link = get_link(user, link_id)
    fields = LINK_UPDATE.parse(payload)
    check_window(fields, {"starts_at": link.starts_at, "ends_at": link.ends_at})
    for name, value in fields.items():
        setattr(link, name, value)
    link.save()
    return link


def delete_link(user: User, link_id: int) -> None:
    """Delete the user's link."""
    get_link(user, link_id).delete()


def reorder_links(user: User, payload: Any) -> Sequence[UserLink]:
    """Rewrite ``order_index`` from ``{"ids": [...]}``, which must list each of the user's links once."""
    return reorder(UserLink.get_links_by_user_id(user.id), payload, "link")
