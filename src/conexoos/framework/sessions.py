"""Sessions: server-side (Flask-Session) in files, Redis, memcached or the default database, for logged-in
users; a short-lived signed cookie for anonymous visitors, so that no visit without a login stores anything.

A session starts in the signed cookie (a form's CSRF secret is all an anonymous visitor needs) and moves to
the server store when the project calls :func:`regenerate_session` (at login); :func:`end_session` (at
logout) deletes it from the store. Both kinds use the one session cookie: a server session's id is
``token_urlsafe`` (no dot), a signed cookie always holds dots, so the value says which it is; anything
else is an empty anonymous session (and the cookie is deleted). The id of a server session that is gone
(a logout in another request, an expiry) is an empty anonymous session too, but its cookie is left as it
is: the request may have started before the logout or login whose answer set the cookie the browser now
holds, and deleting it would throw that away; it is replaced the next time the visitor's session stores
something.

When a server session gets a new id (a login's second step, a password change) or is ended at logout, its
old id is remembered as *superseded* for :data:`SUPERSEDED_FOR` (a marker in the store, under a key no
cookie can name). Within that time a request that read the session before it was replaced does not store
it back under its old id, and for the first :data:`IN_FLIGHT_FOR` of it a request still carrying the old
id is an anonymous visitor whose session is never written (no cookie: the browser holds the newer one
already, or will); after that, the browser did not get the newer one, and its anonymous session may set
a cookie again (a log-in form must keep its token). Without this, a
form page loaded meanwhile (a new CSRF secret) or a JSON call that stored something would set the old or
an anonymous cookie over the new session's, and log the person out again.

When the store does not answer (Redis or memcached down or frozen: their session clients give up within
``SESSION_STORE_TIMEOUT``), a request that needs its server session gets a 503 page (JSON under /api/)
that says so, through :class:`SessionStoreUnavailable`, instead of a 500 after the client's retries. Views
marked :func:`session_optional` (public pages, click redirects) are served to such a visitor as to an
anonymous one, and nothing is written: the cookie keeps naming the server session for when the store
answers again. Anonymous visitors never touch the store at all.

A server session is stored whole only when the request modified it; otherwise only its expiry (and the
cookie's) slides, so that a request that read it before another one stored something (a flash, a 2FA
step) does not write its older copy back (:mod:`.session_refresh`). Two requests that both modify one
session are last-writer-wins.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis
from cachelib import FileSystemCache
from flask import Flask, Request, Response, current_app, request, session
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from flask_session import Session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.defaults import Defaults
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from flask_session.sqlalchemy.sqlalchemy import create_session_model
from itsdangerous import BadSignature
from pymemcache.exceptions import MemcacheError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import ServiceUnavailable

from .causes import one_line_cause
from .config import Settings, check_flask_setting
from .database import db
from .errors import ConfigError
from .logs import EveryFewSeconds
from .services import Services
from .session_refresh import refresh_unmodified
from .session_serializer import install_lazy_serializer

SESSION_TABLE = "framework_sessions"
ANONYMOUS_SESSION_LIFETIME = timedelta(hours=2)
"""How long an anonymous visitor's signed cookie (their forms' CSRF secret) stays valid, unless
``FLASK.CONFIG.ANONYMOUS_SESSION_LIFETIME`` (seconds) says otherwise."""
_session_models: dict[str, Any] = {}
_SERVER_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What a server session id looks like (``secrets.token_urlsafe``); any other cookie value is never looked
up, so that a NUL byte or a space cannot reach PostgreSQL or memcached, which would raise."""
STORE_UNREACHABLE: tuple[type[Exception], ...] = (
    RedisError,  # refused, reset, frozen, a wrong password, still loading, out of memory, a read-only replica
    MemcacheError,  # every memcached client error: refused, timed out, out of memory, a server error
    OSError,  # memcached's and the session folder's socket and file errors
    OperationalError,  # the database store's server is down
)
"""What a session store raises when it cannot be reached or refuses to store: every error of its client is
treated the same way (a 503 where a session is needed), never a 500."""
SUPERSEDED_FOR = timedelta(minutes=2)
"""How long a replaced or ended server session id is remembered (longer than any request takes): a request
that read it before is not stored back under it meanwhile."""
IN_FLIGHT_FOR = timedelta(seconds=15)
"""How long a request still naming a replaced or ended id writes no cookie (it started before the answer
that replaced it, and the browser holds that answer's cookie). Later, the browser has not got that
answer (it was lost, or the cookie was restored): it is an anonymous visitor whose cookie may be
written again, or it could not log in until :data:`SUPERSEDED_FOR` had passed."""
SUPERSEDED_PREFIX = "superseded:"
"""The store key of that marker: ``:`` is not in a session id (``_SERVER_ID``), so no cookie names it."""
RETRY_AFTER_SECONDS = 30
OUTAGE_LOG_EVERY_SECONDS = 60.0
ALWAYS_SESSION_OPTIONAL = frozenset({"static", "conexoos_healthz", "conexoos_readyz"})
SESSION_OPTIONAL_ATTRIBUTE = "conexoos_session_optional"
SESSION_READ_ONLY_ATTRIBUTE = "conexoos_session_read_only"
log = logging.getLogger("conexoos.sessions")
View = TypeVar("View", bound=Callable[..., Any])


