"""One page view or link click, as recorded for analytics."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime, exact_string

VIEW = "view"
BUY = "buy"
"""A click on a product's buy link (``link_id`` holds the product id)."""
CLICK = "click"
LOCK_VIEW = "lockview"
"""A visitor was shown a link's lock (sensitive-content notice or password form) at ``/go/<id>``."""
UNLOCK = "unlock"
"""A visitor passed a link's lock and was redirected: a click on the link, through its lock."""
LINK_CLICKS = (CLICK, UNLOCK)
"""The kinds that count as clicks on a link."""


class AnalyticsEvent(db.Model):  # type: ignore[name-defined]
    """A raw event; kept for a configurable number of days, summarised into rollups for good."""

    __tablename__ = "analytics_event"
    __table_args__ = (
        Index("ix_analytics_event_owner_time", "owner_id", "occurred_at"),
        # /api/stats reads one owner's pending events (not rolled up yet): a range of this index.
        Index("ix_analytics_event_owner_pending", "owner_id", "rolled_up", "id"),
        # The roll-up takes the pending events in id order: the events table is its queue.
        Index("ix_analytics_event_pending", "rolled_up", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(
        String(36), nullable=False, unique=True, index=True, default=lambda: str(uuid4())
    )
    """Given when the event is recorded: the write buffer's flush inserts an event at most once by it."""
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    link_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    referrer_host: Mapped[str] = mapped_column(exact_string(255), nullable=False, default="")
    utm_source: Mapped[str] = mapped_column(exact_string(100), nullable=False, default="")
    utm_medium: Mapped[str] = mapped_column(exact_string(100), nullable=False, default="")
    utm_campaign: Mapped[str] = mapped_column(exact_string(100), nullable=False, default="")
    device: Mapped[str] = mapped_column(exact_string(16), nullable=False, default="other")
    os: Mapped[str] = mapped_column(exact_string(40), nullable=False, default="")
    browser: Mapped[str] = mapped_column(exact_string(40), nullable=False, default="")
    country: Mapped[str] = mapped_column(exact_string(2), nullable=False, default="")
    visitor_hash: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    rolled_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    """False while pending; set true by the transaction that folds (or quarantines) the event."""


class EventQuarantine(db.Model):  # type: ignore[name-defined]
    """A raw event the roll-up could not fold even on its own: kept here, with why, instead of blocking.

    The roll-up moves past it, so later events are counted; an operator reads this table (or
    ``conexoos analytics quarantine``), fixes the cause, and may re-insert the event from ``data``.
    """

    __tablename__ = "event_quarantine"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    """The event's columns as JSON."""
    error: Mapped[str] = mapped_column(Text, nullable=False)
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
