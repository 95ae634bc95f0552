"""When each account last logged in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

- ``user.last_login_at``: set at every login (password, second factor, passkey); NULL for accounts that
  have not logged in since this revision (no earlier time was recorded anywhere).

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``user.last_login_at`` (nullable: no row needs a value)."""
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("last_login_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Back to 0008: the login times are dropped."""
    op.drop_column("user", "last_login_at")  # SQLite 3.35+ drops a column in place
