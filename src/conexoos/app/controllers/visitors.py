"""Unique visitors without cookies or stored IPs: a hash of IP and user-agent with a random daily salt.

The salt of a UTC day lives in the database (so every process agrees) and is deleted two days later,
after which that day's hashes can no longer be linked to anyone.

A process that cannot read the day's salt (the database is down at its first event of the day) records the
event with :func:`deferred_key` instead, and the flush that inserts it salts it (:func:`hash_of_deferred`):
so recording never needs the database. Such a visitor may count as a second unique visitor that day.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from conexoos.app.models.persistent import StatsSalt
from conexoos.app.models.persistent.base import transaction
from conexoos.framework import db

_cache: dict[tuple[str, date], str] = {}
_lock = threading.Lock()


def visitor_hash(ip: str, user_agent: str, day: date) -> str:
    """A 32-hex-digit identifier of (ip, user_agent) that changes every UTC day."""
    salt = daily_salt(day)
    return hashlib.sha256(f"{salt}|{ip}|{user_agent}".encode()).hexdigest()[:32]


def deferred_key(ip: str, user_agent: str) -> str:
    """An unsalted digest of (ip, user_agent), kept only in the write buffer until the flush salts it."""
    return hashlib.sha256(f"deferred|{ip}|{user_agent}".encode()).hexdigest()


def hash_of_deferred(key: str, day: date) -> str:
    """The visitor identifier of a :func:`deferred_key` on ``day`` (reads or creates the day's salt)."""
    return hashlib.sha256(f"{daily_salt(day)}|{key}".encode()).hexdigest()[:32]


def daily_salt(day: date) -> str:
    """The salt of ``day``, created on first use; cached per process and database."""
    key = (str(db.engine.url), day)
    with _lock:
        if key in _cache:
            return _cache[key]
    salt = db.session.scalar(select(StatsSalt.salt).where(StatsSalt.day == day)) or _create_salt(day)
    with _lock:
        _cache[key] = salt
    return salt


def _create_salt(day: date) -> str:
    salt = secrets.token_hex(32)
    try:
        with transaction():
            db.session.add(StatsSalt(day=day, salt=salt))
    except IntegrityError:
        # Another process created the day's salt between our read and insert: use theirs.
        return db.session.scalars(select(StatsSalt.salt).where(StatsSalt.day == day)).one()
    return salt


def forget_salts_before(day: date) -> int:
    """Delete the salts of days before ``day``; returns how many."""
    with transaction():
        result = db.session.execute(delete(StatsSalt).where(StatsSalt.day < day))
    with _lock:
        for key in [key for key in _cache if key[1] < day]:
            del _cache[key]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
