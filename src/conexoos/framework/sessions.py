"""Server-side sessions (Flask-Session) in files, Redis, memcached or the default database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cachelib import FileSystemCache
from flask import Flask, current_app, session
from flask.sessions import SessionInterface
from flask_session import Session
from flask_session.base import ServerSideSessionInterface
from flask_session.defaults import Defaults
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from flask_session.sqlalchemy.sqlalchemy import create_session_model

from .config import Settings
from .database import db
from .services import Services

SESSION_TABLE = "framework_sessions"
_session_models: dict[str, Any] = {}


def configure_sessions(app: Flask, settings: Settings, services: Services) -> None:
    """Choose the session store named by ``SERVER_ENV.SESSION`` and set cookie security for the ENV."""
    backend = settings.server["SESSION"]
    app.config.update(_backend_config(backend, settings, services))
    # update, not setdefault: Flask's defaults already hold these keys. FLASK.CONFIG still comes after.
    app.config.update(
        SESSION_PERMANENT=True,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        SESSION_KEY_PREFIX=f"{settings.server['APP_NAME'].lower()}:session:",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.is_development,
    )


def init_sessions(app: Flask) -> None:
    """Install the session interface once the config (including FLASK.CONFIG) is final."""
    _Sessions(app)


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


def regenerate_session() -> None:
    """Give the current session a new id, keeping its data; call it at login against session fixation."""
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
