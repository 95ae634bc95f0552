"""Site pages (the CMS) with their revisions, and the header and footer menus.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

- ``site_page``: a page at ``/p/<slug>`` (Markdown source, SEO description, social image, status draft /
  scheduled / published; the Markdown is a MEDIUMTEXT on MariaDB); ids are never reused, so an old
  revision or menu entry cannot point at a new page.
- ``site_page_revision``: every saved state of a page, numbered from 1 per page, deleted with its page.
- ``menu_item``: ordered entries of the ``header`` and ``footer`` menus, each a page (deleted with it) or
  an external URL.

Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
"""A page's Markdown: MariaDB's TEXT holds only 64 KB."""


def upgrade() -> None:
    """Add ``site_page``, ``site_page_revision`` and ``menu_item``."""
    op.create_table(
        "site_page",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("social_image", sa.String(300), nullable=False),
        sa.Column("body", LONG_TEXT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("publish_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column(
            "updated_by_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
        **NEVER_REUSE_IDS,
    )
    op.create_table(
        "site_page_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("page_id", sa.Integer(), sa.ForeignKey("site_page.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("social_image", sa.String(300), nullable=False),
        sa.Column("body", LONG_TEXT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("publish_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("page_id", "number", name="uq_site_page_revision_number"),
    )
    op.create_index("ix_site_page_revision_page", "site_page_revision", ["page_id"])
    op.create_table(
        "menu_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("menu", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("page_id", sa.Integer(), sa.ForeignKey("site_page.id", ondelete="CASCADE"), nullable=True),
        sa.Column("url", sa.String(2048), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_menu_item_menu_position", "menu_item", ["menu", "position"])


def downgrade() -> None:
    """Drop the three tables (the site's pages, their history and the menus are lost)."""
    op.drop_index("ix_menu_item_menu_position", table_name="menu_item")
    op.drop_table("menu_item")
    op.drop_index("ix_site_page_revision_page", table_name="site_page_revision")
    op.drop_table("site_page_revision")
    op.drop_table("site_page")