class SessionStoreUnavailable(ServiceUnavailable):
    """503: the session store does not answer, so nothing that needs a signed-in session can be served."""

    description = (
        "The session store is unavailable right now, so signing in and the pages of a signed-in account "
        "cannot work. Public pages still work. Try again in a minute."
    )

    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_SECONDS)


def session_optional(view: View) -> View:
    """Mark a view that serves a visitor whose session store is down as an anonymous one (public pages,
    redirects), instead of answering 503."""
    setattr(view, SESSION_OPTIONAL_ATTRIBUTE, True)
    return view


def session_read_only(view: View) -> View:
    """Mark a view that only reads its visitor's server session (a live preview fetched while the page's
    form is saved): unless the view changed it, neither the session's expiry nor its cookie is refreshed.
    No longer needed against lost flashes (no unmodified session is written back, see
    :mod:`.session_refresh`); it now only spares the store the expiry refresh of frequent calls."""
    setattr(view, SESSION_READ_ONLY_ATTRIBUTE, True)
    return view


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
    """Install the session interface once the config (including FLASK.CONFIG) is final, and the 503 for
    requests whose server session could not be read (before every other before_request function)."""
    install_lazy_serializer()  # the store's encoders at its first use: anonymous visits never need them
    _Sessions(app)
    store: ServerSideSessionInterface = app.session_interface
    app.session_interface = AnonymousCookieSessions(store, _anonymous_lifetime(app.config))
    app.before_request(_require_session_store)


def _require_session_store() -> None:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, HybridSession) or current.store_error is None:
        return
    if current_app.view_functions.get(request.endpoint or "") is not None and not _session_is_optional():
        raise SessionStoreUnavailable() from current.store_error


def _session_is_optional() -> bool:
    """Whether the request's view serves a visitor without their server session (see
    :func:`session_optional`)."""
    return request.endpoint in ALWAYS_SESSION_OPTIONAL or _view_marked(SESSION_OPTIONAL_ATTRIBUTE)


