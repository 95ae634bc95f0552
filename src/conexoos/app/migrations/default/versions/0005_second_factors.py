"""Second factors: an authenticator app's secret, recovery codes and passkeys.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02

Three new tables, each row owned by a user and deleted with them (``ON DELETE CASCADE``):

- ``user_totp``: one per user, the encrypted TOTP secret, when it was confirmed and the last time step
  used (a code is accepted once);
- ``recovery_code``: the SHA-256 of each single-use recovery code, and when it was used;
- ``passkey``: WebAuthn credentials (id, public key, signature counter, user handle, name).

Only tables are created: no existing row is touched. Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create user_totp, recovery_code and passkey."""
    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recovery_code_user_hash", "recovery_code", ["user_id", "code_hash"], unique=True)
    op.create_table(
        "passkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("credential_digest", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(), nullable=False),
        sa.Column("transports", sa.String(length=255), nullable=False),
        sa.Column("last_challenge_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_digest"),
    )
    op.create_index("ix_passkey_user_id", "passkey", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the three tables: every second factor is lost (accounts log in with their password alone).

    Their indexes go with them: MariaDB refuses to drop an index its foreign key uses, on its own."""
    op.drop_table("passkey")
    op.drop_table("recovery_code")
    op.drop_table("user_totp")
