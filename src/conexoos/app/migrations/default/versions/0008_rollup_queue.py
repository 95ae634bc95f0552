"""The roll-up takes pending events from the events table as a queue, instead of moving an id watermark.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

- ``analytics_event.rolled_up`` (NOT NULL, false by default): false while an event waits for the roll-up.
  Existing events at or below ``stats_watermark.last_event_id`` were counted already: they are marked
  rolled up; those above it are pending, exactly what the old roll-up would have folded next. Nothing is
  lost or counted twice.
- ``stats_watermark`` keeps its row (created here if a database never ran a roll-up): it is now the lock
  row every fold updates first.
- ``ix_analytics_event_owner_pending`` becomes (owner_id, rolled_up, id) for ``/api/stats``; the roll-up's
  queue reads ``ix_analytics_event_pending`` (rolled_up, id).

Downgrade: exact when every pending event has a higher id than every rolled-up one (run the roll-up
first); otherwise it is refused, since the old watermark could not express the difference.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``rolled_up``, mark what the watermark had counted, swap the pending-events indexes."""
    op.add_column(
        "analytics_event",
        sa.Column("rolled_up", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM stats_watermark WHERE id = 1")).scalar() == 0:
        bind.execute(sa.text("INSERT INTO stats_watermark (id, last_event_id) VALUES (1, 0)"))
    watermark = bind.execute(sa.text("SELECT last_event_id FROM stats_watermark WHERE id = 1")).scalar()
    events = sa.table(
        "analytics_event", sa.column("id", sa.BigInteger()), sa.column("rolled_up", sa.Boolean())
    )
    bind.execute(events.update().where(events.c.id <= int(watermark or 0)).values(rolled_up=True))
    op.drop_index("ix_analytics_event_owner_pending", table_name="analytics_event")
    op.create_index(
        "ix_analytics_event_owner_pending", "analytics_event", ["owner_id", "rolled_up", "id"], unique=False
    )
    op.create_index("ix_analytics_event_pending", "analytics_event", ["rolled_up", "id"], unique=False)


def downgrade() -> None:
    """Back to the watermark: refused while a pending event sits below a rolled-up one."""
    bind = op.get_bind()
    interleaved = bind.execute(
        sa.text(
            "SELECT COUNT(*) FROM analytics_event WHERE rolled_up = :pending AND id < "
            "(SELECT COALESCE(MAX(id), 0) FROM analytics_event WHERE rolled_up = :folded)"
        ),
        {"pending": False, "folded": True},
    ).scalar()
    if interleaved:
        raise RuntimeError(
            f"cannot downgrade below 0008: {interleaved} pending events have lower ids than rolled-up ones "
            "(committed late); run the analytics roll-up until none is pending, then downgrade"
        )
    highest = bind.execute(
        sa.text("SELECT COALESCE(MAX(id), 0) FROM analytics_event WHERE rolled_up = :folded"),
        {"folded": True},
    ).scalar()
    bind.execute(
        sa.text(
            "UPDATE stats_watermark SET last_event_id = :highest WHERE id = 1 AND last_event_id < :highest"
        ),
        {"highest": int(highest or 0)},
    )
    op.drop_index("ix_analytics_event_pending", table_name="analytics_event")
    op.drop_index("ix_analytics_event_owner_pending", table_name="analytics_event")
    op.create_index("ix_analytics_event_owner_pending", "analytics_event", ["owner_id", "id"], unique=False)
    with op.batch_alter_table("analytics_event") as batch:
        batch.drop_column("rolled_up")