def _view_marked(attribute: str) -> bool:
    """Whether the request's view carries ``attribute`` (set by :func:`session_optional` or
    :func:`session_read_only`)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, attribute, False))


def _shared(response: Response) -> bool:
    """Whether ``response`` says any visitor may be given it from a shared cache (``Cache-Control:
    public``): static files, stored media. It then carries no visitor's cookie: a signed-in visitor's
    refreshed session cookie, sent with a file a CDN keeps for a year, would be handed to everyone the CDN
    gives the file to. Nor does it vary on the cookie, which would split a shared cache per visitor. A view
    that changed the session is saved as always."""
    return bool(response.cache_control.public)


def _anonymous_lifetime(config: Any) -> timedelta:
    value = config["ANONYMOUS_SESSION_LIFETIME"]
    if isinstance(value, timedelta):
        return value
    checked = check_flask_setting("ANONYMOUS_SESSION_LIFETIME", value)  # a project's own app.config too
    if checked.problems:
        raise ConfigError(checked.problems)
    return timedelta(seconds=checked.value)


def _backend_config(backend: str, settings: Settings, services: Services) -> dict[str, Any]:
    if backend == "redis":
        return {"SESSION_TYPE": "redis", "SESSION_REDIS": services.session_redis}
    if backend == "memcached":
        return {"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": services.session_memcached}
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
        self.store_error: Exception | None = None
        """Set when the server session named by the cookie could not be read: the store is down."""
        self.superseded = False
        """Set when the cookie names a server session replaced or ended moments ago: nothing is written."""


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
        except BadSignature:  # expired or forged
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
        self._outage_log = EveryFewSeconds(OUTAGE_LOG_EVERY_SECONDS)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        value = request.cookies.get(self.get_cookie_name(app)) or ""
        if not value and app.secret_key:
            return HybridSession(stored=False)  # a visitor without a cookie: nothing to read or verify
        if _SERVER_ID.fullmatch(value):
            try:
                stored = self.store.open_session(app, request)
                if stored.sid == value:  # Flask-Session makes up a new id when the stored one is gone
                    return stored
                gone = HybridSession(stored=False)  # unmodified: the cookie is not deleted (see the module)
                since = self._superseded_since(value)
                gone.superseded = since is not None and since < IN_FLIGHT_FOR.total_seconds()
            except STORE_UNREACHABLE as error:
                return self._unread(error)
            return gone
        return self.cookie.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session.modified and _shared(response):
            return  # nothing written, no Vary: Cookie (see _shared)
        if isinstance(session, HybridSession) and session.store_error is not None:
            return  # nothing written: the cookie keeps naming the server session until the store answers
        if isinstance(session, HybridSession) and session.superseded:
            return  # nothing written: the answer that replaced the session set the browser's cookie
        if isinstance(session, HybridSession) and session.stored:
            if not session.modified and _view_marked(SESSION_READ_ONLY_ATTRIBUTE):
                if session.accessed:
                    response.vary.add("Cookie")  # as Flask-Session would: the answer depends on the session
                return  # neither the store nor the cookie is written (see session_read_only)
            try:
                self._save_stored(app, session, response)
            except STORE_UNREACHABLE as error:
                # Too late to raise (Flask would answer 500): the response itself becomes the 503, unless
                # its view serves visitors without their session (a public page keeps its answer).
                self.note_outage(error)
                if not _session_is_optional():
                    _become_unavailable(app, response)
        else:
            self.cookie.save_session(app, session, response)

    def _save_stored(self, app: Flask, session: HybridSession, response: Response) -> None:
        """Store a modified (or emptied) server session whole, unless it was replaced or ended since this
        request read it; of an unmodified one only slide the expiry, so that a request that read it before
        another stored something does not write its older copy back (see :mod:`.session_refresh`)."""
        if session.modified or not session:
            if not session.sid or self._superseded_since(session.sid) is None:
                self.store.save_session(app, session, response)
        else:
            refresh_unmodified(app, self.store, session, response)

    def to_server(self, session: HybridSession) -> None:
        """Give ``session`` a new server-side id, keeping its data; a stored one's old id is deleted."""
        if session.stored:
            with self.reaching_store():
                self._supersede(session.sid)  # first: a request saving the old id meanwhile finds it
                # Flask-Session's regenerate() leaves an empty session's id as it is: not this.
                self.store._delete_session(self.store._get_store_id(session.sid))
            session.sid = self.store._generate_sid(self.store.sid_length)
            session.modified = True
            return
        session.sid = self.store._generate_sid(self.store.sid_length)
        session.stored = True
        session.permanent = self.store.permanent
        session.modified = True

    def to_cookie(self, session: HybridSession, delete_cookie: bool = True) -> None:
        """Empty ``session`` and delete it from the store; what is put in it later goes to the cookie. The
        cookie itself is deleted too, unless ``delete_cookie`` is False (see :func:`drop_session`)."""
        if session.stored:
            with self.reaching_store():
                if delete_cookie:  # a logout: its answer's cookie (deleted, or anonymous) is the newer one
                    self._supersede(session.sid)
                self.store._delete_session(self.store._get_store_id(session.sid))
        session.clear()
        session.stored = False
        session.sid = None
        session.modified = delete_cookie  # unless something is stored in the session after

    def _supersede(self, sid: str | None) -> None:
        """Remember ``sid`` as replaced or ended, for :data:`SUPERSEDED_FOR` (see the module)."""
        if sid:
            marker = HybridSession({"superseded": True, "at": time.time()}, sid=sid, stored=True)
            self.store._upsert_session(SUPERSEDED_FOR, marker, self._superseded_key(sid))

    def _superseded_since(self, sid: str) -> float | None:
        """Seconds since ``sid`` was replaced or ended, when that was less than :data:`SUPERSEDED_FOR` ago;
        else None. (A marker written before its time was kept counts as just now.)"""
        if isinstance(self.store, _DatabaseSessionInterface):
            # The request's transaction may have read the session already: under MariaDB's repeatable
            # read it would not see a marker committed since. It ends here, as the store's write would end it.
            self.store.client.session.commit()
        marker = self.store._retrieve_session_data(self._superseded_key(sid))
        if marker is None:
            return None
        at = marker.get("at") if isinstance(marker, dict) else None
        return max(0.0, time.time() - at) if isinstance(at, int | float) else 0.0

    def _superseded_key(self, sid: str) -> str:
        return self.store._get_store_id(f"{SUPERSEDED_PREFIX}{sid}")

    def check_store(self) -> None:
        """Raise :class:`SessionStoreUnavailable` unless the store answers a ping (Redis, memcached; the
        file and database stores are not pinged)."""
        client = getattr(self.store, "client", None)
        with self.reaching_store():
            if isinstance(client, redis.Redis):
                client.ping()
            elif client is not None and _is_memcached(client):
                client.version()

    @contextmanager
    def reaching_store(self) -> Iterator[None]:
        """Turn the store's connection errors inside the block into :class:`SessionStoreUnavailable`."""
        try:
            yield
        except STORE_UNREACHABLE as error:
            self.note_outage(error)
            raise SessionStoreUnavailable() from error

    def note_outage(self, error: Exception) -> None:
        """One warning line with the cause, at most once a minute per process (not one per request)."""
        if self._outage_log.due():
            log.warning(
                "session store unreachable (%s): requests that need a signed-in session answer 503 "
                "until it answers",
                one_line_cause(error),
            )

    def _unread(self, error: Exception) -> HybridSession:
        self.note_outage(error)
        unread = HybridSession(stored=False)
        unread.store_error = error
        return unread


