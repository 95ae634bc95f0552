"""Asks for a password-reset link, queued for the task that answers them.

The request only stores what was typed; whether it names an account is found out later, by a task
(``password_reset.answer_requests``), so that asking does the same work whatever the answer. No foreign
key: most rows name no account, and a row lives a few seconds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class ResetRequest(db.Model):  # type: ignore[name-defined]
    """One "forgot password" request: the login as typed (normalised), the asker's network, when."""

    __tablename__ = "reset_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(254), nullable=False)
    """The email address or username as typed, trimmed and lowercased."""
    network: Mapped[str] = mapped_column(String(64), nullable=False)
    """The asker's network (``203.0.113.0/24``): the mail tells the owner where the request came from."""
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
