"""The contact plugin's first table: ``contact_message`` (deleted with its owner).

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Recorded in ``alembic_version_contact``, apart from the product's history; runs after the product's
(its owner is a ``user``). Frozen: imports nothing from the plugin.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``contact_message`` and its index by owner and time."""
    op.create_table(
        "contact_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender_name", sa.String(100), nullable=False),
        sa.Column("sender_email", sa.String(254), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sender_network", sa.String(45), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_contact_message_owner", "contact_message", ["owner_id", "created_at"], unique=False)


def downgrade() -> None:
    """Drop ``contact_message`` with its messages (and its index: MariaDB refuses to drop an index its
    foreign key uses before the table)."""
    op.drop_table("contact_message")
