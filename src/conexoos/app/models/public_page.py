"""A public page as plain values: what its two queries read (``controllers/profiles.py`` for the owner,
``controllers/blocks/public.py`` for the blocks), never ORM objects.

The page only reads, so it has no use for the session's identity map, change tracking or refresh on
commit; loading its rows as entities cost more CPU than running its queries (the owner's ``user`` row
has every account column). Each value holds the columns the page, its templates, the page cache and
the plan rules read, and derives what the entity derives with the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .persistent.link import locked
from .persistent.page_block import decode_fields
from .persistent.product import is_custom_image
from .persistent.user import public_name


@dataclass(frozen=True, slots=True)
class PageOwner:
    """The page's owner: the columns of ``user`` the page, its 404 rules and the plan rules read."""

    id: int
    username: str
    display_name: str
    bio: str
    avatar: str | None
    suspended_at: datetime | None
    email_verified_at: datetime | None
    subscription_plan: str
    subscription_status: str
    past_due_since: datetime | None

    @property
    def public_name(self) -> str:
        """The display name, or the username when none is set (as ``User.public_name``)."""
        return public_name(self.display_name, self.username)

    @property
    def email_verified(self) -> bool:
        """Whether the current email address was verified."""
        return self.email_verified_at is not None


@dataclass(frozen=True, slots=True)
class ShownBlock:
    """A block of the page: its id, kind and stored fields (``page_block.data``)."""

    id: int
    kind: str
    data: str

    @property
    def fields(self) -> dict[str, Any]:
        """The simple kind's fields, decoded as ``PageBlock.fields`` decodes them."""
        return decode_fields(self.data)


@dataclass(frozen=True, slots=True)
class ShownLink:
    """A live link as the page draws it and ``/go`` follows it; never its password's hash."""

    id: int
    owner_id: int
    title: str
    url: str
    icon: str
    sensitive: bool
    has_password: bool
    ends_at: datetime | None

    @property
    def is_locked(self) -> bool:
        """Whether ``/go`` stops the visitor first (as ``UserLink.is_locked``)."""
        return locked(self.sensitive, self.has_password)


@dataclass(frozen=True, slots=True)
class ShownProduct:
    """A shown product as its card draws it."""

    id: int
    title: str
    description: str
    price: int
    currency: str
    image: str
    buy_url: str

    @property
    def has_custom_image(self) -> bool:
        """Whether an uploaded image (not the default one) is set (as ``Product.has_custom_image``)."""
        return is_custom_image(self.image)
