"""Server-side sessions (Flask-Session) in files, Redis, memcached or the default database."""

from __future__ import annotations

from typing import Any

from cachelib import FileSystemCache
from flask import Flask, session
from flask import current_app
from flask_session import Session

from .config import Settings
from .database import db
from .services import Services


def configure_sessions(app: Flask, settings: Settings, services: Services) -> None:
    """Choose the session store named by ``SERVER_ENV.SESSION`` and set cookie security for the ENV."""
    backend = settings.server["SESSION"]
    app.config.update(_backend_config(backend, settings, services))
    app.config.setdefault("SESSION_PERMANENT", True)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 60 * 60 * 24 * 14)
    app.config.setdefault("SESSION_KEY_PREFIX", f"{settings.server['APP_NAME'].lower()}:session:")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_SECURE", not settings.is_development)


def init_sessions(app: Flask) -> None:
    """Install the session interface once the config (including FLASK.CONFIG) is final."""
    Session(app)


def _backend_config(backend: str, settings: Settings, services: Services) -> dict[str, Any]:
    if backend == "redis":
        return {"SESSION_TYPE": "redis", "SESSION_REDIS": services.redis}
    if backend == "memcached":
        return {"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": services.memcached}
    if backend == "sqlalchemy":
        return {"SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": db,
                "SESSION_SQLALCHEMY_TABLE": "framework_sessions"}
    path = settings.services["filesystem"]["PATH"]
    return {"SESSION_TYPE": "cachelib",
            "SESSION_CACHELIB": FileSystemCache(path, threshold=0, mode=0o600)}


def regenerate_session() -> None:
    """Give the current session a new id, keeping its data; call it at login against session fixation."""
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
