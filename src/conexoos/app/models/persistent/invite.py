"""Single-use sign-up invitations made by admins (sign-up policy ``invite``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class Invite(db.Model):  # type: ignore[name-defined]
    """An invitation link: only the SHA-256 of its secret is stored; used once, then spent."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    note: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    mailed_to: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    """The address its link was mailed to ("" when the admin sent it themself)."""
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When an admin revoked it (its ``expires_at`` moved to that moment too); None when never revoked."""
