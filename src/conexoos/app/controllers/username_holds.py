"""Usernames of deleted accounts are held for :data:`HOLD_DAYS` before anyone may take them again, so that
nobody can pose as the person who left to the visitors of their old links."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete

from conexoos.app.models.persistent import HeldUsername
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.utils.text import username_folded
from conexoos.framework import db

HOLD_DAYS = 30


def username_hash(username: str) -> str:
    """The SHA-256 (hex) of the lowercased username: what the holds table keeps instead of the name."""
    return hashlib.sha256(username_folded(username.strip()).encode()).hexdigest()


def hold(username: str, now: datetime | None = None) -> datetime:
    """Hold ``username`` for :data:`HOLD_DAYS` from ``now`` in the current transaction (the caller commits);
    returns until when."""
    until = (now or utcnow()) + timedelta(days=HOLD_DAYS)
    db.session.merge(HeldUsername(username_hash=username_hash(username), held_until=until))
    return until


def held_until(username: str, now: datetime | None = None) -> datetime | None:
    """Until when ``username`` is held, or None when anyone may take it."""
    row = db.session.get(HeldUsername, username_hash(username))
    if row is None or row.held_until <= (now or utcnow()):
        return None
    return row.held_until


def held_message(until: datetime) -> str:
    """What sign-up and ``user create`` answer for a held name."""
    return f"This username was released recently and is held until {until:%Y-%m-%d}. Choose another one."


def prune(now: datetime | None = None) -> int:
    """Delete the holds that have run out; returns how many."""
    with transaction():
        result = db.session.execute(delete(HeldUsername).where(HeldUsername.held_until <= (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
