"""Moderation: reports of public pages, the domain blocklist, and blocked links.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

- ``report``: a visitor's report of a page (deleted with the page's user), with a JSON snapshot of its
  links, the reporter's network (truncated to /24 or /48, never the address) and how staff handled it.
- ``blocked_domain``: domains refused in links, with their subdomains.
- ``user_link.blocked`` (NOT NULL, default false for every existing row): the link's domain is blocked.
- ``product.blocked`` (likewise): the buy link's domain is blocked.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two tables, ``user_link.blocked`` and ``product.blocked``."""
    op.add_column("user_link", sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("product", sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("reporter_email", sa.String(254), nullable=True),
        sa.Column("reporter_network", sa.String(45), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "handled_by_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("action", sa.String(200), nullable=False),
    )
    op.create_index("ix_report_status_created", "report", ["status", "created_at"])
    op.create_table(
        "blocked_domain",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
    )


def downgrade() -> None:
    """Drop the two tables and the ``blocked`` columns (reports and the blocklist are lost)."""
    op.drop_table("blocked_domain")
    op.drop_index("ix_report_status_created", table_name="report")
    op.drop_table("report")
    op.drop_column("product", "blocked")  # SQLite 3.35+ drops a column in place
    op.drop_column("user_link", "blocked")
