"""One message a visitor left for a page's owner (deleted with the owner's account)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

NAME_MAX, EMAIL_MAX, BODY_MAX = 100, 254, 5000


def utcnow() -> datetime:
    """Naive UTC in whole seconds (SQLite and MariaDB keep no zone nor fraction)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class ContactMessage(db.Model):  # type: ignore[name-defined]
    """A visitor's name, address and message to the owner of a page, with the sender's network only."""

    __tablename__ = "contact_message"
    __table_args__ = (Index("ix_contact_message_owner", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    sender_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    sender_email: Mapped[str] = mapped_column(String(EMAIL_MAX), nullable=False)
    body: Mapped[str] = mapped_column(Text(), nullable=False)
    sender_network: Mapped[str] = mapped_column(String(45), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False, default=utcnow)
