"""Email sign-up (capture) blocks: ``capture_entry``, the names and addresses a page's forms took.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

A new table; no existing row changes. A capture block itself is a ``page_block`` of kind ``capture``
(its fields in ``data``), which needs no schema change. One entry per (owner, address); ``block_id``
becomes NULL when the form's block is deleted. Downgrading drops the table with every entry in it (export
them as CSV from the dashboard first); capture blocks stay in ``page_block`` and an older version skips
them as a kind it does not know.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``capture_entry``."""
    op.create_table(
        "capture_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["block_id"], ["page_block.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "email", name="uq_capture_entry_owner_email"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_capture_entry_block_id", "capture_entry", ["block_id"], unique=False)


def downgrade() -> None:
    """Drop ``capture_entry`` and its entries (its index goes with it: MariaDB refuses to drop alone an
    index its foreign key needs)."""
    op.drop_table("capture_entry")
