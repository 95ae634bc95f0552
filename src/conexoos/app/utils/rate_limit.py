"""Rate limits by arbitrary keys (per IP, per account) on the app's Flask-Limiter storage.

When that storage is Redis and Redis cannot be reached, the counting goes on in this process's memory
(a Redis outage is neither a log-in outage nor a rate-limit outage), and Redis is tried again every
``RETRY_SECONDS``. One WARNING line says when the counting falls back (at most one a minute), one when
Redis answers again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import TooManyRequests

from conexoos.app.extensions import current_limiter
from conexoos.app.utils.wording import waiting

FALLBACK_KEY = "conexoos_limiter_fallback"
RETRY_SECONDS = 10.0
WARN_EVERY_SECONDS = 60.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
log = logging.getLogger("conexoos.rate_limit")
Result = TypeVar("Result")


def enforce(limit: str, scope: str, key: str, message: str | None = None) -> None:
    """Count one hit of ``key`` in ``scope``; raise 429 saying ``message`` when ``limit`` (e.g.
    ``"5/minute"``) is exceeded (by default, how long to wait: the ``Retry-After`` it carries)."""
    expiry = over_limit(limit, scope, key)
    if expiry:
        raise too_many_requests(
            expiry, message or f"Too many attempts. Wait {waiting(expiry)} and try again."
        )


def over_limit(limit: str, scope: str, key: str) -> int:
    """Count one hit of ``key`` in ``scope``: 0 within ``limit``, else the seconds to wait that
    :func:`enforce` gives as ``Retry-After`` (the limit's window)."""
    return 0 if count(limit, scope, key) else parse(limit).get_expiry()


def count(limit: str, scope: str, key: str) -> bool:
    """Count one hit of ``key`` in ``scope``; False when it went past ``limit`` (True with limits off)."""
    limiter = current_limiter()
    if not limiter.enabled:
        return True
    item = parse(limit)
    return _fallback().run(limiter.limiter, lambda strategy: strategy.hit(item, scope, key))


def seconds_until_allowed(limit: str, scope: str, key: str) -> int:
    """0 when one more hit of ``key`` stays within ``limit``, else the seconds until it would; counts
    nothing (for limits counted only on failure, checked before the attempt)."""
    limiter = current_limiter()
    if not limiter.enabled:
        return 0
    item = parse(limit)

    def wait(strategy: RateLimiter) -> int:
        if strategy.test(item, scope, key):
            return 0
        reset_at, _ = strategy.get_window_stats(item, scope, key)
        return max(1, math.ceil(reset_at - time.time()))

    return _fallback().run(limiter.limiter, wait)


def too_many_requests(retry_after: int, message: str) -> TooManyRequests:
    """A 429 carrying ``Retry-After: retry_after``."""
    error = TooManyRequests(message)
    error.retry_after = retry_after
    return error


class MemoryFallback:
    """Counts in process memory while the limiter's own storage is unreachable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memory: RateLimiter | None = None
        self._down_since: float | None = None
        self._next_try = 0.0
        self._last_warning = -WARN_EVERY_SECONDS

    def run(self, primary: RateLimiter, operation: Callable[[RateLimiter], Result]) -> Result:
        """``operation`` on ``primary``, or on the in-memory limiter while ``primary``'s storage is
        unreachable."""
        now = time.monotonic()
        if self._down_since is None or now >= self._next_try:
            try:
                result = operation(primary)
            except UNREACHABLE as error:
                self._storage_down(primary, now, error)
            else:
                self._storage_up(now)
                return result
        return operation(self._memory_limiter(primary))

    def _storage_down(self, primary: RateLimiter, now: float, error: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = now
            self._next_try = now + RETRY_SECONDS
            if first and now - self._last_warning >= WARN_EVERY_SECONDS:
                self._last_warning = now
                log.warning(
                    "rate limit storage unreachable (%s: %s): counting rate limits in this process's memory "
                    "until it answers again",
                    type(error).__name__,
                    error,
                )

    def _storage_up(self, now: float) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            if self._last_warning >= self._down_since:  # only an outage that was announced
                log.warning(
                    "rate limit storage answers again after %.0f s: rate limits are counted there again",
                    now - self._down_since,
                )
            self._down_since = None

    def _memory_limiter(self, primary: RateLimiter) -> RateLimiter:
        """The in-memory limiter, of the same strategy (fixed window, moving window…) as ``primary``."""
        with self._lock:
            if self._memory is None:
                self._memory = type(primary)(MemoryStorage())
            return self._memory


def _fallback() -> MemoryFallback:
    fallback: MemoryFallback | None = current_app.extensions.get(FALLBACK_KEY)
    if fallback is None:  # once per app; not a new object (and lock) on every counted request
        fallback = current_app.extensions.setdefault(FALLBACK_KEY, MemoryFallback())
    return fallback
