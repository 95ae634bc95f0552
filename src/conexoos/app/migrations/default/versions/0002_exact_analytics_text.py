"""Analytics text compares exactly; quarantine for events the roll-up cannot fold; pending-events index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

- MariaDB: the text dimensions of ``analytics_event`` and ``stats_rollup.value`` move to the binary,
  no-pad collation ``utf8mb4_nopad_bin`` (``ALTER TABLE ... MODIFY``: the rows are converted where they
  are, none is copied out or lost). Under the old case- and accent-insensitive collation, ``Promo`` after
  ``promo`` in one hour broke the roll-up's unique key. Binary is strictly finer than the old collation,
  so no existing rows can collide. SQLite and PostgreSQL already compare exactly: nothing changes there.
- ``event_quarantine``: raw events the roll-up set aside, with the error and when.
- ``ix_analytics_event_owner_pending`` (owner_id, id): ``/api/stats`` reads one owner's events past the
  roll-up watermark as a range of this index.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXACT_COLLATION = "utf8mb4_nopad_bin"
EXACT_COLUMNS = {
    "analytics_event": {
        "referrer_host": 255,
        "utm_source": 100,
        "utm_medium": 100,
        "utm_campaign": 100,
        "device": 16,
        "os": 40,
        "browser": 40,
        "country": 2,
    },
    "stats_rollup": {"value": 255},
}
"""Table -> column -> VARCHAR length of the text compared exactly."""


def upgrade() -> None:
    """Exact collation on MariaDB, the quarantine table and the pending-events index."""
    if _is_mariadb():
        for table, columns in EXACT_COLUMNS.items():
            _modify(table, columns, f"CHARACTER SET utf8mb4 COLLATE {EXACT_COLLATION}")
    op.create_index("ix_analytics_event_owner_pending", "analytics_event", ["owner_id", "id"], unique=False)
    op.create_table(
        "event_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_quarantine_event_id", "event_quarantine", ["event_id"], unique=False)


def downgrade() -> None:
    """Back to 0001: the quarantine (and what it holds) and the index go; MariaDB columns get the table's
    own collation again, refused while rollups hold values that collation would merge."""
    if _is_mariadb():
        # Checked before any change: MariaDB's DDL is not transactional, a later refusal would leave half.
        _refuse_merging_rollups(_table_collation("stats_rollup")[1])
    op.drop_index("ix_event_quarantine_event_id", table_name="event_quarantine")
    op.drop_table("event_quarantine")
    op.drop_index("ix_analytics_event_owner_pending", table_name="analytics_event")
    if _is_mariadb():
        for table, columns in EXACT_COLUMNS.items():
            charset, collation = _table_collation(table)
            _modify(table, columns, f"CHARACTER SET {charset} COLLATE {collation}")


def _is_mariadb() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def _modify(table: str, columns: dict[str, int], collate: str) -> None:
    # One ALTER per table: MariaDB rebuilds a table once, whatever the number of columns.
    changes = ", ".join(
        f"MODIFY {name} VARCHAR({length}) {collate} NOT NULL" for name, length in columns.items()
    )
    op.execute(f"ALTER TABLE {table} {changes}")


def _table_collation(table: str) -> tuple[str, str]:
    row = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT c.CHARACTER_SET_NAME, t.TABLE_COLLATION FROM information_schema.TABLES t "
                "JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION "
                "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = :table"
            ),
            {"table": table},
        )
        .one()
    )
    return str(row[0]), str(row[1])


def _refuse_merging_rollups(collation: str) -> None:
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT COUNT(*) FROM (SELECT 1 FROM stats_rollup GROUP BY owner_id, grain, bucket, kind, "
                f"link_id, dimension, value COLLATE {collation} HAVING COUNT(*) > 1) merged"
            )
        )
        .scalar()
    )
    if duplicates:
        raise RuntimeError(
            f"cannot downgrade below 0002: {duplicates} stats_rollup keys differ only in case, accents "
            f"or trailing spaces and would collide under {collation}; stay on 0002 or merge those rows first"
        )
