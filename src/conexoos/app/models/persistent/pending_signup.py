"""Sign-ups waiting for their address to be confirmed (``APP.ACCOUNTS.VERIFY_EMAIL: required``).

No account exists until the link mailed to the address is followed: the row keeps what the form gave
(the username, the address, the argon2 hash of the password, the invitation) and the SHA-256 of the
link's secret. Its username is taken while the row lives. A sign-up with an address that already has an
account stores a row too (its link is never mailed), so both hold the name the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime


class PendingSignup(db.Model):  # type: ignore[name-defined]
    """A sign-up to be confirmed by the link mailed to ``email``, until ``expires_at``."""

    __tablename__ = "pending_signup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    username: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    """Lowercased, checked like a new account's; unique: one pending sign-up holds a name."""
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invite.id", ondelete="CASCADE"), nullable=True)
    """The invitation the sign-up came with (spent when the account is made)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
