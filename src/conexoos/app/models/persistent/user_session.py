"""The registry of logged-in sessions: one row per session, known by a hash of its id.

The row is what makes a session valid: a session whose row is gone is logged out at its next request,
whatever store (files, Redis, memcached, database) holds its data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import CrudMixin, transaction, utcnow
from .types import UTCDateTime
from .user import User


class UserSession(CrudMixin, db.Model):  # type: ignore[name-defined]
    """One logged-in session of a user: where from, since when, last seen."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    """SHA-256 (hex) of the session id: the registry alone cannot be used to take over a session."""
    device: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    place: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @classmethod
    def with_user(cls, sid_hash: str, user_id: int) -> tuple[UserSession, User] | None:
        """The session row of ``sid_hash`` and its user, when it belongs to ``user_id`` (one query)."""
        query = (
            select(cls, User)
            .join(User, User.id == cls.user_id)
            .where(cls.sid_hash == sid_hash, cls.user_id == user_id)
        )
        row = db.session.execute(query).first()
        return None if row is None else (row[0], row[1])

    @classmethod
    def of_user(cls, user_id: int) -> list[UserSession]:
        """The sessions of ``user_id``, last seen first."""
        query = select(cls).where(cls.user_id == user_id).order_by(cls.last_seen_at.desc(), cls.id.desc())
        return list(db.session.scalars(query))

    @classmethod
    def delete_of_user(cls, user_id: int, keep_sid_hash: str | None = None) -> int:
        """Delete the sessions of ``user_id`` except the one of ``keep_sid_hash``; returns how many."""
        statement = delete(cls).where(cls.user_id == user_id)
        if keep_sid_hash is not None:
            statement = statement.where(cls.sid_hash != keep_sid_hash)
        with transaction():
            result = db.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
