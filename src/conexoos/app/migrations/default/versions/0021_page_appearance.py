"""A creator's page appearance: theme, background, buttons, colours, font and avatar shape.

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-02

- ``page_appearance``: at most one row per user (its key is the user's id, deleted with the account);
  null colours and a null theme mean the theme's own (the site's default theme).

Only a new table: existing rows are untouched, and every page looks as before until its creator
chooses otherwise. Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``page_appearance``."""
    op.create_table(
        "page_appearance",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("theme", sa.String(length=32), nullable=True),
        sa.Column("background", sa.String(length=16), nullable=False),
        sa.Column("background_color", sa.String(length=7), nullable=True),
        sa.Column("gradient_color", sa.String(length=7), nullable=True),
        sa.Column("gradient_direction", sa.String(length=16), nullable=True),
        sa.Column("background_image", sa.String(length=255), nullable=True),
        sa.Column("backdrop_color", sa.String(length=7), nullable=True),
        sa.Column("text_color", sa.String(length=7), nullable=True),
        sa.Column("button_color", sa.String(length=7), nullable=True),
        sa.Column("button_text_color", sa.String(length=7), nullable=True),
        sa.Column("button_style", sa.String(length=16), nullable=False),
        sa.Column("corner_radius", sa.SmallInteger(), nullable=True),
        sa.Column("font", sa.String(length=16), nullable=False),
        sa.Column("avatar_shape", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    """Drop the table: every page goes back to the site's default theme (uploaded background images stay
    in the media storage, unused)."""
    op.drop_table("page_appearance")
