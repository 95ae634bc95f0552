"""Sessions: server-side (Flask-Session) in files, Redis, memcached or the default database, for logged-in
users; a short-lived signed cookie for anonymous visitors, so that no visit without a login stores anything.

A session starts in the signed cookie (a form's CSRF secret is all an anonymous visitor needs) and moves to
the server store when the project calls :func:`regenerate_session` (at login); :func:`end_session` (at
logout) deletes it from the store. Both kinds use the one session cookie: a server session's id is
``token_urlsafe`` (no dot), a signed cookie always holds dots, so the value says which it is; anything
else is an empty anonymous session (and the cookie is deleted).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from cachelib import FileSystemCache
from flask import Flask, Request, Response, current_app, session
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from flask_session import Session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.defaults import Defaults
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from flask_session.sqlalchemy.sqlalchemy import create_session_model
from itsdangerous import BadSignature

from .config import Settings
from .database import db
from .errors import ConfigError
from .services import Services

SESSION_TABLE = "framework_sessions"
ANONYMOUS_SESSION_LIFETIME = timedelta(hours=2)
"""How long an anonymous visitor's signed cookie (their forms' CSRF secret) stays valid, unless
``FLASK.CONFIG.ANONYMOUS_SESSION_LIFETIME`` (seconds) says otherwise."""
_session_models: dict[str, Any] = {}
_SERVER_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What a server session id looks like (``secrets.token_urlsafe``); any other cookie value is never looked
up, so that a NUL byte or a space cannot reach PostgreSQL or memcached, which would raise."""


def configure_sessions(app: Flask, settings: Settings, services: Services) -> None:
    """Choose the session store named by ``SERVER_ENV.SESSION`` and set cookie security for the ENV."""
    backend = settings.server["SESSION"]
    app.config.update(_backend_config(backend, settings, services))
    # update, not setdefault: Flask's defaults already hold these keys. FLASK.CONFIG still comes after.
    app.config.update(
        SESSION_PERMANENT=True,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        SESSION_KEY_PREFIX=f"{settings.key_prefix}session:",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.is_development,
        ANONYMOUS_SESSION_LIFETIME=ANONYMOUS_SESSION_LIFETIME,
    )


def init_sessions(app: Flask) -> None:
    """Install the session interface once the config (including FLASK.CONFIG) is final."""
    _Sessions(app)
    store: ServerSideSessionInterface = app.session_interface
    app.session_interface = AnonymousCookieSessions(store, _anonymous_lifetime(app.config))


def _anonymous_lifetime(config: Any) -> timedelta:
    value = config["ANONYMOUS_SESSION_LIFETIME"]
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    key = "FLASK.CONFIG.ANONYMOUS_SESSION_LIFETIME"
    raise ConfigError([f"{key}: {value!r} is not valid; expected a number of seconds above 0"])


def _backend_config(backend: str, settings: Settings, services: Services) -> dict[str, Any]:
    if backend == "redis":
        return {"SESSION_TYPE": "redis", "SESSION_REDIS": services.redis}
    if backend == "memcached":
        return {"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": services.memcached}
    if backend == "sqlalchemy":
        return {
            "SESSION_TYPE": "sqlalchemy",
            "SESSION_SQLALCHEMY": db,
            "SESSION_SQLALCHEMY_TABLE": SESSION_TABLE,
        }
    path = settings.services["filesystem"]["PATH"]
    return {"SESSION_TYPE": "cachelib", "SESSION_CACHELIB": FileSystemCache(path, threshold=0, mode=0o600)}


class _Sessions(Session):
    """Flask-Session, except that the database store's model is declared once per process."""

    def _get_interface(self, app: Flask) -> SessionInterface:
        if app.config["SESSION_TYPE"] != "sqlalchemy":
            return super()._get_interface(app)
        config = app.config
        return _DatabaseSessionInterface(
            app,
            table=config["SESSION_SQLALCHEMY_TABLE"],
            key_prefix=config["SESSION_KEY_PREFIX"],
            permanent=config["SESSION_PERMANENT"],
            sid_length=config.get("SESSION_ID_LENGTH", Defaults.SESSION_ID_LENGTH),
            serialization_format=config.get(
                "SESSION_SERIALIZATION_FORMAT", Defaults.SESSION_SERIALIZATION_FORMAT
            ),
            cleanup_n_requests=config.get("SESSION_CLEANUP_N_REQUESTS", Defaults.SESSION_CLEANUP_N_REQUESTS),
        )


