"""Rate limits by arbitrary keys (per IP, per account) on the app's Flask-Limiter storage."""

from __future__ import annotations

from limits import parse
from werkzeug.exceptions import TooManyRequests

from conexoos.app.extensions import current_limiter


def enforce(limit: str, scope: str, key: str) -> None:
    """Count one hit of ``key`` in ``scope``; raise 429 when ``limit`` (e.g. ``"5/minute"``) is exceeded."""
    limiter = current_limiter()
    if not limiter.enabled:
        return
    item = parse(limit)
    if not limiter.limiter.hit(item, scope, key):
        error = TooManyRequests("Too many attempts. Wait a minute and try again.")
        error.retry_after = item.get_expiry()
        raise error
