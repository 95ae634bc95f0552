"""SQLite: the tables whose ids are never reused get back the AUTOINCREMENT a batch migration dropped.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

On SQLite, revision 0022 (before it was fixed) rebuilt ``user_link`` from reflection, which does not carry
``sqlite_autoincrement``: the rebuilt table gave a deleted link's id to the next link, which then
inherited the old link's statistics and its ``/go/<id>`` URLs. Every table the models mark as never
reusing ids (``NEVER_REUSE_IDS``) whose ``CREATE TABLE`` lacks AUTOINCREMENT is rebuilt with it: every
row, id, index, unique and foreign key kept; SQLite seeds ``sqlite_sequence`` with the table's highest id
as the rows are copied (ids deleted above it before this revision cannot be known and may be given once
more). The rebuild runs with foreign keys off (dropping the old table would otherwise cascade to the rows
that reference it); it is refused (rolled back) if a row then references a row that is not there; a
copy such a refusal left behind is dropped at the next try.

PostgreSQL and MariaDB: nothing to do (their sequences and AUTO_INCREMENT never reuse an id). Downgrade
keeps AUTOINCREMENT: it is what every earlier revision meant these tables to have.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
TABLES = ("user", "user_link", "product", "site_page", "media_item", "page_block", "capture_entry")
"""The tables created with NEVER_REUSE_IDS up to this revision."""


def upgrade() -> None:
    """Rebuild, on SQLite, each table of TABLES whose ``CREATE TABLE`` lacks AUTOINCREMENT."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    lacking = [name for name in TABLES if not has_autoincrement(bind, name)]
    if not lacking:
        return
    foreign_keys_off_until_checkin(bind)
    broken_before = foreign_key_violations(bind)
    for name in lacking:
        drop_leftover_copy(name)
    for name in lacking:
        with op.batch_alter_table(name, recreate="always", table_kwargs=NEVER_REUSE_IDS):
            pass
    broken = foreign_key_violations(bind) - broken_before
    if broken:
        raise RuntimeError(f"revision 0024: rebuilt tables left rows pointing nowhere: {sorted(broken)[:5]}")


def downgrade() -> None:
    """Nothing: AUTOINCREMENT stays (the schema of 0023 as its revisions meant it)."""


def drop_leftover_copy(name: str) -> None:
    """Drop the copy of ``name`` a refused or interrupted earlier try left: pysqlite commits the batch's
    ``CREATE TABLE _alembic_tmp_<name>`` at once (DDL before the first write opens no transaction), so
    the rollback of a refusal leaves it, and the next try's CREATE would fail on it. It holds nothing
    the table does not hold: the table is dropped only after the copy, in the same transaction."""
    op.execute(sa.text(f'DROP TABLE IF EXISTS "_alembic_tmp_{name}"'))


def has_autoincrement(bind: sa.Connection, name: str) -> bool:
    query = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name")
    return "AUTOINCREMENT" in bind.execute(query, {"name": name}).scalar_one().upper()


def foreign_keys_off_until_checkin(bind: sa.Connection) -> None:
    """Turn SQLite's foreign keys off on this connection (outside a transaction, where the pragma works:
    what ran before is committed), and back on when the connection returns to the pool."""
    if not bind.execute(sa.text("PRAGMA foreign_keys")).scalar_one():
        return
    raw = bind.connection.dbapi_connection
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=OFF")
    sa.event.listen(bind.engine.pool, "checkin", foreign_keys_back_on(raw))


def foreign_keys_back_on(raw: Any) -> Any:
    """A pool ``checkin`` listener turning foreign keys on again, once, on the connection ``raw``."""
    restored = False

    def restore(dbapi_connection: Any, _record: Any) -> None:
        nonlocal restored
        if dbapi_connection is raw and not restored:
            restored = True
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return restore


def foreign_key_violations(bind: sa.Connection) -> set[tuple[Any, ...]]:
    """Each row referencing a row that is not there: (table, rowid, parent, constraint index)."""
    return {tuple(row) for row in bind.execute(sa.text("PRAGMA foreign_key_check")).all()}
