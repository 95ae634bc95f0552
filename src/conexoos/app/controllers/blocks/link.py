"""The link kind: a titled URL followed through ``/go/<id>``, kept in its own ``user_link`` row.

The rules of a link (create, edit, delete, reorder; another user's link does not exist) live here; the
seed's ``/api/links`` and the generic ``/api/blocks`` both use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from conexoos.app.dto.links import LINK_CREATE, LINK_UPDATE, check_window
from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.app.plans_config import Plan
from conexoos.app.utils.io import IOUtils
from conexoos.framework import db
from conexoos.framework.storage import media_storage

from .. import blocklist, hidden_addresses, link_locks, plans
from ..ordering import reorder
from ..owner_lock import locked_owner
from ..suspension import refuse_if_suspended
from . import page
from .row_kind import RowKind

HIDDEN_BY_MODERATOR = (
    "A moderator hid this link, or an address it had, after a report, so it cannot be shown again. "
    "You can edit or delete it; write to the site's team if you think this is a mistake."
)


class LinkKind(RowKind):
    """Links: limited by the plan's ``MAX_LINKS``."""

    name = "link"
    singular = "link"
    plural = "links"
    create = LINK_CREATE
    update = LINK_UPDATE
    column = "link_id"
    missing = "No such link."

    def plan_limit(self, plan: Plan) -> int | None:
        """The plan's ``MAX_LINKS``."""
        return plan.max_links

    def count(self, owner_id: int) -> int:
        """The owner's links (every one counts, shown or not)."""
        return db.session.scalar(select(func.count()).where(UserLink.owner_id == owner_id)) or 0

    def row_of(
        self, link: UserLink | ShownLink | None, product: Product | ShownProduct | None
    ) -> UserLink | ShownLink | None:
        """The live link."""
        return link

    def row_json(self, row: Any) -> dict[str, Any]:
        """The seed's link shape."""
        shape: dict[str, Any] = row.to_json()
        return shape

    def create_row(self, user: User, fields: dict[str, Any]) -> UserLink:
        """:func:`create_link`."""
        return create_link(user, fields, parsed=True)

    def update_row(self, user: User, row_id: int, fields: dict[str, Any]) -> None:
        """:func:`update_link`."""
        update_link(user, row_id, fields, parsed=True)

    def delete_row(self, user: User, row_id: int) -> None:
        """:func:`delete_link`."""
        delete_link(user, row_id)


LINK = LinkKind()


def list_links(user: User) -> Sequence[UserLink]:
    """The user's links in page order."""
    return UserLink.get_links_by_user_id(user.id)


def get_link(user: User, link_id: int) -> UserLink:
    """The user's link ``link_id``; 404 when it is missing or someone else's."""
    link = UserLink.get_owned(link_id, user.id)
    if link is None:
        raise NotFound(LINK.missing)
    return link


def create_link(user: User, payload: Any, parsed: bool = False) -> UserLink:
    """Validate ``payload`` and append a new link to the user's page (403 while the account is suspended);
    one to an address a moderator hid on the account is added hidden by a moderator."""
    refuse_if_suspended(user)
    fields = link_locks.stored_fields(payload if parsed else LINK_CREATE.parse(payload))
    check_window(fields)
    blocklist.refuse_blocked(fields["url"])
    with locked_owner(user) as owner:
        plans.check_can_add(owner, LINK)
        hidden_addresses.hide_row_fields(owner.id, None, fields, "url", HIDDEN_BY_MODERATOR)
        link = UserLink(owner_id=owner.id, order_index=UserLink.next_order_index(owner.id), **fields)
        db.session.add(link)
        db.session.flush()
        page.append(owner.id, LINK.name, link_id=link.id)
    return link


def update_link(user: User, link_id: int, payload: Any, parsed: bool = False) -> UserLink:
    """Apply any subset of fields to the user's link (403 while the account is suspended); a new address
    a moderator hid on the account hides the link by a moderator."""
    refuse_if_suspended(user)
    get_link(user, link_id)  # someone else's link is a 404 whatever the body says
    fields = link_locks.stored_fields(dict(payload) if parsed else LINK_UPDATE.parse(payload))
    if "url" in fields:  # a new URL is checked; one that passes unblocks the link
        blocklist.refuse_blocked(fields["url"])
        fields["blocked"] = False
    with locked_owner(user) as owner:
        link = get_link(owner, link_id)
        check_window(fields, {"starts_at": link.starts_at, "ends_at": link.ends_at})
        hidden_addresses.hide_row_fields(owner.id, link, fields, "url", HIDDEN_BY_MODERATOR)
        for name, value in fields.items():
            setattr(link, name, value)
    return link


def delete_link(user: User, link_id: int) -> None:
    """Delete the user's link (its block goes with it: the foreign key cascades), and its uploaded
    thumbnail once the row is gone."""
    with locked_owner(user) as owner:
        link = get_link(owner, link_id)
        thumbnail = link.icon
        page.remove_blocks(PageBlock.link_id == link.id)  # before the row, whatever the cascade does
        db.session.delete(link)
        page.close_gaps(owner.id)
    if thumbnail:
        IOUtils(media_storage()).delete(thumbnail)


def reorder_links(user: User, payload: Any) -> Sequence[UserLink]:
    """Rewrite ``order_index`` from ``{"ids": [...]}``, which must list each of the user's links once; the
    link blocks take that order in the places they hold on the page."""
    with locked_owner(user) as owner:
        links = reorder(UserLink.get_links_by_user_id(owner.id), payload, "link")
        page.follow_item_order(owner.id, LINK.name, [link.id for link in links])
        return links
