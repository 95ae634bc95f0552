"""Sign-ups waiting for confirmation, and the queue of password-reset requests.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

- ``pending_signup``: under ``VERIFY_EMAIL: required`` a sign-up makes no account until the link mailed
  to the address is followed; the row keeps the username (unique: it is taken meanwhile), the address,
  the password hash, the invitation used (deleted with it) and the SHA-256 of the link's secret.
- ``reset_request``: "forgot password" stores the login as typed and the asker's network; a task finds
  the account and mails the link, so the request does the same work whether the account exists.

Only new tables: existing rows are untouched (accounts made unverified before stay as they are).
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``pending_signup`` and ``reset_request``."""
    op.create_table(
        "pending_signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["invite_id"], ["invite.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_pending_signup_expires_at", "pending_signup", ["expires_at"], unique=False)
    op.create_table(
        "reset_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Drop both tables: pending sign-ups are lost (their links stop working), and so are reset requests
    not answered yet."""
    op.drop_table("reset_request")
    op.drop_index("ix_pending_signup_expires_at", table_name="pending_signup")
    op.drop_table("pending_signup")
