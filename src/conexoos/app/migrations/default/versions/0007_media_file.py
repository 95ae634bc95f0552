"""Media kept in the database: the ``media_file`` table (SERVER_ENV.MEDIA.BACKEND: database).

Revision ID: 0007
Revises: 0002
Create Date: 2026-12-02

One row per stored file: its name (the primary key, ASCII compared exactly), media type, bytes (LONGBLOB
on MariaDB, whose BLOB stops at 64 KB), size, SHA-256 (the ETag) and when it was stored. A new table: no
existing row is touched. Files already in the instance folder stay there until
``conexoos media migrate --to database`` copies them.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``media_file``."""
    op.create_table(
        "media_file",
        sa.Column(
            "name",
            sa.String(length=255).with_variant(
                mysql.VARCHAR(length=255, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
            ),
            nullable=False,
        ),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column(
            "data", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"), nullable=False
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    """Drop ``media_file`` (and every file stored in it: migrate them elsewhere first)."""
    op.drop_table("media_file")
