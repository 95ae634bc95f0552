"""Addresses stored with quotes their local part does not need lose them: ``"alice"@example.com`` is
stored ``alice@example.com``.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

Sign-up and the change of address now store an address without the quotes a local part does not need
(RFC 5321 4.1.2: the same mailbox; a mail header drops them anyway), and look accounts up that way. An
account stored with such quotes before would not be found by its address any more, spelled either way:
its address is rewritten, unless another account holds the unquoted one already (that account is the one
found; the quoted one is left as it was, and logs in by its username). Only ``user.email`` changes; no
column is added.

Downgrade: nothing to undo (the unquoted address is the same mailbox, and the old code finds it).
Frozen: imports nothing from the application.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
USER = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String))


def upgrade() -> None:
    """Rewrite each ``"local"@domain`` whose local part needs no quotes, unless the result is taken."""
    bind = op.get_bind()
    quoted = bind.execute(sa.select(USER.c.id, USER.c.email).where(USER.c.email.like('"%'))).all()
    for user_id, email in quoted:
        local, _, domain = email.rpartition("@")
        inner = local[1:-1] if len(local) > 2 and local.endswith('"') else ""
        if not DOT_ATOM.fullmatch(inner):
            continue  # quotes it needs: kept as they are
        unquoted = f"{inner.lower()}@{domain}"
        taken = bind.execute(sa.select(USER.c.id).where(USER.c.email == unquoted)).first()
        if taken is None:
            bind.execute(USER.update().where(USER.c.id == user_id).values(email=unquoted))


def downgrade() -> None:
    """Nothing to undo: the unquoted address is the same mailbox."""
