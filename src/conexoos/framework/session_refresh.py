"""Keeping an unmodified server session alive without writing its data back.

Flask-Session (``SESSION_REFRESH_EACH_REQUEST``) stores the whole session after every request to slide its
expiry. Two requests of one browser that overlap (a dashboard's JSON calls beside a form post, two tabs)
then race: the one that read the session before the other stored something (a flash, a 2FA step, a CSRF
secret) writes its older copy back last, and that is lost. Here a request that did not modify its session
only pushes the expiry forward, in place, where the store can:

- Redis: ``EXPIRE`` on the key;
- memcached: ``touch`` on the key;
- the database: an ``UPDATE`` of the expiry column only;
- files (cachelib's ``FileSystemCache``): the expiry is the file's first four bytes (the data follows), so
  those four bytes are rewritten in place and the data is never read or written. A concurrent save replaces
  the file by a rename: the new expiry then lands in the replaced file (harmless, the new one has a fresh
  expiry of its own); a session deleted meanwhile (logout) is not brought back, its file is not created.

Any other store gets the whole session written back, as Flask-Session would (racy, but alive). A modified
session is stored whole, as before: two requests that both modify one session are last-writer-wins.

The cookie's expiry slides only when the store says the session is still there: a request that read the
session before a logout deleted it would otherwise set the old id again, over the cookie the logout's own
answer set (what the visitor's next page needs, such as where to sign out at their identity provider).
"""

from __future__ import annotations

import os
import struct
import sys
import time
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from flask import Flask, Response
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from sqlalchemy import update

FILE_EXPIRY_HEADER = struct.Struct("I")
"""cachelib's ``FileSystemCache`` file layout: the expiry (Unix seconds, native unsigned int), then the
pickled value."""


class Refresh(Enum):
    """What :func:`refresh_expiry` found."""

    DONE = "the expiry was pushed forward"
    GONE = "the session is no longer stored (a logout elsewhere deleted it)"
    UNSUPPORTED = "the store cannot push an expiry forward alone"


def refresh_unmodified(
    app: Flask, store: ServerSideSessionInterface, session: ServerSideSession, response: Response
) -> None:
    """Slide the expiry of the stored, unmodified, non-empty ``session`` and of its cookie, without
    writing its data (see the module's description); what Flask-Session does otherwise is kept: ``Vary:
    Cookie`` when the session was read, and nothing refreshed unless ``SESSION_REFRESH_EACH_REQUEST``."""
    if session.accessed:
        response.vary.add("Cookie")
    if not store.should_set_storage(app, session):
        return
    store_id = store._get_store_id(session.sid)
    outcome = refresh_expiry(store, store_id, app.permanent_session_lifetime)
    if outcome is Refresh.GONE:
        return  # the cookie is left alone: the answer that deleted the session has set its own
    if outcome is Refresh.UNSUPPORTED:
        store._upsert_session(app.permanent_session_lifetime, session, store_id)
    if store.should_set_cookie(app, session):
        _set_cookie(app, store, session, response)


def refresh_expiry(store: ServerSideSessionInterface, store_id: str, lifetime: timedelta) -> Refresh:
    """Push the expiry of the stored session ``store_id`` to ``lifetime`` from now, without touching its
    data. A session that is no longer stored stays gone."""
    seconds = int(lifetime.total_seconds())
    if _instance_of(store, "flask_session.redis", "RedisSessionInterface"):
        found = bool(store.client.expire(store_id, seconds))
    elif _instance_of(store, "flask_session.memcached", "MemcachedSessionInterface"):
        timeout = store._get_memcache_timeout(seconds)
        found = bool(store.client.touch(store_id, timeout, noreply=False))
    elif _instance_of(store, "flask_session.sqlalchemy", "SqlAlchemySessionInterface"):
        found = _update_database_expiry(store, store_id, lifetime)
    elif _instance_of(store, "flask_session.cachelib", "CacheLibSessionInterface") and _instance_of(
        store.cache,
        "cachelib.file",
        "FileSystemCache",
    ):
        found = _rewrite_file_expiry(store.cache, store_id, seconds)
    else:
        return Refresh.UNSUPPORTED
    return Refresh.DONE if found else Refresh.GONE


def _instance_of(value: object, module: str, name: str) -> bool:
    """``isinstance(value, module.name)`` without importing ``module``: a store's class is loaded with the
    store, and importing the others (Flask-Session's Redis interface imports redis-py's client) would load
    what this site never uses into every worker."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(value, getattr(loaded, name))


def _update_database_expiry(store: Any, store_id: str, lifetime: timedelta) -> bool:
    """``UPDATE`` of the expiry column alone, in Flask-Session's naive UTC; whether the row was there."""
    model = store.sql_session_model
    expiry = datetime.now(UTC).replace(tzinfo=None) + lifetime
    statement = update(model).where(model.session_id == store_id).values(expiry=expiry)
    try:
        updated = store.client.session.execute(statement).rowcount
        store.client.session.commit()
    except Exception:
        store.client.session.rollback()
        raise
    return bool(updated)


def _rewrite_file_expiry(cache: Any, store_id: str, seconds: int) -> bool:
    """Overwrite the expiry header of the session's file in place (never created: a deleted session stays
    deleted); whether the file was there."""
    try:
        descriptor = os.open(cache._get_filename(store_id), os.O_WRONLY)
    except FileNotFoundError:
        return False  # deleted meanwhile (a logout in another tab): nothing to keep alive
    try:
        os.pwrite(descriptor, FILE_EXPIRY_HEADER.pack(int(time.time()) + seconds), 0)
    finally:
        os.close(descriptor)
    return True


def _set_cookie(
    app: Flask, store: ServerSideSessionInterface, session: ServerSideSession, response: Response
) -> None:
    """The session cookie with a fresh expiry, exactly as Flask-Session's ``save_session`` sets it."""
    response.set_cookie(
        key=store.get_cookie_name(app),
        value=store._sign(app, session.sid) if store.use_signer else session.sid,
        expires=store.get_expiration_time(app, session),
        httponly=store.get_cookie_httponly(app),
        domain=store.get_cookie_domain(app),
        path=store.get_cookie_path(app),
        secure=store.get_cookie_secure(app),
        samesite=store.get_cookie_samesite(app) if store.has_same_site_capability else None,
    )
    response.vary.add("Cookie")
