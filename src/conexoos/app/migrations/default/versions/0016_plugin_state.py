"""Plugins: which installed plugins are enabled (the framework's ``plugin_state``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

- ``plugin_state``: one row per plugin ever switched (``conexoos.framework.plugins``), enabled or not,
  when and by whom. A plugin without a row is disabled. Each plugin's own tables are in its own history.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``plugin_state`` (empty: every plugin starts disabled)."""
    op.create_table(
        "plugin_state",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    """Back to 0013: the switches are dropped (plugins' own tables are their histories' to drop)."""
    op.drop_table("plugin_state")
