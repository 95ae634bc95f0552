"""The registry of logged-in sessions (Settings → Security: list them, end them).

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02

- ``user_session``: one row per logged-in session, known by the SHA-256 of its id; deleting a user
  deletes their rows (``ON DELETE CASCADE``). A new table: no existing row is touched. Sessions that were
  logged in before this revision are registered at their next request.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``user_session``."""
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("place", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop ``user_session`` (its index goes with it: MariaDB refuses to drop the index its foreign key
    needs first): every session is valid again until it expires."""
    op.drop_table("user_session")
