"""Revoked invitations are told from expired ones: ``invite.revoked_at``.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04

Before, revoking an invitation only moved its ``expires_at`` to the moment of the revocation, so the admin's
list called it expired. The new nullable column holds when it was revoked; invitations the audit log shows
revoked (``invite.revoke`` entries) get their ``expires_at``, which the revocation set, as ``revoked_at``.
A plain ``ADD COLUMN`` (no table rebuild on SQLite).

Downgrade: drops the column (revoked invitations are listed as expired again, and still do not work).
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``invite.revoked_at`` and fill it for the invitations the audit log shows revoked."""
    op.add_column("invite", sa.Column("revoked_at", sa.DateTime(), nullable=True))
    bind = op.get_bind()
    audit = sa.table("audit_log", sa.column("action"), sa.column("target_type"), sa.column("target_id"))
    revoked = bind.execute(
        sa.select(audit.c.target_id).where(audit.c.action == "invite.revoke", audit.c.target_type == "invite")
    ).scalars()
    ids = sorted({int(target) for target in revoked if target.isascii() and target.isdigit()})
    invite = sa.table(
        "invite", sa.column("id"), sa.column("expires_at"), sa.column("used_at"), sa.column("revoked_at")
    )
    for start in range(0, len(ids), 500):
        bind.execute(
            invite.update()
            .where(invite.c.id.in_(ids[start : start + 500]), invite.c.used_at.is_(None))
            .values(revoked_at=invite.c.expires_at)
        )


def downgrade() -> None:
    """Drop ``invite.revoked_at`` (a plain ``DROP COLUMN``, SQLite 3.35 or later: no rebuild, which with
    foreign keys on would cascade to ``pending_signup``)."""
    op.drop_column("invite", "revoked_at")
