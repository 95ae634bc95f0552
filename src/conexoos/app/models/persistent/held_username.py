"""Usernames of deleted accounts, held for a while before anyone else may take them.

No foreign key: the account is gone. The name itself is not kept, only its SHA-256: the table does not
list who left, yet a sign-up for the same name finds the hold.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .types import UTCDateTime


class HeldUsername(db.Model):  # type: ignore[name-defined]
    """The hash of a released username and the moment it may be taken again."""

    __tablename__ = "held_username"

    username_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    held_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
