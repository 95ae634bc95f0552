"""Link locks and icons: ``user_link.sensitive``, ``user_link.password_hash`` and ``user_link.icon``.

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-02

Every existing link starts unlocked (not sensitive, no password) and with no uploaded icon, so ``/go``
behaves exactly as before the upgrade. Downgrading drops the three columns: locked links become plain
links again (their passwords are lost) and uploaded thumbnails stay in media storage, unreferenced.

On SQLite both directions rebuild ``user_link``: with AUTOINCREMENT and its ``sqlite_sequence`` high-water
mark (a deleted link's id is never given again), and with foreign keys off, since dropping the old table
would delete every link's ``page_block`` (ON DELETE CASCADE). Before this was fixed, the rebuild lost
both; revision 0024 restores AUTOINCREMENT where it is missing.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    """Add the three columns, NOT NULL, with the unlocked default for every existing link."""
    high_water = prepare_sqlite_rebuild()
    with op.batch_alter_table("user_link", table_kwargs=NEVER_REUSE_IDS) as batch:
        batch.add_column(sa.Column("sensitive", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("icon", sa.String(255), nullable=False, server_default=""))
    keep_high_water(high_water)


def downgrade() -> None:
    """Drop the columns: every link is unlocked and shows its brand icon again."""
    high_water = prepare_sqlite_rebuild()
    with op.batch_alter_table("user_link", table_kwargs=NEVER_REUSE_IDS) as batch:
        batch.drop_column("icon")
        batch.drop_column("password_hash")
        batch.drop_column("sensitive")
    keep_high_water(high_water)


def prepare_sqlite_rebuild() -> int | None:
    """On SQLite: foreign keys off until the connection returns to the pool; ``user_link``'s highest id
    ever given (None elsewhere, or when none was recorded)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    if bind.execute(sa.text("PRAGMA foreign_keys")).scalar_one():
        raw = bind.connection.dbapi_connection
        with op.get_context().autocommit_block():  # the pragma is ignored inside a transaction
            op.execute("PRAGMA foreign_keys=OFF")
        sa.event.listen(bind.engine.pool, "checkin", foreign_keys_back_on(raw))
    # A copy an interrupted earlier try left (pysqlite commits the batch's CREATE TABLE at once): the next
    # CREATE would fail on it. It holds nothing user_link does not: that is dropped only after the copy.
    op.execute(sa.text('DROP TABLE IF EXISTS "_alembic_tmp_user_link"'))
    query = sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'user_link'")
    return bind.execute(query).scalar_one_or_none()


def foreign_keys_back_on(raw: Any) -> Any:
    """A pool ``checkin`` listener turning foreign keys on again, once, on the connection ``raw``."""
    restored = False

    def restore(dbapi_connection: Any, _record: Any) -> None:
        nonlocal restored
        if dbapi_connection is raw and not restored:
            restored = True
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return restore


def keep_high_water(high_water: int | None) -> None:
    """The rebuilt table's sequence is its highest id: raise it back to the highest id ever given."""
    if high_water is not None:
        query = "UPDATE sqlite_sequence SET seq = :seq WHERE name = 'user_link' AND seq < :seq"
        op.get_bind().execute(sa.text(query), {"seq": high_water})
