"""Site settings stored in the database: one row per key, the value as JSON text.

Which keys exist, their types and defaults are declared in :mod:`conexoos.app.controllers.site_settings`;
this table only stores what an operator changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class SiteSetting(db.Model):  # type: ignore[name-defined]
    """One stored setting: ``key`` (e.g. ``signup_policy``) and its JSON-encoded ``value``."""

    __tablename__ = "site_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
