"""Roles, suspension, the audit log, site settings and invitations (the operator's side).

Revision ID: 0012
Revises: 0010 (re-chained after 0011 at merge)
Create Date: 2026-12-02

- ``user.role`` (``admin``, ``moderator``, ``user``; NOT NULL, default ``user``) replaces
  ``user.is_admin``: every row with ``is_admin`` true becomes ``admin``. Downgrade copies back
  (``admin`` → true; a ``moderator`` becomes an ordinary user, since 0010 has no such role).
- ``user.suspended_at`` and ``user.suspension_reason``: NULL and empty for every existing row.
- ``audit_log``: append-only staff actions, ``actor_id`` set to NULL when the actor is deleted (the
  name is kept as text).
- ``site_setting`` (key → JSON text) and ``invite`` (single-use sign-up links, only a hash stored).

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_user = sa.table("user", sa.column("is_admin", sa.Boolean()), sa.column("role", sa.String(16)))


def upgrade() -> None:
    """Add the role (copied from ``is_admin``), suspension columns and the three tables."""
    op.add_column("user", sa.Column("role", sa.String(16), nullable=False, server_default="user"))
    op.execute(_user.update().where(_user.c.is_admin == sa.true()).values(role="admin"))
    op.drop_column("user", "is_admin")  # SQLite 3.35+ drops a column in place
    op.create_index("ix_user_role", "user", ["role"])
    op.add_column("user", sa.Column("suspended_at", sa.DateTime(), nullable=True))
    op.add_column("user", sa.Column("suspension_reason", sa.String(300), nullable=False, server_default=""))
    _create_audit_log()
    op.create_table(
        "site_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("note", sa.String(100), nullable=False),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("used_by_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("remote_address", sa.String(45), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "at"])


def downgrade() -> None:
    """Back to 0010: ``is_admin`` from the role (moderators become users); the tables are dropped."""
    op.drop_table("invite")
    op.drop_table("site_setting")
    op.drop_table("audit_log")
    op.drop_column("user", "suspension_reason")
    op.drop_column("user", "suspended_at")
    op.add_column("user", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(_user.update().where(_user.c.role == "admin").values(is_admin=True))
    op.drop_index("ix_user_role", table_name="user")
    op.drop_column("user", "role")
