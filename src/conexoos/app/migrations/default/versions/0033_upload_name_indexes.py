"""Indexes on the columns that name an account's uploads, so ``/media/<name>`` finds its owner at once.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07

Serving an upload now asks whose it is, so that the uploads of a suspended account answer 404 like its
page (``controllers.user_images.hidden_page_owner``). Without an index, each image a visitor's browser
fetches read the whole table its name is on: ``user.avatar``, ``page_appearance.background_image``,
``product.image`` or ``user_link.icon``. Only indexes are added: no row changes.

Downgrade: drops the four indexes.
Frozen: imports nothing from the application.
"""

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_user_avatar", "user", "avatar"),
    ("ix_page_appearance_background_image", "page_appearance", "background_image"),
    ("ix_product_image", "product", "image"),
    ("ix_user_link_icon", "user_link", "icon"),
)


def upgrade() -> None:
    """One index per column naming uploads."""
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    """Drop the four indexes."""
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
