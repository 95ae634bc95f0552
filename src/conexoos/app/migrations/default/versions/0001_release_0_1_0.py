"""Release 0.1.0 schema.

The tables, columns, keys and indexes release 0.1.0 (main at c0947c4) made with ``create_all``.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Written against the models of 0.1.0 and frozen: it imports nothing from the application, so a later change
to a model or to ``UTCDateTime`` can never change what this revision creates. ``UTCDateTime`` is a
``TypeDecorator`` over ``DateTime``: its columns are plain ``sa.DateTime()`` columns in the database.
Python-side defaults (``default=...`` in the models) create no server default, so none is declared here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
"""SQLite AUTOINCREMENT on the tables whose ids appear in URLs (user, user_link, product)."""


def _big_id() -> sa.types.TypeEngine[int]:
    # BIGINT on PostgreSQL and MariaDB; INTEGER on SQLite, where only INTEGER PRIMARY KEY is the rowid.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc_datetime() -> sa.DateTime:
    # The models' UTCDateTime: naive UTC in a DATETIME / TIMESTAMP WITHOUT TIME ZONE column.
    return sa.DateTime()


def upgrade() -> None:
    """Create the 0.1.0 tables."""
    _create_user()
    _create_user_link()
    _create_product()
    _create_analytics_event()
    _create_stats()
    _create_stripe()


def downgrade() -> None:
    """Drop every table of 0.1.0 (and their data)."""
    op.drop_table("stripe_subscription_seen")
    op.drop_table("stripe_event")
    op.drop_table("stats_watermark")
    op.drop_table("stats_salt")
    op.drop_table("stats_visitor")
    op.drop_index("ix_stats_rollup_totals", table_name="stats_rollup")
    op.drop_index("ix_stats_rollup_tops", table_name="stats_rollup")
    op.drop_table("stats_rollup")
    op.drop_index("ix_analytics_event_owner_time", table_name="analytics_event")
    op.drop_index("ix_analytics_event_link_id", table_name="analytics_event")
    op.drop_table("analytics_event")
    op.drop_index("ix_product_owner_order", table_name="product")
    op.drop_table("product")
    op.drop_index("ix_user_link_owner_order", table_name="user_link")
    op.drop_table("user_link")
    op.drop_table("user")


def _create_user() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("bio", sa.String(length=300), nullable=False),
        sa.Column("avatar", sa.String(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("subscription_plan", sa.String(length=40), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("subscription_status", sa.String(length=32), nullable=False),
        sa.Column("past_due_since", _utc_datetime(), nullable=True),
        sa.Column("billing_event_at", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("username"),
        sa.UniqueConstraint("stripe_customer_id"),
        **NEVER_REUSE_IDS,
    )


def _create_user_link() -> None:
    op.create_table(
        "user_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("order_index", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("starts_at", _utc_datetime(), nullable=True),
        sa.Column("ends_at", _utc_datetime(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        **NEVER_REUSE_IDS,
    )
    op.create_index("ix_user_link_owner_order", "user_link", ["owner_id", "order_index"], unique=False)


def _create_product() -> None:
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("image", sa.String(length=255), nullable=False),
        sa.Column("buy_url", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("order_index", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        **NEVER_REUSE_IDS,
    )
    op.create_index("ix_product_owner_order", "product", ["owner_id", "order_index"], unique=False)


def _create_analytics_event() -> None:
    op.create_table(
        "analytics_event",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("occurred_at", _utc_datetime(), nullable=False),
        sa.Column("referrer_host", sa.String(length=255), nullable=False),
        sa.Column("utm_source", sa.String(length=100), nullable=False),
        sa.Column("utm_medium", sa.String(length=100), nullable=False),
        sa.Column("utm_campaign", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=16), nullable=False),
        sa.Column("os", sa.String(length=40), nullable=False),
        sa.Column("browser", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("visitor_hash", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    # In create_all's order: MariaDB lists a table's keys in the order they were made.
    op.create_index(
        "ix_analytics_event_owner_time", "analytics_event", ["owner_id", "occurred_at"], unique=False
    )
    op.create_index("ix_analytics_event_link_id", "analytics_event", ["link_id"], unique=False)


def _create_stats() -> None:
    op.create_table(
        "stats_rollup",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("uniques", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "owner_id", "grain", "bucket", "kind", "link_id", "dimension", "value", name="uq_stats_rollup_key"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
    )
    op.create_index(
        "ix_stats_rollup_tops",
        "stats_rollup",
        ["owner_id", "grain", "dimension", "kind", "link_id", "bucket", "value", "events"],
        unique=False,
    )
    op.create_index(
        "ix_stats_rollup_totals",
        "stats_rollup",
        ["owner_id", "grain", "dimension", "bucket", "kind", "link_id", "events", "uniques"],
        unique=False,
    )
    op.create_table(
        "stats_visitor",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "day", "visitor_hash", name="uq_stats_visitor"),
    )
    op.create_table(
        "stats_salt",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "stats_watermark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _create_stripe() -> None:
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=255), nullable=False),
        sa.Column("processed_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "stripe_subscription_seen",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("event_created", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
