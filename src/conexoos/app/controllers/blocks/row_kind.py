"""Kinds whose block shows a row of its own (a link, a product): the block names the row in one column and
the row's functions (create, update, delete) do the work; this base holds what the two kinds share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.framework import db

from .kind import BlockFields, BlockKind


class RowKind(BlockKind):
    """A kind backed by rows of its own; a subclass names the column and says how to reach its rows."""

    column: str
    """The block's column naming the row (``link_id``, ``product_id``)."""
    missing: str
    """The 404's message for a row that is not there (``No such link.``)."""

    def row_of(self, link: UserLink | ShownLink | None, product: Product | ShownProduct | None) -> Any:
        """Which of the rows loaded with a block is this kind's (None: not shown)."""
        raise NotImplementedError

    def row_json(self, row: Any) -> dict[str, Any]:
        """The row in its own API's shape."""
        raise NotImplementedError

    def create_row(self, user: User, fields: dict[str, Any]) -> Any:
        """Create the row (and its block) from parsed ``fields``; returns the row."""
        raise NotImplementedError

    def update_row(self, user: User, row_id: int, fields: dict[str, Any]) -> None:
        """Apply parsed ``fields`` to the user's row."""
        raise NotImplementedError

    def delete_row(self, user: User, row_id: int) -> None:
        """Delete the user's row (its block goes with it)."""
        raise NotImplementedError

    def add(self, user: User, fields: dict[str, Any]) -> PageBlock:
        """Create the row and its block."""
        row_id = self.create_row(user, fields).id
        block = db.session.scalar(select(PageBlock).where(getattr(PageBlock, self.column) == row_id))
        if block is None:
            raise NotFound(self.missing)
        return block

    def edit(self, user: User, block: PageBlock, fields: dict[str, Any]) -> None:
        """Edit the block's row."""
        self.update_row(user, self.row_id(block), fields)

    def remove(self, user: User, block: PageBlock) -> None:
        """Delete the block's row (the block goes with it)."""
        self.delete_row(user, self.row_id(block))

    def shown(self, block: BlockFields, link: ShownLink | None, product: ShownProduct | None) -> Any:
        """The row when the page shows it (live link, shown product), else None."""
        return self.row_of(link, product)

    def fields_json(self, block: PageBlock, link: UserLink | None, product: Product | None) -> dict[str, Any]:
        """The row's API shape without ``id`` and ``order_index`` (the block has ``item_id``)."""
        row = self.row_of(link, product)
        if row is None:
            return {}
        shape = self.row_json(row)
        return {name: value for name, value in shape.items() if name not in ("id", "order_index")}

    def exported_fields(
        self, block: PageBlock, link: UserLink | None, product: Product | None
    ) -> dict[str, Any]:
        """None: the export lists the rows themselves (``links``, ``products``), named by ``item_id``."""
        return {}

    def row_id(self, block: PageBlock) -> int:
        """The id of the row ``block`` shows (the foreign key cascades: such a block always has one)."""
        row_id: int | None = getattr(block, self.column)
        if row_id is None:
            raise NotFound(self.missing)
        return row_id
