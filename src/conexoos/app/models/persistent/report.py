"""A visitor's report of a public page (phishing, spam...), with the page's links as they were.

A report outlives the reported account: deleting the account sets ``user_id`` to NULL and keeps the
report, with the page's address (``reported_username``) and links as they were, so an account cannot
erase the reports about it by deleting itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime

REASONS = ("phishing", "spam", "abuse", "illegal", "other")
OPEN, DISMISSED, ACTIONED = "open", "dismissed", "actioned"
STATUSES = (OPEN, DISMISSED, ACTIONED)
DETAILS_MAX = 2000


class Report(db.Model):  # type: ignore[name-defined]
    """One report: who was reported (``user_id``, None once that account is deleted, and the page's
    username when reported), why, the page's links when reported, and how staff handled it."""

    __tablename__ = "report"
    __table_args__ = (Index("ix_report_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    reported_username: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reporter_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    reporter_network: Mapped[str] = mapped_column(String(45), nullable=False)
    snapshot: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    handled_by_username: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    """Who closed the report, by name: kept when that account is deleted (``handled_by_id`` goes NULL)."""
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    action: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    @property
    def snapshot_links(self) -> list[dict[str, Any]]:
        """The reported page's links (``id``, ``title``, ``url``) as they were when reported."""
        links = json.loads(self.snapshot or "[]")
        return links if isinstance(links, list) else []
