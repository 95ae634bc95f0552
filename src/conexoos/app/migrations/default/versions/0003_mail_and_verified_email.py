"""Mail: the framework's outbox table, and when each account's email address was verified.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

- ``mail_outbox``: messages waiting to be sent, sent, or failed (``conexoos.framework.mail``).
- ``user.email_verified_at``: accounts made before this revision count as verified (their verification
  time is their sign-up time): they signed up when no address was checked, and under
  ``APP.ACCOUNTS.VERIFY_EMAIL: required`` their pages would otherwise disappear at the upgrade.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the outbox; add ``user.email_verified_at``, set to ``created_at`` for existing accounts."""
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"], unique=False)
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("email_verified_at", sa.DateTime(), nullable=True))
    user = sa.table(
        "user", sa.column("created_at", sa.DateTime()), sa.column("email_verified_at", sa.DateTime())
    )
    op.execute(user.update().values(email_verified_at=user.c.created_at))


def downgrade() -> None:
    """Back to 0002: the verification times and the outbox (with unsent mail) are dropped."""
    op.drop_column("user", "email_verified_at")  # SQLite 3.35+ drops a column in place
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
