"""Link locks and icons: ``user_link.sensitive``, ``user_link.password_hash`` and ``user_link.icon``.

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-02

Every existing link starts unlocked (not sensitive, no password) and with no uploaded icon, so ``/go``
behaves exactly as before the upgrade. Downgrading drops the three columns: locked links become plain
links again (their passwords are lost) and uploaded thumbnails stay in media storage, unreferenced.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three columns, NOT NULL, with the unlocked default for every existing link."""
    with op.batch_alter_table("user_link") as batch:
        batch.add_column(sa.Column("sensitive", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("icon", sa.String(255), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop the columns: every link is unlocked and shows its brand icon again."""
    with op.batch_alter_table("user_link") as batch:
        batch.drop_column("icon")
        batch.drop_column("password_hash")
        batch.drop_column("sensitive")
