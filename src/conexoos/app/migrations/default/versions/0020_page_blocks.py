"""Pages made of ordered blocks: ``page_block``, one row per link and product already there.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-02

- ``page_block``: a page is its owner's blocks in ``position`` order. A header, text or divider block
  keeps its fields in ``data`` (JSON text); a link or product block points at its row (``link_id``,
  ``product_id``; unique, ``ON DELETE CASCADE``), which keeps its id, so ``/go/<id>``, ``/go/product/<id>``
  and their statistics stay the row's.
- Every existing link and product gets its block, in the order the page showed them until now: the
  owner's links (by ``order_index``, then id), then the owner's products (the same). Nothing else changes.

Downgrade drops the table: links and products stay, with the ``order_index`` they have (the application
keeps it equal to their rank on the page); header, text and divider blocks are lost.
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    """Create ``page_block`` and give every link and product its block."""
    page_block = op.create_table(
        "page_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["user_link.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id"),
        sa.UniqueConstraint("product_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_page_block_owner_position", "page_block", ["owner_id", "position"], unique=False)
    _add_blocks(page_block)


def _add_blocks(page_block: sa.Table) -> None:
    """One block per link, then per product, numbered from 0 per owner in today's page order."""
    bind = op.get_bind()
    created = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, like every other time
    positions: dict[int, int] = {}
    rows: list[dict[str, object]] = []
    for table_name, kind, column in (("user_link", "link", "link_id"), ("product", "product", "product_id")):
        items = sa.table(table_name, sa.column("id"), sa.column("owner_id"), sa.column("order_index"))
        query = sa.select(items.c.owner_id, items.c.id).order_by(
            items.c.owner_id, items.c.order_index, items.c.id
        )
        for owner_id, item_id in bind.execute(query):
            position = positions.get(owner_id, 0)
            positions[owner_id] = position + 1
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
        op.bulk_insert(page_block, rows[start : start + BATCH])


def downgrade() -> None:
    """Drop ``page_block``: links and products stay; header, text and divider blocks are lost."""
    op.drop_table("page_block")  # its index goes with it (MariaDB's owner_id foreign key needs it until then)
