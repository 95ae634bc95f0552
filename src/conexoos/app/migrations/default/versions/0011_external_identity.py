"""Sign-ins at identity providers (LDAP, OpenID Connect, SAML) linked to accounts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

- ``external_identity``: one row per (backend, provider, subject), the provider's stable id of a person,
  owned by a user and deleted with them (``ON DELETE CASCADE``); the address the provider gave, when it
  was linked and last used, and whether the provider vouched for that address when it was linked
  (``email_vouched``: a password set through a mailed reset link unlinks the identities that did not).

An account made at a first sign-in has no password: its ``password_hash`` holds the unusable marker that
already exists (``!`` and random hex, which no argon2 hash equals), so no column of ``user`` changes.
Only a table is created: no existing row is touched. Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create external_identity."""
    op.create_table(
        "external_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_vouched", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("backend", "provider", "subject", name="uq_external_identity_subject"),
    )
    op.create_index("ix_external_identity_user_id", "external_identity", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop external_identity: accounts made at a first sign-in keep their page but have no way to log in
    until their owner sets a password ("Forgot your password?").

    Its index goes with it: MariaDB refuses to drop an index its foreign key uses, on its own."""
    op.drop_table("external_identity")
