"""The site's own pages (About, Terms, Privacy, Help...) at ``/p/<slug>``, written in Markdown, and every
saved state of each as a revision.

A page is ``draft``, ``scheduled`` (public from ``publish_at``) or ``published``. The Markdown source is
stored; the HTML is made (and sanitised) when the page is shown. Each save also stores a
:class:`SitePageRevision` holding the whole state, numbered from 1 per page, so that any earlier state can
be compared and restored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, UniqueConstraint, and_, or_
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db
from conexoos.framework.mariadb_types import MediumText

from .base import NEVER_REUSE_IDS, utcnow
from .types import UTCDateTime

DRAFT, SCHEDULED, PUBLISHED = "draft", "scheduled", "published"
PAGE_STATUSES = (DRAFT, SCHEDULED, PUBLISHED)
SLUG_MAX, TITLE_MAX, DESCRIPTION_MAX, IMAGE_MAX = 80, 120, 300, 300
LONG_TEXT = MediumText()
"""A page's Markdown: MariaDB's TEXT holds only 64 KB, MEDIUMTEXT 16 MB (the others have no such limit)."""


class SitePage(db.Model):  # type: ignore[name-defined]
    """A page of the site: its current state (the newest revision's copy)."""

    __tablename__ = "site_page"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), nullable=False, default="")
    social_image: Mapped[str] = mapped_column(String(IMAGE_MAX), nullable=False, default="")
    body: Mapped[str] = mapped_column(LONG_TEXT, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )

    def is_public(self, now: datetime) -> bool:
        """Whether visitors see the page at ``now``: published, or scheduled for ``now`` or earlier (the
        publishing task may not have run yet)."""
        if self.status == PUBLISHED:
            return True
        return self.status == SCHEDULED and self.publish_at is not None and self.publish_at <= now

    @classmethod
    def public_at(cls, now: datetime) -> ColumnElement[bool]:
        """:meth:`is_public` as a SQL condition, for queries."""
        due = and_(cls.status == SCHEDULED, cls.publish_at.is_not(None), cls.publish_at <= now)
        return or_(cls.status == PUBLISHED, due)


class SitePageRevision(db.Model):  # type: ignore[name-defined]
    """One saved state of a page (``number`` counts from 1 per page); kept until the page is deleted."""

    __tablename__ = "site_page_revision"
    __table_args__ = (
        UniqueConstraint("page_id", "number", name="uq_site_page_revision_number"),
        Index("ix_site_page_revision_page", "page_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("site_page.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), nullable=False, default="")
    social_image: Mapped[str] = mapped_column(String(IMAGE_MAX), nullable=False, default="")
    body: Mapped[str] = mapped_column(LONG_TEXT, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
