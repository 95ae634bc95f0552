"""The admin overview: accounts, pages, clicks, open reports and the site's health, read on demand.

Clicks (link and product clicks) come from the quarter-hour roll-ups plus the events not rolled up yet,
so the figures are current, as ``/api/stats`` is. Open reports are the moderation queue's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from conexoos.app.models.persistent import AnalyticsEvent, StatsRollup, User
from conexoos.app.models.persistent.event import BUY, CLICK
from conexoos.app.models.persistent.stats import BUCKET_SECONDS, QUARTER, TOTAL
from conexoos.framework import db, runtime
from conexoos.framework.causes import one_line_cause
from conexoos.framework.mail.outbox import outbox_counts
from conexoos.framework.storage import media_storage
from conexoos.framework.storage.base import StorageError
from conexoos.framework.task_status import TaskStatus, task_statuses

from . import media_library
from .moderation import count_open

log = logging.getLogger("conexoos.admin")
MEDIA_FILES_COUNTED = 20_000
"""The most media files whose sizes the overview adds up (a listing of a large bucket is slow)."""


@dataclass(frozen=True)
class Clicks:
    """Link and product clicks since midnight UTC and over the last 30 days (today included)."""

    today: int
    last_30_days: int


@dataclass(frozen=True)
class MediaUse:
    """Bytes used by media files; ``complete`` is False when only the first files were counted."""

    files: int
    bytes: int
    complete: bool
    error: str = ""


@dataclass(frozen=True)
class Health:
    """Each dependency's state (``ok``, ``down: cause`` or ``not configured``), the outbox, the tasks."""

    database: str
    redis: str
    outbox: dict[str, int]
    tasks: list[TaskStatus]
    media: MediaUse
    library_bytes: int = 0
    """What the media library's files take (part of ``media``), against ``library_limit``."""
    library_limit: int = 0


@dataclass(frozen=True)
class Overview:
    """What ``/admin`` shows at the top."""

    users: int
    suspended: int
    public_pages: int
    clicks: Clicks
    reports_open: int
    health: Health


def overview(app: Flask, now: datetime | None = None) -> Overview:
    """Every figure of the overview page."""
    now = now or datetime.now(UTC)
    users = int(db.session.scalar(select(func.count()).select_from(User)) or 0)
    suspended = int(db.session.scalar(select(func.count()).where(User.suspended_at.is_not(None))) or 0)
    return Overview(users, suspended, public_pages(), clicks(now), count_open(), health(app))


def public_pages() -> int:
    """Pages visitors can open: accounts not suspended (and verified, when verification is required)."""
    query = select(func.count()).where(User.suspended_at.is_(None))
    if current_app.config["CONEXOOS_ACCOUNTS"].verification_required:
        query = query.where(User.email_verified_at.is_not(None))
    return int(db.session.scalar(query) or 0)


def clicks(now: datetime) -> Clicks:
    """Clicks since midnight UTC and in the 30 UTC days ending today."""
    midnight = datetime.combine(now.date(), time(), UTC)
    return Clicks(_clicks_since(midnight), _clicks_since(midnight - timedelta(days=29)))


def _clicks_since(start: datetime) -> int:
    bucket = int(start.timestamp()) // BUCKET_SECONDS
    rolled = db.session.scalar(
        select(func.coalesce(func.sum(StatsRollup.events), 0)).where(
            StatsRollup.grain == QUARTER,
            StatsRollup.dimension == TOTAL,
            StatsRollup.kind.in_((CLICK, BUY)),
            StatsRollup.bucket >= bucket,
        )
    )
    pending = db.session.scalar(
        select(func.count()).where(
            AnalyticsEvent.rolled_up.is_(False),
            AnalyticsEvent.kind.in_((CLICK, BUY)),
            AnalyticsEvent.occurred_at >= start,
        )
    )
    return int(rolled or 0) + int(pending or 0)


def health(app: Flask) -> Health:
    """The database, Redis, the mail outbox, every task's status and the media storage's use."""
    library = (media_library.total_bytes(), media_library.limits().max_total_bytes)
    return Health(_database(), _redis(), outbox_counts(), task_statuses(app), media_use(), *library)


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return f"down: {one_line_cause(error)}"
    return "ok"


def _redis() -> str:
    services = runtime().services
    if not services.has("redis"):
        return "not configured"
    try:
        services.probe_redis.ping()
    except (RedisError, OSError) as error:
        return f"down: {one_line_cause(error)}"
    return "ok"


def media_use() -> MediaUse:
    """Files and bytes in the media storage (the first :data:`MEDIA_FILES_COUNTED` files)."""
    storage = media_storage()
    files = total = 0
    try:
        for name in storage.names():
            if files >= MEDIA_FILES_COUNTED:
                return MediaUse(files, total, complete=False)
            stored = storage.stat(name)
            files += 1
            total += stored.size if stored is not None else 0
    except (OSError, SQLAlchemyError, StorageError) as error:
        log.warning("could not add up the media storage %s: %s", storage.describe(), one_line_cause(error))
        return MediaUse(files, total, complete=False, error=one_line_cause(error))
    return MediaUse(files, total, complete=True)
