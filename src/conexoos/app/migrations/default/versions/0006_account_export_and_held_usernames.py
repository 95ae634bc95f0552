"""Account export jobs, and usernames held after an account is deleted.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-02

- ``export_job``: one export of one user's data (status, the zip's file name in the instance folder, when
  it was asked for and when its download link expires); deleted with its user.
- ``held_username``: the SHA-256 of a deleted account's username and until when nobody may take it. No
  foreign key: the account is gone.

Only new tables: existing rows are untouched. Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``export_job`` and ``held_username``."""
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_job_user_id", "export_job", ["user_id"], unique=False)
    op.create_index("ix_export_job_expires_at", "export_job", ["expires_at"], unique=False)
    op.create_table(
        "held_username",
        sa.Column("username_hash", sa.String(length=64), nullable=False),
        sa.Column("held_until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username_hash"),
    )
    op.create_index("ix_held_username_held_until", "held_username", ["held_until"], unique=False)


def downgrade() -> None:
    """Drop both tables (pending exports and username holds are lost)."""
    op.drop_index("ix_held_username_held_until", table_name="held_username")
    op.drop_table("held_username")
    # The table goes with its indexes: MariaDB refuses to drop ix_export_job_user_id on its own while the
    # foreign key to user needs it.
    op.drop_table("export_job")
