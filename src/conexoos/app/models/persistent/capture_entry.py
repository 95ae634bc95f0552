"""One email sign-up taken by a capture block of a public page (``controllers/capture_entries.py``).

The entry belongs to the page's owner: one row per (owner, address), so signing up twice on one page
keeps one entry. ``block_id`` names the form it came from and becomes NULL when that block is deleted
(the entry stays the owner's). With double opt-in the link mailed to the address carries a secret whose
SHA-256 is ``token_hash``; ``confirmed_at`` is set when the link is followed, and the hash is cleared so
the link works once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import NEVER_REUSE_IDS, utcnow
from .types import UTCDateTime

NAME_MAX = 100
EMAIL_MAX = 254


class CaptureEntry(db.Model):  # type: ignore[name-defined]
    """A name and a normalised address given to ``owner_id``'s page, confirmed or waiting for it."""

    __tablename__ = "capture_entry"
    __table_args__ = (
        UniqueConstraint("owner_id", "email", name="uq_capture_entry_owner_email"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    block_id: Mapped[int | None] = mapped_column(
        ForeignKey("page_block.id", ondelete="SET NULL"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), nullable=False)
    """Trimmed and lowercased: the same address typed twice is one entry."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    """SHA-256 of the confirmation link's secret while one is waiting; NULL once used (or never mailed)."""
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