def _become_unavailable(app: Flask, response: Response) -> None:
    """Make ``response`` the app's own 503 answer for :class:`SessionStoreUnavailable`, in place."""
    replacement = app.make_response(app.handle_user_exception(SessionStoreUnavailable()))
    response.status_code = replacement.status_code
    response.headers = replacement.headers
    response.direct_passthrough = False
    response.set_data(replacement.get_data())


def regenerate_session(keep_csrf_secret: bool = False) -> None:
    """Move the current session to the server store under a new id, keeping its data but its CSRF secret
    (Flask-WTF's, from which the next page's tokens are made anew); call it at login, against session
    fixation: whoever planted the anonymous cookie knows neither the new id nor a token of the new secret
    (Django's ``login`` rotates both too). ``keep_csrf_secret``: for a new id alone, as after a password
    change, where the pages open in other tabs keep working. Until the call a session lives in a
    short-lived signed cookie."""
    current = _current()
    _interface().to_server(current)
    if not keep_csrf_secret:
        current.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def require_session_store() -> None:
    """Answer 503 now unless the session store answers: call it before work that must end in a server
    session (creating an account, checking a password), so that nothing is done for a visitor who would
    then get a 503 anyway."""
    _interface().check_store()


def end_session() -> None:
    """Delete the current session from the server store; the rest of the request goes on with an empty
    anonymous one. Call it at logout."""
    _interface().to_cookie(_current())


def drop_session() -> None:
    """Delete the current session from the server store, as :func:`end_session` does, but leave the cookie
    as the browser has it; call it for a session found ended elsewhere (its login's record is gone). The
    request may have started before a logout or a login whose answer set a newer cookie, which deleting
    the cookie would throw away; a later request with the old one is an anonymous visitor's."""
    _interface().to_cookie(_current(), delete_cookie=False)


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


def _is_memcached(client: object) -> bool:
    from pymemcache.client.base import PooledClient  # here: a site without memcached never loads it

    return isinstance(client, PooledClient)
