"""The seed's ``UserLink``: one entry of a public page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, and_, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from conexoos.framework import db

from .base import NEVER_REUSE_IDS, CrudMixin, utcnow
from .types import UTCDateTime


class UserLink(CrudMixin, db.Model):  # type: ignore[name-defined]
    """A titled URL on its owner's page, in ``order_index`` order, shown inside its time window."""

    __tablename__ = "user_link"
    __table_args__ = (Index("ix_user_link_owner_order", "owner_id", "order_index"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    order_index: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    blocked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    """True while the URL's domain is on the operator's blocklist: hidden, and ``/go`` answers 410."""
    hidden_by_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    """True once a moderator hid the link after a report: it stays disabled, its owner cannot show it."""
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    """True when the owner marked the link as adult content: ``/go`` asks the visitor to confirm first."""
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    """The argon2 hash of the link's password; empty when ``/go`` asks for none."""
    icon: Mapped[str] = mapped_column(String(255), nullable=False, default="", index=True)
    """The media path of the owner's uploaded thumbnail; empty for the brand icon of the URL's domain."""
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    def to_json(self) -> dict[str, Any]:
        """The seed's shape plus ``enabled``, ``hidden_by_staff`` and the time window (ISO 8601, UTC)."""
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "order_index": self.order_index,
            "enabled": self.enabled,
            "hidden_by_staff": self.hidden_by_staff,
            "starts_at": _iso(self.starts_at),
            "ends_at": _iso(self.ends_at),
        }

    def lock_json(self) -> dict[str, Any]:
        """The link's lock as ``/api/links/locks`` shows it; never the password or its hash."""
        return {"id": self.id, "sensitive": self.sensitive, "has_passcode": bool(self.password_hash)}

    @property
    def is_locked(self) -> bool:
        """Whether ``/go`` stops the visitor first (a sensitive-content notice or a password)."""
        return locked(self.sensitive, bool(self.password_hash))

    def is_live(self, now: datetime) -> bool:
        """Whether the link is enabled, not blocked, and ``now`` is inside its window."""
        return (
            self.enabled
            and not self.blocked
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )

    @classmethod
    def live_condition(cls, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        """SQL condition matching :meth:`is_live` at ``now`` (a time, or a bound parameter for one)."""
        return and_(
            cls.enabled.is_(True),
            cls.blocked.is_(False),
            or_(cls.starts_at.is_(None), cls.starts_at <= now),
            or_(cls.ends_at.is_(None), cls.ends_at > now),
        )

    @classmethod
    def get_links_by_user_id(cls, user_id: int) -> Sequence[UserLink]:
        """All of a user's links in page order (the seed's query)."""
        query = select(cls).where(cls.owner_id == user_id).order_by(cls.order_index, cls.id)
        return db.session.scalars(query).all()

    @classmethod
    def get_owned(cls, link_id: int, owner_id: int) -> UserLink | None:
        """The link if it exists and belongs to ``owner_id``; None otherwise (callers answer 404)."""
        return db.session.scalar(select(cls).where(cls.id == link_id, cls.owner_id == owner_id))

    @classmethod
    def next_order_index(cls, owner_id: int) -> int:
        """One past the owner's highest ``order_index``."""
        highest = db.session.scalar(select(func.max(cls.order_index)).where(cls.owner_id == owner_id))
        return 0 if highest is None else highest + 1


def locked(sensitive: bool, has_password: bool) -> bool:
    """Whether a link with these settings is locked: ``/go`` shows a notice or asks a password first."""
    return bool(sensitive or has_password)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
