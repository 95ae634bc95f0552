"""``user.billing_event_at`` holds 64 bits: Stripe's timestamps pass 2**31 on 2038-01-19.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07

The column keeps ``created`` of the newest Stripe event applied to an account, in seconds since 1970. It was
a 32-bit INTEGER on PostgreSQL and MariaDB, so the webhook refused every event after 2038 as malformed, and
Stripe gave up on them. It becomes BIGINT there, every value kept; SQLite's INTEGER holds 64 bits already,
so SQLite is left as it is (no rebuild of the accounts table).

Downgrade: back to INTEGER on PostgreSQL and MariaDB; a time past 2038 (none before then, unless a webhook
sent one) becomes the last 32-bit second, which still orders it after every earlier event.
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAST_32_BIT_SECOND = 2**31 - 1
USER = sa.table("user", sa.column("billing_event_at", sa.BigInteger))


def upgrade() -> None:
    """INTEGER to BIGINT, except on SQLite (whose INTEGER is 64 bits)."""
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "user", "billing_event_at", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
    )


def downgrade() -> None:
    """BIGINT to INTEGER, a time past 2038 lowered to its last second first; nothing on SQLite."""
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        USER.update()
        .where(USER.c.billing_event_at > LAST_32_BIT_SECOND)
        .values(billing_event_at=LAST_32_BIT_SECOND)
    )
    op.alter_column(
        "user", "billing_event_at", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
    )
