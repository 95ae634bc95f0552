"""The pending change of address each account asked for last.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

- ``user.email_change_nonce``: a random value naming the newest change of address asked for; a change
  link holds a fingerprint of it, so a newer request, a confirmation or "log out everywhere else" ends
  every older link. NULL for every existing row: links mailed before this revision no longer work
  (they expire within 24 hours anyway).

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``user.email_change_nonce`` (nullable: no row needs a value)."""
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("email_change_nonce", sa.String(32), nullable=True))


def downgrade() -> None:
    """Back to 0009: pending changes of address are forgotten."""
    op.drop_column("user", "email_change_nonce")  # SQLite 3.35+ drops a column in place
