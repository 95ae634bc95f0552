"""Every analytics event carries a unique id: ``analytics_event.event_id``.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

Click and view recording now goes through a write buffer (a Redis stream or a local file), and the flush
that moves events into this table may insert the same event twice (it crashed after the insert and before
acknowledging the queue). The id given to the event when it was recorded is what the insert de-duplicates
on. Existing rows get a random UUID each, from the database itself (one UPDATE, no row read into Python).

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UUID = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' "
    "|| substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' "
    "|| hex(randomblob(6)))"
)
"""A version-4 UUID in SQLite's SQL (it has no UUID function)."""
UUID_SQL = {"postgresql": "gen_random_uuid()::text", "mysql": "UUID()", "mariadb": "UUID()"}


def upgrade() -> None:
    """Add ``event_id`` (a UUID for every existing event), then make it NOT NULL and unique."""
    with op.batch_alter_table("analytics_event") as batch:
        batch.add_column(sa.Column("event_id", sa.String(36), nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE analytics_event SET event_id = {UUID_SQL.get(dialect, SQLITE_UUID)}")
    with op.batch_alter_table("analytics_event") as batch:
        batch.alter_column("event_id", existing_type=sa.String(36), nullable=False)
        batch.create_index("ix_analytics_event_event_id", ["event_id"], unique=True)


def downgrade() -> None:
    """Drop the column and its index: the events stay, without their ids."""
    with op.batch_alter_table("analytics_event") as batch:
        batch.drop_index("ix_analytics_event_event_id")
        batch.drop_column("event_id")
