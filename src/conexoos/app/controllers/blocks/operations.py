"""The generic blocks API's rules: list, add, edit, delete and reorder any kind of block.

Each kind does its own work (``kind.py``); this module finds the kind, parses the body with the kind's
schema and keeps one order across the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from conexoos.app.dto.errors import InputError, malformed
from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.framework import db

from ..ordering import reorder
from ..owner_lock import locked_owner
from . import page
from .kind import BlockKind
from .registry import kind_named, kind_of_stored


@dataclass(frozen=True)
class Loaded:
    """A block with the link or product it shows (None for the other kinds)."""

    block: PageBlock
    link: UserLink | None
    product: Product | None

    @property
    def kind(self) -> BlockKind:
        """The block's kind."""
        return kind_of_stored(self.block.kind)

    def to_json(self) -> dict[str, Any]:
        """The API shape: id, kind, position, the link's or product's id, then the kind's fields."""
        return {
            "id": self.block.id,
            "kind": self.block.kind,
            "position": self.block.position,
            "item_id": self.block.link_id or self.block.product_id,
            **self.kind.fields_json(self.block, self.link, self.product),
        }


def list_blocks(user: User) -> list[Loaded]:
    """The user's blocks in page order, each with its link or product (one query)."""
    query = (
        select(PageBlock, UserLink, Product)
        .outerjoin(UserLink, UserLink.id == PageBlock.link_id)
        .outerjoin(Product, Product.id == PageBlock.product_id)
        .where(PageBlock.owner_id == user.id)
        .order_by(PageBlock.position, PageBlock.id)
    )
    return [Loaded(block, link, product) for block, link, product in db.session.execute(query).all()]


def get_block(user: User, block_id: int) -> Loaded:
    """The user's block with what it shows; 404 when it is missing or someone else's."""
    block = page.owned_block(user, block_id)
    return Loaded(
        block,
        db.session.get(UserLink, block.link_id) if block.link_id else None,
        db.session.get(Product, block.product_id) if block.product_id else None,
    )


def add_block(user: User, payload: Any) -> Loaded:
    """Create a block from ``{"kind": ..., <the kind's fields>}`` at the end of the page."""
    if not isinstance(payload, Mapping):
        raise malformed("the request body must be a JSON object")
    if "kind" not in payload:
        raise InputError("kind is required", field="kind", code="required")
    kind = kind_named(payload["kind"])
    fields = kind.create.parse({name: value for name, value in payload.items() if name != "kind"})
    block = kind.add(user, fields)
    return get_block(user, block.id)


def edit_block(user: User, block_id: int, payload: Any) -> Loaded:
    """Apply any subset of the block's kind's fields (its kind cannot change)."""
    block = page.owned_block(user, block_id)  # someone else's block is a 404 whatever the body says
    kind = kind_of_stored(block.kind)
    if isinstance(payload, Mapping) and "kind" in payload:
        if payload["kind"] != block.kind:
            raise InputError("a block's kind cannot change; add a new block", field="kind", code="read_only")
        payload = {name: value for name, value in payload.items() if name != "kind"}
    kind.edit(user, block, kind.update.parse(payload))
    db.session.expire_all()
    return get_block(user, block_id)


def delete_block(user: User, block_id: int) -> None:
    """Delete the block (a link's or product's block deletes the link or product)."""
    block = page.owned_block(user, block_id)
    kind_of_stored(block.kind).remove(user, block)


def reorder_blocks(user: User, payload: Any) -> list[Loaded]:
    """Put every block of the page in the order of ``{"ids": [...]}`` (each of the user's blocks once);
    the links' and products' own orders follow."""
    with locked_owner(user) as owner:
        ordered: Sequence[PageBlock] = _reordered(page.blocks_of(owner.id), payload)
        page.follow_page_order(owner.id, ordered)
    return list_blocks(user)


def _reordered(blocks: Sequence[PageBlock], payload: Any) -> list[PageBlock]:
    """``reorder`` writes ``order_index``; a block's place is its ``position``."""
    placed = reorder([_Place(block) for block in blocks], payload, "block")
    for place in placed:
        place.block.position = place.order_index
    return [place.block for place in placed]


class _Place:
    """A block seen as an ordered item (``id``, ``order_index``) by :func:`~..ordering.reorder`."""

    def __init__(self, block: PageBlock) -> None:
        self.block = block
        self.id = block.id
        self.order_index = block.position
