"""A request to export an account: built into a zip in the instance folder, downloadable until it expires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import CrudMixin, utcnow
from .types import UTCDateTime

PENDING = "pending"
BUILDING = "building"
READY = "ready"
FAILED = "failed"


class ExportJob(CrudMixin, db.Model):  # type: ignore[name-defined]
    """One export of one user's data: ``pending`` until a task (or the request, for small accounts) claims
    it (``building``) and writes ``file_name`` under the exports folder, then ``ready`` until
    ``expires_at``, or ``failed``."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    file_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)

    @classmethod
    def latest_for(cls, user_id: int) -> ExportJob | None:
        """The user's newest export, or None."""
        query = select(cls).where(cls.user_id == user_id).order_by(cls.id.desc()).limit(1)
        return db.session.scalar(query)

    @classmethod
    def get_owned(cls, job_id: int, user_id: int) -> ExportJob | None:
        """The export if it belongs to ``user_id``; None otherwise."""
        return db.session.scalar(select(cls).where(cls.id == job_id, cls.user_id == user_id))

    @classmethod
    def of_user(cls, user_id: int) -> Sequence[ExportJob]:
        """Every export of the user."""
        return db.session.scalars(select(cls).where(cls.user_id == user_id)).all()

    @classmethod
    def pending(cls, limit: int) -> Sequence[ExportJob]:
        """The oldest exports still waiting to be built."""
        return db.session.scalars(
            select(cls).where(cls.status == PENDING).order_by(cls.id).limit(limit)
        ).all()

    @classmethod
    def expired(cls, now: datetime) -> Sequence[ExportJob]:
        """Exports whose download time is over."""
        return db.session.scalars(select(cls).where(cls.expires_at <= now)).all()
