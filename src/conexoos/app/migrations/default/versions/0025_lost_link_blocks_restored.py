"""Links and products without a page block get one again, at the end of their owner's page.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

On SQLite, revision 0022 (before it was fixed) rebuilt ``user_link`` with foreign keys on: dropping the
old table cascaded to ``page_block`` and deleted every link's block, so the links stayed but left their
pages. The application never leaves a link or a product without its block (they are added and deleted
together), so every such row is one the cascade took: each gets a link (or product) block again, after
its owner's other blocks, in the order of ``order_index`` then id, shown (the link's or product's own
``enabled`` still decides whether it is drawn). Where no row lacks its block (PostgreSQL, MariaDB, a
SQLite site made after the fix) nothing changes.

Downgrade: nothing (the blocks are what 0020 made for every link and product).
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
ROWS = (("user_link", "link", "link_id"), ("product", "product", "product_id"))
"""Each table whose rows a block shows, the block's kind, and the block's column pointing at the row."""


def upgrade() -> None:
    """Give every link and product without a block its block, at the end of its owner's page."""
    bind = op.get_bind()
    blocks = sa.table(
        "page_block",
        *(sa.column(name) for name in ("owner_id", "kind", "position", "enabled", "data", "created_at")),
        sa.column("link_id"),
        sa.column("product_id"),
    )
    created = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, like every other time
    next_position: dict[int, int] = {}
    rows: list[dict[str, object]] = []
    for table_name, kind, column in ROWS:
        for owner_id, item_id in bind.execute(_without_block(table_name, column)):
            if owner_id not in next_position:
                next_position[owner_id] = _end_of_page(bind, owner_id)
            position = next_position[owner_id]
            next_position[owner_id] = position + 1
            rows.append(
                {
                    "owner_id": owner_id,
                    "kind": kind,
                    "position": position,
                    "enabled": True,
                    "data": "{}",
                    "link_id": item_id if column == "link_id" else None,
                    "product_id": item_id if column == "product_id" else None,
                    "created_at": created,
                }
            )
    for start in range(0, len(rows), BATCH):
        op.bulk_insert(blocks, rows[start : start + BATCH])


def downgrade() -> None:
    """Nothing: the blocks stay."""


def _without_block(table_name: str, column: str) -> sa.Select[Any]:
    """The (owner id, id) of each row of ``table_name`` no block points at, in page order."""
    items = sa.table(table_name, sa.column("id"), sa.column("owner_id"), sa.column("order_index"))
    blocks = sa.table("page_block", sa.column(column))
    has_block = sa.select(blocks.c[column]).where(blocks.c[column] == items.c.id).exists()
    return (
        sa.select(items.c.owner_id, items.c.id)
        .where(~has_block)
        .order_by(items.c.owner_id, items.c.order_index, items.c.id)
    )


def _end_of_page(bind: sa.Connection, owner_id: int) -> int:
    """The position after the owner's last block (0 without any)."""
    blocks = sa.table("page_block", sa.column("owner_id"), sa.column("position"))
    last = bind.execute(
        sa.select(sa.func.max(blocks.c.position)).where(blocks.c.owner_id == owner_id)
    ).scalar()
    return 0 if last is None else int(last) + 1
