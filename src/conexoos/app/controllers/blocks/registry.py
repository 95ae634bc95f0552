"""Every block kind, by name: the one list the API, the public page and the dashboard read."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from conexoos.app.dto.errors import InputError

from .capture import CAPTURE
from .divider import DIVIDER
from .embed import EMBED
from .header import HEADER
from .kind import BlockKind
from .link import LINK
from .product import PRODUCT
from .social import SOCIAL
from .text import TEXT

KINDS: dict[str, BlockKind] = {
    kind.name: kind for kind in (LINK, PRODUCT, HEADER, TEXT, DIVIDER, EMBED, SOCIAL, CAPTURE)
}


def kind_named(name: object) -> BlockKind:
    """The kind called ``name``; a 422 naming the field ``kind`` otherwise."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InputError(f"kind must be one of: {', '.join(KINDS)}", field="kind", code="kind")
    return kind


def kind_of_stored(name: str) -> BlockKind:
    """The kind of a stored block; a 404 for a kind this version does not know (left by a newer one)."""
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"This version does not know blocks of kind {name!r}.")
    return kind
