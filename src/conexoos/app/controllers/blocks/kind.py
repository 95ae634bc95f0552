"""What a block kind declares, in one place: its fields, validation, rendering and plan limit.

A kind is a :class:`BlockKind`; the registry (``registry.py``) lists them. The generic ``/api/blocks``
API, the public page and the dashboard know blocks only through this interface, so a new kind is one
module here plus its template partial ``templates/public/blocks/<name>.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import func, select

from conexoos.app.dto.fields import Schema
from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.app.plans_config import Plan
from conexoos.framework import db


class BlockFields(Protocol):
    """What drawing a block reads of it: a :class:`PageBlock`, or the public page's plain
    ``ShownBlock``."""

    @property
    def id(self) -> int:
        """The block's id."""

    @property
    def fields(self) -> dict[str, Any]:
        """The simple kind's fields."""


HIDDEN_BY_STAFF = "hidden_by_staff"
"""The key a moderator's hiding sets on an embed's fields, or on one entry of a social row: left out of the
page, and kept through its owner's edits (``controllers/moderation.py``)."""


def with_blocked_flag(entry: dict[str, Any], blocked: Callable[[str, bool], bool]) -> dict[str, Any]:
    """``entry`` (a block's fields, or one entry of them, with its address under ``url``) with
    ``"blocked": true`` when ``blocked(url, flagged_now)`` says so, and no ``blocked`` key otherwise."""
    bare = {key: value for key, value in entry.items() if key != "blocked"}
    return {**bare, "blocked": True} if blocked(entry["url"], bool(entry.get("blocked"))) else bare


class BlockKind:
    """The interface of a kind; a subclass sets the attributes and overrides the behaviour it changes."""

    name: str
    """The kind's name in the API and in ``page_block.kind`` (at most 20 characters)."""
    singular: str
    plural: str
    plan_bound = True
    """Whether :meth:`plan_limit` depends on the plan (False: a cap every page has, worded as such)."""
    script: str | None = None
    """A static script (``js/embed.js``) the kind's blocks use on the public page, which includes it once
    however many runs of the kind it shows; None when the kind needs none."""
    create: Schema
    """The body of ``POST /api/blocks`` for this kind (besides ``kind``)."""
    update: Schema
    """The body of ``PATCH /api/blocks/<id>`` (any subset of the fields)."""

    @property
    def partial(self) -> str:
        """The template drawing a run of consecutive blocks of this kind on the public page."""
        return f"public/blocks/{self.name}.html"

    def plan_limit(self, plan: Plan) -> int | None:
        """How many blocks of this kind ``plan`` allows (None: unlimited)."""
        raise NotImplementedError

    keeps_addresses = False
    """Whether the kind's fields hold addresses it links to (the blocklist checks and flags them)."""

    def addresses(self, fields: dict[str, Any]) -> list[tuple[str, str]]:
        """The addresses ``fields`` link to, each with the field a refusal names; none by default."""
        return []

    def flagged(self, fields: dict[str, Any], blocked: Callable[[str, bool], bool]) -> dict[str, Any]:
        """``fields`` with each address's blocklist flag set to ``blocked(url, flagged_now)``."""
        return fields

    hideable = False
    """Whether staff hide the block, or an entry of it, from a report (see :meth:`hidden`)."""

    def hidden(self, fields: dict[str, Any], item: int | None) -> dict[str, Any]:
        """``fields`` with the entry ``item`` (or the whole block, for None) hidden by a moderator; raises
        LookupError when the block has no such entry, ValueError (with a sentence) for an ``item`` the kind
        does not take that way."""
        raise LookupError(f"a {self.singular} cannot be hidden by a moderator")

    def hidden_on_account(self, fields: dict[str, Any], hidden: Callable[[str], bool]) -> dict[str, Any]:
        """``fields`` with each address ``hidden`` says a moderator hid on the account (an earlier item's,
        see ``controllers/hidden_addresses.py``) hidden by a moderator; unchanged by default."""
        return fields

    def count(self, owner_id: int) -> int:
        """How many blocks of this kind the owner has."""
        query = select(func.count()).where(PageBlock.owner_id == owner_id, PageBlock.kind == self.name)
        return db.session.scalar(query) or 0

    def add(self, user: User, fields: dict[str, Any]) -> PageBlock:
        """Create a block from parsed ``fields`` at the end of the user's page; commits."""
        raise NotImplementedError

    def edit(self, user: User, block: PageBlock, fields: dict[str, Any]) -> None:
        """Apply parsed ``fields`` to the user's ``block``; commits."""
        raise NotImplementedError

    def remove(self, user: User, block: PageBlock) -> None:
        """Delete the user's ``block`` (and the row it shows); commits."""
        raise NotImplementedError

    def shown(self, block: BlockFields, link: ShownLink | None, product: ShownProduct | None) -> Any:
        """What the public page draws for ``block`` (loaded with its live link or shown product), or None
        to leave it out."""
        raise NotImplementedError

    def fields_json(self, block: PageBlock, link: UserLink | None, product: Product | None) -> dict[str, Any]:
        """The kind's fields as the blocks API returns them (``enabled`` included)."""
        raise NotImplementedError

    def exported_fields(
        self, block: PageBlock, link: UserLink | None, product: Product | None
    ) -> dict[str, Any]:
        """The block's fields in the account export's ``page`` list: as the blocks API gives them."""
        return self.fields_json(block, link, product)

    def exported_data(self, user: User) -> dict[str, Any]:
        """Sections of ``account.json`` the kind adds besides its blocks (entries people sent through a
        block, say), by section name; none by default."""
        return {}
