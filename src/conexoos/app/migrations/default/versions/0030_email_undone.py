"""An account remembers which changes of address its undos spent: ``user.email_undone_from`` and
``user.email_undone_at``.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06

The "this wasn't me" link mailed to the old address at a change of address now works through later
changes: before, a second change killed it, and whoever had changed the address twice kept the account.
A link is spent by an undo of its own change or of an earlier one (the account is back on an address at
least as old), which these two times say. Two nullable columns, added in place (no table rebuild on
SQLite); every existing account gets none (nothing undone since), and a link mailed before the upgrade is
read by its own rule until it expires.

Downgrade: drops both columns; links mailed since the upgrade stop working (the old rule cannot read them).
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``user.email_undone_from`` and ``user.email_undone_at`` (none for every account)."""
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("email_undone_from", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("email_undone_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop both columns (SQLite 3.35+ drops a column in place)."""
    op.drop_column("user", "email_undone_at")
    op.drop_column("user", "email_undone_from")
