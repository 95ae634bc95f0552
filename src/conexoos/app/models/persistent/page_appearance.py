"""How a creator's page looks beyond its theme: background, buttons, colours, font and avatar shape.

One row per user at most (none: the theme as it is). Every value was validated by
:mod:`conexoos.app.controllers.appearance` before it was stored (colours as ``#rgb``/``#rrggbb``, choices
from its lists, the radius in its range); the public page turns them into CSS custom properties.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class PageAppearance(db.Model):  # type: ignore[name-defined]
    """A creator's choices; a null colour or theme means the theme's own."""

    __tablename__ = "page_appearance"

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    theme: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """A key of ``controllers/themes.py``; null: the site's default theme."""
    background: Mapped[str] = mapped_column(String(16), nullable=False, default="theme")
    """``theme``, ``solid``, ``gradient`` or ``image``."""
    background_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    gradient_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    """The gradient's second colour (its first is ``background_color``)."""
    gradient_direction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    background_image: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    """The stored name of the uploaded image (re-encoded through IOUtils)."""
    backdrop_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    """The panel behind the text on an image background."""
    text_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    button_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    button_text_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    button_style: Mapped[str] = mapped_column(String(16), nullable=False, default="fill")
    corner_radius: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    font: Mapped[str] = mapped_column(String(16), nullable=False, default="system")
    avatar_shape: Mapped[str] = mapped_column(String(16), nullable=False, default="circle")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )
