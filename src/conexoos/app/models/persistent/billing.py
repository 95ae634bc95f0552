"""Stripe webhook events already processed (for idempotency)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
