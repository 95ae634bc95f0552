"""Stripe webhook events already processed (for idempotency) and the last state seen of each subscription."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class StripeEvent(db.Model):  # type: ignore[name-defined]
    """One Stripe event id, stored in the same transaction as its effect."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class StripeSubscriptionSeen(db.Model):  # type: ignore[name-defined]
    """The newest state applied for one Stripe subscription id, so that old or same-second events about it
    never move it back (a canceled subscription stays canceled even after the user has a newer one)."""

    __tablename__ = "stripe_subscription_seen"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    event_created: Mapped[int] = mapped_column(BigInteger, nullable=False)
    """``created`` of the newest event whose state was applied."""
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    @classmethod
    def get(cls, subscription_id: str) -> StripeSubscriptionSeen | None:
        """The state last applied for ``subscription_id``, or None."""
        return db.session.get(cls, subscription_id)
