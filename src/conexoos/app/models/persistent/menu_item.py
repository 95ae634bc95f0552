"""The site's header and footer menus: ordered entries, each a site page or an external link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime

HEADER, FOOTER = "header", "footer"
MENUS = (HEADER, FOOTER)
LABEL_MAX, URL_MAX = 60, 2048


class MenuItem(db.Model):  # type: ignore[name-defined]
    """One entry of ``menu``: exactly one of ``page_id`` (a site page) and ``url`` (an external link) is
    set. ``position`` orders a menu's entries; deleting the page deletes its entries."""

    __tablename__ = "menu_item"
    __table_args__ = (Index("ix_menu_item_menu_position", "menu", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    menu: Mapped[str] = mapped_column(String(16), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str] = mapped_column(String(LABEL_MAX), nullable=False)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("site_page.id", ondelete="CASCADE"), nullable=True)
    url: Mapped[str | None] = mapped_column(String(URL_MAX), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
