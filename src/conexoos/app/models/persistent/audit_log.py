"""The audit log: one append-only row per staff action (who, when, what, before and after)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class AuditEntry(db.Model):  # type: ignore[name-defined]
    """One action by an admin or moderator (or the setup page, or an operator command).

    Rows are only ever inserted (:func:`conexoos.app.controllers.audit.record`); nothing in the product
    updates or deletes them. ``actor_name`` keeps the actor's username when the account is deleted later
    (``actor_id`` then becomes NULL). ``before`` and ``after`` are JSON text.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor", "actor_id", "at"),
        Index("ix_audit_log_action", "action", "at"),
        Index("ix_audit_log_target", "target_type", "target_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    target_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    summary: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    remote_address: Mapped[str] = mapped_column(String(45), nullable=False, default="")
