"""One block of a public page: the page is its owner's blocks in ``position`` order.

A block of a simple kind (header, text, divider) keeps its fields in ``data`` (JSON text). A link or a
product block points at its ``user_link`` or ``product`` row, which keeps its own id (``/go/<id>`` and
statistics stay the row's); deleting that row deletes its block (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import NEVER_REUSE_IDS, CrudMixin, utcnow
from .types import UTCDateTime


class PageBlock(CrudMixin, db.Model):  # type: ignore[name-defined]
    """A block: its kind's name, its place on the page, and either its data or the row it shows."""

    __tablename__ = "page_block"
    __table_args__ = (Index("ix_page_block_owner_position", "owner_id", "position"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    """Shown on the page (simple kinds); a link or product block follows its row's own ``enabled``."""
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_link.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @property
    def fields(self) -> dict[str, Any]:
        """The simple kind's fields, decoded from ``data``."""
        return decode_fields(self.data)

    @fields.setter
    def fields(self, value: dict[str, Any]) -> None:
        self.data = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @classmethod
    def next_position(cls, owner_id: int) -> int:
        """One past the owner's last block."""
        highest = db.session.scalar(select(func.max(cls.position)).where(cls.owner_id == owner_id))
        return 0 if highest is None else highest + 1


def decode_fields(data: str | None) -> dict[str, Any]:
    """A block's fields from its ``data`` column (an object of JSON; anything else is no field)."""
    value = json.loads(data or "{}")
    return value if isinstance(value, dict) else {}
