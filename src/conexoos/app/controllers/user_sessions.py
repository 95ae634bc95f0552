"""Logged-in sessions a user can see and end, on every session store.

Each logged-in session has a row in ``user_session`` (a hash of its id, device, place, last seen). The
user loader accepts a session only while its row exists, so deleting rows ends sessions at once whether
their data lives in files, Redis, memcached or the database; the stored data of an ended session is
deleted at its next request, or expires with the session's lifetime.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_request_context, request
from sqlalchemy import delete, update

from conexoos.app.controllers.analytics import request_country
from conexoos.app.models.persistent import User, UserSession
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.utils.network import network_of
from conexoos.app.utils.text import tracking_text
from conexoos.app.utils.useragent import classify
from conexoos.framework import current_session_id, db, drop_session, regenerate_session

TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often per session (not on every request)."""
MAX_USER_AGENT = 2000
"""The part of a User-Agent header read to name a device (as the analytics read it)."""
_CURRENT_ROW = "conexoos_user_session_id"


@dataclass(frozen=True)
class SessionView:
    """One session as Settings → Security lists it."""

    id: int
    device: str
    place: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def sid_hash(sid: str) -> str:
    """What the registry keeps of a session id: its SHA-256, in hex."""
    return hashlib.sha256(sid.encode()).hexdigest()


def register_current_session(user: User) -> None:
    """Record the current (just regenerated, server-side) session as one of ``user``'s. Call it at login."""
    sid = current_session_id()
    if sid is None:
        raise RuntimeError("register_current_session needs a server-side session: call regenerate_session")
    row = UserSession(
        user_id=user.id, sid_hash=sid_hash(sid), device=describe_device(), place=approximate_place()
    )
    row.save()
    setattr(g, _CURRENT_ROW, row.id)


def load_session_user(user_id: int) -> User | None:
    """The user ``user_id`` when the registry still holds the current session as theirs (one query), else
    None; a session whose row is gone (ended elsewhere) is ended here too."""
    sid = current_session_id()
    found = UserSession.with_user(sid_hash(sid), user_id) if sid else None
    if found is None:
        # Ended elsewhere (a logout, perhaps of this very browser a moment ago), or logged in before the
        # registry: its stored data goes now, and the cookie is left to the answer that ended it.
        drop_session()
        return None
    row, user = found
    setattr(g, _CURRENT_ROW, row.id)
    _touch(row)
    return user


def rotate_current_session() -> None:
    """Give the current session a new id (after a password change), keeping its registry row."""
    old = current_session_id()
    regenerate_session(keep_csrf_secret=True)  # the account's other open pages keep their tokens
    new = current_session_id()
    if old is None or new is None:
        raise RuntimeError("rotate_current_session needs a logged-in, server-side session")
    with transaction():
        db.session.execute(
            update(UserSession).where(UserSession.sid_hash == sid_hash(old)).values(sid_hash=sid_hash(new))
        )


def forget_current_session() -> None:
    """Delete the current session's registry row (at logout)."""
    sid = current_session_id()
    if sid is not None:
        with transaction():
            db.session.execute(delete(UserSession).where(UserSession.sid_hash == sid_hash(sid)))


def end_sessions(user: User, keep_current: bool) -> int:
    """End every session of ``user`` at once, except the current request's when ``keep_current`` (and it
    is one of theirs); returns how many ended. For password changes, suspensions, deletions."""
    keep = _current_hash() if keep_current else None
    user.email_change_nonce = None  # a pending change of address ends with the sessions (committed below)
    return UserSession.delete_of_user(user.id, keep)


def end_session_of(user: User, session_id: int) -> bool:
    """End ``user``'s session ``session_id``; False when it is not one of theirs (or already ended)."""
    with transaction():
        result = db.session.execute(
            delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def is_current(session_id: int) -> bool:
    """Whether ``session_id`` is the registry row of the current request's session."""
    return bool(g.get(_CURRENT_ROW) == session_id)


def current_row_id() -> int | None:
    """The registry row of the current request's logged-in session (once the user is loaded), or None."""
    row_id = g.get(_CURRENT_ROW)
    return int(row_id) if row_id is not None else None


def current_login_age() -> timedelta | None:
    """How long ago the current request's session logged in, or None when it is no logged-in session."""
    row_id = g.get(_CURRENT_ROW)
    row = db.session.get(UserSession, row_id) if row_id is not None else None
    return utcnow() - row.created_at if row is not None else None


def sessions_of(user: User) -> list[SessionView]:
    """``user``'s sessions, last seen first, the current one marked."""
    return [
        SessionView(row.id, row.device, row.place, row.created_at, row.last_seen_at, is_current(row.id))
        for row in UserSession.of_user(user.id)
    ]


def describe_device() -> str:
    """The request's browser and system in words (``Firefox on Ubuntu``), from its User-Agent."""
    # Shown in Settings → Security: a header with control characters (as UTF-8 read as Latin-1) names nothing.
    info = classify(tracking_text(request.headers.get("User-Agent", ""), MAX_USER_AGENT))
    browser = "" if info.browser in ("", "Other") else info.browser
    system = "" if info.os in ("", "Other") else info.os
    if browser and system:
        return f"{browser} on {system}"[:100]
    return (browser or system or "Unknown device")[:100]


def approximate_place() -> str:
    """The request's country (when the analytics get one from a proxy header), else its network."""
    return request_country() or f"network {network_of(request.remote_addr or '')}"


def _current_hash() -> str | None:
    if not has_request_context():
        return None
    sid = current_session_id()
    return sid_hash(sid) if sid else None


def _touch(row: UserSession) -> None:
    now = utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return
    # On a connection of its own: committing the ORM session would expire the user just loaded, and
    # reading it again would cost the request a query.
    with db.engine.begin() as connection:
        connection.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
