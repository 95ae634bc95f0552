"""Kinds whose fields live in the block itself (``page_block.data``): header, text, divider."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import Conflict

from conexoos.app.dto.fields import Field, Schema, boolean
from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.app.plans_config import Plan
from conexoos.framework import db

from .. import blocklist, hidden_addresses, plans
from ..owner_lock import locked_owner
from ..suspension import refuse_if_suspended
from . import page
from .kind import HIDDEN_BY_STAFF, BlockFields, BlockKind

ENABLED = boolean("enabled", description="Hidden from the page when false (default true)")


class SimpleKind(BlockKind):
    """A kind made of its ``fields`` (stored as JSON in the block) and ``enabled``.

    ``limit`` caps how many blocks of the kind one page holds, on every plan: they cost the site
    little, but no page should grow without bound. It is no plan's limit, and its refusal says so.
    """

    plan_bound = False

    def __init__(
        self, name: str, singular: str, plural: str, fields: tuple[Field, ...], limit: int, summary: str
    ) -> None:
        self.name = name
        self.singular = singular
        self.plural = plural
        self.limit = limit
        title = name.capitalize()
        self.create = Schema(f"{title}Block", (*fields, ENABLED), summary)
        self.update = Schema(
            f"{title}BlockUpdate", self.create.fields, f"Any subset of a {name}'s fields.", True
        )

    def plan_limit(self, plan: Plan) -> int | None:
        """The same cap on every plan."""
        return self.limit

    def add(self, user: User, fields: dict[str, Any]) -> PageBlock:
        """Append the block (403 while the account is suspended or the page holds ``limit`` already; 422
        for an address on the blocklist; an address a moderator hid on the account is stored hidden)."""
        refuse_if_suspended(user)
        blocklist.refuse_any_blocked(self.addresses(fields))
        enabled = fields.pop("enabled", True)
        with locked_owner(user) as owner:
            plans.check_can_add(owner, self)
            block = page.append(owner.id, self.name, enabled=enabled)
            block.fields = self._kept_hidden_on_account(owner.id, fields)
            db.session.flush()
        return block

    def edit(self, user: User, block: PageBlock, fields: dict[str, Any]) -> None:
        """Merge ``fields`` into the block's (422 for a new address on the blocklist; one that passes is
        no longer flagged blocked; what a moderator hid stays hidden, in this block or on the account).

        A block hidden whole (an embed) moved to an address not hidden on the account is a new one: no
        longer hidden by a moderator, and off unless ``fields`` turn it on."""
        refuse_if_suspended(user)
        checked = self.addresses(fields)
        blocklist.refuse_any_blocked(checked)
        passed = {url for _, url in checked}
        enabled = fields.pop("enabled", None)
        with locked_owner(user) as owner:
            stored = page.owned_block(owner, block.id)
            was_hidden = bool(stored.fields.get(HIDDEN_BY_STAFF))
            merged = {**stored.fields, **fields}
            if was_hidden and "url" in fields and fields["url"] != stored.fields.get("url"):
                merged.pop(HIDDEN_BY_STAFF)  # a new address: a new item, unless it was hidden too
            merged = self._kept_hidden_on_account(owner.id, merged)
            if was_hidden and merged.get(HIDDEN_BY_STAFF) and enabled:
                raise Conflict(self.hidden_refusal())
            if was_hidden and not merged.get(HIDDEN_BY_STAFF):
                stored.enabled = bool(enabled)  # off until its owner shows it, as a new block would be
            elif enabled is not None:
                stored.enabled = enabled
            stored.fields = self.flagged(merged, lambda url, flagged: flagged and url not in passed)

    def hidden_refusal(self) -> str:
        """The 409's sentence for an owner who asks to show a block a moderator hid whole (as links and
        products answer)."""
        return (
            f"A moderator hid this {self.singular}, or its address, after a report, so it cannot be shown "
            "again. You can edit or delete it; write to the site's team if you think this is a mistake."
        )

    def _kept_hidden_on_account(self, owner_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        if not self.keeps_addresses:  # a header, a text, a divider: no address to look up
            return fields
        return self.hidden_on_account(fields, hidden_addresses.hidden_check(owner_id))

    def remove(self, user: User, block: PageBlock) -> None:
        """Delete the block."""
        with locked_owner(user) as owner:
            db.session.delete(page.owned_block(owner, block.id))
            page.close_gaps(owner.id)

    def shown(self, block: BlockFields, link: ShownLink | None, product: ShownProduct | None) -> Any:
        """The block's fields."""
        return block.fields

    def fields_json(self, block: PageBlock, link: UserLink | None, product: Product | None) -> dict[str, Any]:
        """The block's fields and ``enabled``."""
        return {**block.fields, "enabled": block.enabled}
