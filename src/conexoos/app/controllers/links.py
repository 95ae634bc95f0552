"""Rules of a user's links: create, edit, delete, reorder; another user's link does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from werkzeug.exceptions import Conflict, Forbidden, NotFound

from conexoos.app.dto.links import LINK_CREATE, LINK_UPDATE, check_window
from conexoos.app.models.persistent import User, UserLink
from conexoos.app.utils.io import IOUtils
from conexoos.framework import db
from conexoos.framework.storage import media_storage

from . import blocklist, link_locks, plans
from .ordering import reorder
from .owner_lock import locked_owner

SUSPENDED = (
    "Your account is suspended, so you cannot add or change links. You can still export or delete your "
    "account from Settings."
)
HIDDEN_BY_MODERATOR = (
    "A moderator hid this link after a report, so it cannot be shown again. You can edit or delete it; "
    "write to the site's team if you think this is a mistake."
)


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
    """Validate ``payload`` and append a new link to the user's page (403 while the account is suspended)."""
    refuse_if_suspended(user)
    fields = link_locks.stored_fields(LINK_CREATE.parse(payload))
    check_window(fields)
    blocklist.refuse_blocked(fields["url"])
    with locked_owner(user) as owner:
        plans.check_can_add(owner, "links")
        link = UserLink(owner_id=owner.id, order_index=UserLink.next_order_index(owner.id), **fields)
        db.session.add(link)
    return link


def refuse_if_suspended(user: User) -> None:
    """403 with :data:`SUSPENDED` when staff suspended ``user`` (no new content from them)."""
    if user.is_suspended:
        raise Forbidden(SUSPENDED)


def update_link(user: User, link_id: int, payload: Any) -> UserLink:
    """Apply any subset of fields to the user's link (403 while the account is suspended)."""
    refuse_if_suspended(user)
    get_link(user, link_id)  # someone else's link is a 404 whatever the body says
    fields = link_locks.stored_fields(LINK_UPDATE.parse(payload))
    if "url" in fields:  # a new URL is checked; one that passes unblocks the link
        blocklist.refuse_blocked(fields["url"])
        fields["blocked"] = False
    with locked_owner(user) as owner:
        link = get_link(owner, link_id)
        check_window(fields, {"starts_at": link.starts_at, "ends_at": link.ends_at})
        if link.hidden_by_staff and fields.get("enabled"):
            raise Conflict(HIDDEN_BY_MODERATOR)
        for name, value in fields.items():
            setattr(link, name, value)
    return link


def delete_link(user: User, link_id: int) -> None:
    """Delete the user's link, and its uploaded thumbnail once the row is gone."""
    with locked_owner(user) as owner:
        link = get_link(owner, link_id)
        thumbnail = link.icon
        db.session.delete(link)
    if thumbnail:
        IOUtils(media_storage()).delete(thumbnail)


def reorder_links(user: User, payload: Any) -> Sequence[UserLink]:
    """Rewrite ``order_index`` from ``{"ids": [...]}``, which must list each of the user's links once."""
    with locked_owner(user) as owner:
        return reorder(UserLink.get_links_by_user_id(owner.id), payload, "link")
