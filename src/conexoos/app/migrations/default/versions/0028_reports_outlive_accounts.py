"""Reports outlive the reported account: ``report.user_id`` becomes nullable (``ON DELETE SET NULL``),
``report.reported_username`` keeps the page's address and ``report.handled_by_username`` who closed it.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

Before, deleting an account deleted every report about it, so a reported account could erase its reports
by deleting itself. Now the report stays, with ``user_id`` NULL. ``reported_username`` is filled from the
reported accounts' usernames (every report's account still exists: the old foreign key cascaded), and
``handled_by_username`` from the accounts that closed reports (empty where that account is gone already).

The foreign key's name differs by database (PostgreSQL ``report_user_id_fkey``, MariaDB
``report_ibfk_N``, unnamed on SQLite): it is read from the database and the new one is named
``fk_report_user_id_user``. SQLite rebuilds the table (a batch migration; nothing references
``report``, so the rebuild touches no other table).

Downgrade: deletes the reports whose account is gone (the old schema cannot hold them), then restores
the NOT NULL cascading key and drops both columns.
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_report_user_id_user"
NAMED = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
"""Names SQLite's unnamed foreign keys as the batch reflects them, so one can be dropped by name."""


def upgrade() -> None:
    """Add and fill ``reported_username`` and ``handled_by_username``, then make ``user_id`` nullable with
    ``ON DELETE SET NULL``."""
    for name in ("reported_username", "handled_by_username"):
        op.add_column("report", sa.Column(name, sa.String(30), nullable=False, server_default=""))
    report = sa.table(
        "report",
        sa.column("user_id"),
        sa.column("handled_by_id"),
        sa.column("reported_username"),
        sa.column("handled_by_username"),
    )
    user = sa.table("user", sa.column("id"), sa.column("username"))

    def username(of: sa.ColumnElement[int]) -> sa.ColumnElement[str]:
        found = sa.select(user.c.username).where(user.c.id == of).scalar_subquery()
        return sa.func.coalesce(found, "")

    op.get_bind().execute(
        report.update().values(
            reported_username=username(report.c.user_id), handled_by_username=username(report.c.handled_by_id)
        )
    )
    replace_user_key(nullable=True, ondelete="SET NULL")


def downgrade() -> None:
    """Delete the reports about deleted accounts, restore the cascading NOT NULL key, drop both columns."""
    report = sa.table("report", sa.column("user_id"))
    op.get_bind().execute(report.delete().where(report.c.user_id.is_(None)))
    replace_user_key(nullable=False, ondelete="CASCADE")
    for name in ("handled_by_username", "reported_username"):
        op.drop_column("report", name)


def replace_user_key(nullable: bool, ondelete: str) -> None:
    """Replace the foreign key of ``report.user_id`` by one with ``ondelete``, the column ``nullable``."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("report", recreate="always", naming_convention=NAMED) as batch:
            batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
            batch.alter_column("user_id", existing_type=sa.Integer(), nullable=nullable)
            batch.create_foreign_key(FOREIGN_KEY, "user", ["user_id"], ["id"], ondelete=ondelete)
        return
    op.drop_constraint(user_key_name(bind), "report", type_="foreignkey")
    op.alter_column("report", "user_id", existing_type=sa.Integer(), nullable=nullable)
    op.create_foreign_key(FOREIGN_KEY, "report", "user", ["user_id"], ["id"], ondelete=ondelete)


def user_key_name(bind: sa.Connection) -> str:
    """The name the database gave the foreign key of ``report.user_id``."""
    for key in sa.inspect(bind).get_foreign_keys("report"):
        if key["constrained_columns"] == ["user_id"] and key["name"]:
            return str(key["name"])
    raise RuntimeError("revision 0028: report.user_id has no named foreign key to replace")
