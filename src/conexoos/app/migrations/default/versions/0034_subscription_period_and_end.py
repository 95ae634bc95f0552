"""An account remembers when its subscription's period ends and when a cancelled one stops:
``user.period_ends_at`` and ``user.plan_ends_at``.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07

Cancelling a subscription in good standing now asks Stripe to end it at the end of the period already
paid for (``cancel_at_period_end``) instead of at once: the paid plan is kept until then, and the pages say
when it ends, and the confirmation says until when the plan is kept. Two nullable columns, added in place
(no table rebuild on SQLite); every existing account gets none: until this release a cancellation ended the
subscription at once, so none is scheduled to end (one scheduled in Stripe's billing portal, and every
period's end, is stored by the subscription's next webhook; until then the confirmation says "until the end
of the period you paid for").

Downgrade: drops both columns; a subscription scheduled to end still ends at Stripe then (its webhook moves
the account to the free plan), but the pages stop saying so beforehand.
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0034"
down_revision: str | Sequence[str] | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``user.plan_ends_at`` and ``user.period_ends_at`` (none for every account)."""
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("plan_ends_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("period_ends_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop both columns (SQLite 3.35+ drops a column in place)."""
    op.drop_column("user", "period_ends_at")
    op.drop_column("user", "plan_ends_at")
