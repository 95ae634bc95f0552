"""The order of a user's page: blocks appended at the end, and the item orders kept in step with it.

A link's ``order_index`` (and a product's) is what the seed's ``/api/links`` lists by; it is kept equal to
the link's rank among the page's link blocks, so both APIs agree on the order whichever reordered last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.exceptions import NotFound

from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.framework import db


def append(owner_id: int, kind: str, **columns: object) -> PageBlock:
    """Add a block of ``kind`` after the owner's last one (inside the caller's owner lock)."""
    block = PageBlock(owner_id=owner_id, kind=kind, position=PageBlock.next_position(owner_id), **columns)
    db.session.add(block)
    return block


def owned_block(user: User, block_id: int) -> PageBlock:
    """The user's block ``block_id``; 404 when it is missing or someone else's."""
    block = db.session.scalar(
        select(PageBlock).where(PageBlock.id == block_id, PageBlock.owner_id == user.id)
    )
    if block is None:
        raise NotFound("No such block.")
    return block


def remove_blocks(condition: ColumnElement[bool]) -> None:
    """Delete the blocks matching ``condition`` (inside the caller's owner lock)."""
    db.session.execute(delete(PageBlock).where(condition), execution_options={"synchronize_session": False})


def blocks_of(owner_id: int) -> Sequence[PageBlock]:
    """The owner's blocks in page order."""
    query = select(PageBlock).where(PageBlock.owner_id == owner_id)
    return db.session.scalars(query.order_by(PageBlock.position, PageBlock.id)).all()


def follow_item_order(owner_id: int, kind: str, item_ids: Sequence[int]) -> None:
    """Give the owner's ``kind`` blocks the order of ``item_ids`` (links or products), in the places those
    blocks hold now: a reorder through the seed's API moves no other kind's block."""
    column = PageBlock.link_id if kind == "link" else PageBlock.product_id
    blocks = [block for block in blocks_of(owner_id) if block.kind == kind]
    by_item = {getattr(block, column.key): block for block in blocks}
    places = sorted(block.position for block in blocks)
    for place, item_id in zip(places, [i for i in item_ids if i in by_item], strict=False):
        by_item[item_id].position = place


def close_gaps(owner_id: int) -> None:
    """After a deletion (inside the caller's owner lock): number the owner's blocks 0, 1, 2... in their
    order, and the links' and products' ``order_index`` by their ranks again, so no gap is left."""
    db.session.flush()  # the deleted rows are gone from what is read next
    blocks = blocks_of(owner_id)
    for position, block in enumerate(blocks):
        block.position = position
    follow_page_order(owner_id, blocks)


def follow_page_order(owner_id: int, blocks: Sequence[PageBlock]) -> None:
    """Rewrite the links' and products' ``order_index`` from the page order of ``blocks``."""
    link_ids = [block.link_id for block in blocks if block.link_id is not None]
    product_ids = [block.product_id for block in blocks if block.product_id is not None]
    links = db.session.scalars(select(UserLink).where(UserLink.owner_id == owner_id)).all()
    products = db.session.scalars(select(Product).where(Product.owner_id == owner_id)).all()
    _rank({link.id: link for link in links}, link_ids)
    _rank({product.id: product for product in products}, product_ids)


def _rank(rows: Mapping[int, UserLink | Product], ids: list[int]) -> None:
    for position, item_id in enumerate(ids):
        if item_id in rows:
            rows[item_id].order_index = position
