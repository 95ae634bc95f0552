"""Invitations remember where their link was mailed: ``invite.mailed_to``.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06

An administrator may now mail an invitation's link; the list of invitations shows the address. A plain
``ADD COLUMN`` with an empty default (no table rebuild on SQLite); invitations made before were never
mailed, so every existing row keeps "".

Downgrade: drops the column (the addresses stay in the audit log's ``invite.create`` entries).
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``invite.mailed_to`` ("" for every invitation made before)."""
    op.add_column("invite", sa.Column("mailed_to", sa.String(254), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop ``invite.mailed_to`` (a plain ``DROP COLUMN``, SQLite 3.35 or later)."""
    op.drop_column("invite", "mailed_to")
