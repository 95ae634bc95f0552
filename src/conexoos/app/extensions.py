"""Flask extensions of the product, initialised per app by ``server/middleware.py``."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from conexoos.framework import runtime

login_manager = LoginManager()
csrf = CSRFProtect()
LIMITER_KEY = "conexoos_limiter"


def init_limiter(app: Flask) -> Limiter:
    """A Limiter for this app, storing its counters in Redis when Redis is configured."""
    services = app.extensions["conexoos"].services
    if "RATELIMIT_STORAGE_URI" not in app.config:
        app.config["RATELIMIT_STORAGE_URI"] = services.redis_url if services.has("redis") else "memory://"
    limiter = Limiter(key_func=get_remote_address, app=app, key_prefix="conexoos")
    app.extensions[LIMITER_KEY] = limiter
    return limiter


def current_limiter() -> Limiter:
    """The Limiter of the current app."""
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    return limiter


__all__ = ["csrf", "current_limiter", "init_limiter", "login_manager", "runtime"]