class _DatabaseSessionInterface(SqlAlchemySessionInterface):
    """Flask-Session's SQL store sharing one model: every app of the process shares ``db`` and its metadata,
    where Flask-Session would declare the table again for each app and fail."""

    def __init__(self, app: Flask, table: str, **options: Any) -> None:
        if table not in _session_models:
            _session_models[table] = create_session_model(db, table)
        self.app = app
        self.client = db
        self.sql_session_model = _session_models[table]
        with app.app_context():
            self.sql_session_model.__table__.create(bind=db.engine, checkfirst=True)
        ServerSideSessionInterface.__init__(self, app, **options)


class HybridSession(ServerSideSession):
    """A session that lives in the server store (``stored``) or only in a signed cookie (anonymous)."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        sid: str | None = None,
        permanent: bool | None = None,
        stored: bool = True,
    ) -> None:
        super().__init__(initial, sid, permanent)
        self.stored = stored


class _SignedCookie(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with their own salt, a short fixed lifetime, and a cookie written only
    when the data changed (never refreshed on a page that only reads it)."""

    salt = "conexoos-anonymous-session"

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime

    def open_session(self, app: Flask, request: Request) -> HybridSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return HybridSession(stored=False)
        try:
            return HybridSession(serializer.loads(value, max_age=self.max_age), stored=False)
        except BadSignature:  # expired, forged, or the id of a server session that is gone
            stale = HybridSession(stored=False)
            stale.modified = True  # so that the useless cookie is deleted
            return stale

    @property
    def max_age(self) -> int:
        return int(self.lifetime.total_seconds())

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime:
        return datetime.now(UTC) + self.lifetime

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        return session.modified


class AnonymousCookieSessions(SessionInterface):
    """Anonymous sessions in a signed cookie, server sessions (after :func:`regenerate_session`) in
    ``store``: a flood of cookieless requests stores nothing."""

    def __init__(self, store: ServerSideSessionInterface, lifetime: timedelta) -> None:
        self.store = store
        self.store.session_class = HybridSession
        self.cookie = _SignedCookie(lifetime)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        value = request.cookies.get(self.get_cookie_name(app)) or ""
        if _SERVER_ID.fullmatch(value):
            stored = self.store.open_session(app, request)
            if stored.sid == value:  # Flask-Session makes up a new id when the stored one is gone
                return stored
        return self.cookie.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, HybridSession) and session.stored:
            self.store.save_session(app, session, response)
        else:
            self.cookie.save_session(app, session, response)

    def to_server(self, session: HybridSession) -> None:
        """Give ``session`` a new server-side id, keeping its data; a stored one's old id is deleted."""
        if session.stored:
            self.store.regenerate(session)
            return
        session.sid = self.store._generate_sid(self.store.sid_length)
        session.stored = True
        session.permanent = self.store.permanent
        session.modified = True

    def to_cookie(self, session: HybridSession) -> None:
        """Empty ``session`` and delete it from the store; what is put in it later goes to the cookie."""
        if session.stored:
            self.store._delete_session(self.store._get_store_id(session.sid))
        session.clear()
        session.stored = False
        session.sid = None
        session.modified = True  # the cookie is deleted, unless something is stored in the session after


def regenerate_session() -> None:
    """Move the current session to the server store under a new id, keeping its data; call it at login,
    against session fixation. Until then a session lives in a short-lived signed cookie."""
    _interface().to_server(_current())


def end_session() -> None:
    """Delete the current session from the server store; the rest of the request goes on with an empty
    anonymous one. Call it at logout."""
    _interface().to_cookie(_current())


def current_session_id() -> str | None:
    """The server-side id of the current session, or None while it is an anonymous signed cookie (for a
    registry of logged-in sessions, which must follow :func:`regenerate_session`'s new ids)."""
    current = _current()
    return current.sid if current.stored else None


def _interface() -> AnonymousCookieSessions:
    interface = current_app.session_interface
    if not isinstance(interface, AnonymousCookieSessions):
        raise RuntimeError("sessions are not set up by conexoos.framework.sessions.init_sessions")
    return interface


def _current() -> HybridSession:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, HybridSession):
        raise RuntimeError("the request has no session of conexoos.framework.sessions")
    return current
