"""A link a moderator hid stays hidden: ``user_link.hidden_by_staff``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

Before this revision, hiding a link after a report only disabled it, and its owner could show it again.
Links hidden that way before the upgrade cannot be told apart from links their owners disabled, so every
existing row starts as ``false``; the audit log (``link.hide``) still names them.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``user_link.hidden_by_staff`` (NOT NULL, false for every existing link)."""
    op.add_column(
        "user_link", sa.Column("hidden_by_staff", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    """Drop the column: hidden links stay disabled, but their owners could show them again."""
    op.drop_column("user_link", "hidden_by_staff")
