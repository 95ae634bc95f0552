"""The media library: images (as WebP renditions) and PDFs that site pages link to.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

- ``media_item``: one image or PDF; ``files`` is JSON text naming its stored files (in the media storage)
  and their sizes, ``bytes_total`` their sum (counted against ``APP.MEDIA_LIBRARY.MAX_TOTAL_BYTES``). Ids
  are never reused, so an old ``/media/library/<id>/...`` address cannot reach a newer file.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    """Add ``media_item``."""
    op.create_table(
        "media_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("storage_key", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("alt_text", sa.String(300), nullable=False),
        sa.Column("original_name", sa.String(200), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column(
            "uploaded_by_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        **NEVER_REUSE_IDS,
    )


def downgrade() -> None:
    """Drop ``media_item`` (the stored files stay in the media storage, named by no row)."""
    op.drop_table("media_item")
