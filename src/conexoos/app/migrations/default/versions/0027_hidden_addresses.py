"""What moderators hid is kept for its account: ``hidden_address``; products can be hidden too:
``product.hidden_by_staff``.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05

A new table: the addresses staff hid on an account's page from a report (a link, a social icon, an
embed), so that a link, icon or embed its owner adds again for one of them is stored hidden too. It is
filled from what is hidden now: every link hidden by staff, every social icon hidden by staff (and each
profile a row keeps hidden, ``hidden_addresses``, written back as an https address), every embed hidden
by staff. Their report is not known (``report_id`` NULL). ``product.hidden_by_staff`` comes false for
every product (none could be hidden by staff before).

Downgrade: drops the table and the column; the links, icons and embeds hidden stay hidden (an item added
again is shown again, as before); products hidden by staff stay disabled, but their owners could show them
again.
Frozen: imports nothing from the application.
"""

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
ADDRESS_MAX = 500


def upgrade() -> None:
    """Create ``hidden_address`` and fill it from the links, icons and embeds hidden by staff now."""
    table = op.create_table(
        "hidden_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=ADDRESS_MAX), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hidden_address_user_id", "hidden_address", ["user_id"], unique=False)
    op.add_column(
        "product", sa.Column("hidden_by_staff", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    hidden_at = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, like every other time
    rows = [
        {"user_id": owner, "kind": kind, "address": address[:ADDRESS_MAX], "hidden_at": hidden_at}
        for owner, kind, address in sorted(set(_hidden_now(op.get_bind())))
    ]
    for start in range(0, len(rows), BATCH):
        op.bulk_insert(table, rows[start : start + BATCH])


def downgrade() -> None:
    """Drop ``product.hidden_by_staff`` and ``hidden_address`` (its index goes with it: MariaDB refuses to
    drop alone an index its foreign key needs)."""
    op.drop_column("product", "hidden_by_staff")
    op.drop_table("hidden_address")


def _hidden_now(bind: sa.Connection) -> Iterator[tuple[int, str, str]]:
    """(owner id, kind, address) of each link, social icon and embed hidden by staff now."""
    links = sa.table("user_link", sa.column("owner_id"), sa.column("url"), sa.column("hidden_by_staff"))
    query = sa.select(links.c.owner_id, links.c.url).where(links.c.hidden_by_staff == sa.true())
    for owner, url in bind.execute(query):
        yield owner, "link", url
    blocks = sa.table("page_block", sa.column("owner_id"), sa.column("kind"), sa.column("data"))
    query = sa.select(blocks.c.owner_id, blocks.c.kind, blocks.c.data).where(
        blocks.c.kind.in_(("social", "embed"))
    )
    kind: str
    data: str | None
    for owner, kind, data in bind.execute(query):
        for address in _hidden_in(kind, _fields(data)):
            yield owner, kind, address


def _hidden_in(kind: str, fields: dict[str, Any]) -> Iterator[str]:
    """The addresses a block's fields hold hidden by staff."""
    if kind == "embed":
        if fields.get("hidden_by_staff") and isinstance(fields.get("url"), str):
            yield fields["url"]
        return
    items = fields.get("items")
    for entry in items if isinstance(items, list) else []:
        if isinstance(entry, dict) and entry.get("hidden_by_staff") and isinstance(entry.get("url"), str):
            yield entry["url"]
    kept = fields.get("hidden_addresses")
    for profile in kept if isinstance(kept, list) else []:
        if isinstance(profile, str) and profile:
            yield f"https://{profile}"


def _fields(data: str | None) -> dict[str, Any]:
    try:
        fields = json.loads(data or "{}")
    except ValueError:  # a block whose data is no JSON holds no field
        return {}
    return fields if isinstance(fields, dict) else {}
