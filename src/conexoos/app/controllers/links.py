"""Rules of a user's links, as the seed's ``/api/links`` uses them: they live with the link block kind."""

from __future__ import annotations

from .blocks.link import (
    HIDDEN_BY_MODERATOR,
    create_link,
    delete_link,
    get_link,
    list_links,
    reorder_links,
    update_link,
)
from .suspension import SUSPENDED, refuse_if_suspended

__all__ = [
    "HIDDEN_BY_MODERATOR",
    "SUSPENDED",
    "create_link",
    "delete_link",
    "get_link",
    "list_links",
    "refuse_if_suspended",
    "reorder_links",
    "update_link",
]
