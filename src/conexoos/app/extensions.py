"""Flask extensions of the product, initialised per app by ``server/middleware.py``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_login import LoginManager

from conexoos.framework import runtime
from conexoos.framework.csrf import CSRFProtect
from conexoos.framework.services import RETRY_ONCE_ON_CLOSED

login_manager = LoginManager()
csrf = CSRFProtect()
LIMITER_KEY = "conexoos_limiter"
DECLARED_LIMITS_KEY = "conexoos_declared_limits"
LIMITER_CHECK_KEY = "conexoos_limiter_check"
"""The app's before-request function that calls Flask-Limiter's check where a limit may apply."""
LIMITER_HOOKS_KEY = "conexoos_limiter_hooks"
"""The limiter's request functions, found at the first request that asks (:func:`limiter_hooks`)."""
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")
"""Storage URIs of ``limits``' Redis backends, whose ``key_prefix`` option prefixes every key."""
REDIS_TIMEOUT = 0.3
"""Seconds a rate-limit count may wait for Redis (to connect, then to answer) before it is counted in
memory: a healthy Redis answers in a millisecond, and a log-in must not wait long on a Redis that is down."""


def init_limiter(app: Flask) -> Limiter:
    """A Limiter for this app, storing its counters in Redis when Redis is configured.

    In Redis every counter is under the app's prefix, as sessions (``<app>:session:``) and task locks
    (``<app>:task:``) are: ``<app>:limits:…``, so apps sharing a Redis never share counters. While Redis
    cannot be reached, counters are kept in the process's memory: by Flask-Limiter's in-memory fallback
    for its decorators, by ``utils/rate_limit.py`` for ``enforce``.
    """
    conexoos = app.extensions["conexoos"]
    app_prefix = conexoos.settings.key_prefix.rstrip(":")
    if "RATELIMIT_STORAGE_URI" not in app.config:
        app.config["RATELIMIT_STORAGE_URI"] = (
            conexoos.services.redis_url if conexoos.services.has("redis") else "memory://"
        )
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith(REDIS_SCHEMES):
        options = app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {})
        options.setdefault("key_prefix", f"{app_prefix}:limits")
        if str(app.config["RATELIMIT_STORAGE_URI"]).startswith(("redis://", "rediss://")):
            # An unreachable Redis costs a request at most these seconds (never a 500: see rate_limit.py).
            options.setdefault("socket_connect_timeout", REDIS_TIMEOUT)
            options.setdefault("socket_timeout", REDIS_TIMEOUT)
            # redis-py's default retries with back-off (seconds) would come before the fallback.
            options.setdefault("retry", RETRY_ONCE_ON_CLOSED)
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter = Limiter(key_func=get_remote_address, app=app, key_prefix=app_prefix)
    app.extensions[LIMITER_KEY] = limiter
    _check_only_where_limits_may_apply(app, limiter)
    return limiter


def _check_only_where_limits_may_apply(app: Flask, limiter: Limiter) -> None:
    """Put Flask-Limiter's before-request check behind :func:`limits_may_apply`: where no limit may apply
    it counts nothing and refuses nothing, and finding that out cost about 0.1 ms of CPU a request (the
    uncached public page's: 110-150 µs). Where one may, the check runs as before."""
    check = limiter._check_request_limit

    def check_where_limits_may_apply() -> None:
        if limits_may_apply():
            check()

    hooks = app.before_request_funcs.get(None, [])
    if check in hooks:  # a disabled limiter (RATELIMIT_ENABLED: false) registers no hooks
        hooks[hooks.index(check)] = check_where_limits_may_apply
        app.extensions[LIMITER_CHECK_KEY] = check_where_limits_may_apply


def exempt_cross_site_posts() -> None:
    """Exempt from :data:`csrf` the blueprints an identity provider posts to (SAML's assertion consumer):
    they check what they receive themselves. A ``before_request`` hook registered before CSRF's own, so
    that backends installed after the product are covered too (exempting again is harmless)."""
    for blueprint in runtime().logins.cross_site_posts:
        csrf.exempt(blueprint)


def current_limiter() -> Limiter:
    """The Limiter of the current app."""
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    return limiter


def limiter_hooks() -> frozenset[Callable[..., Any]]:
    """The limiter's before- and after-request functions, which count nothing and add no header where no
    limit applies (:func:`limits_may_apply`): a fast path skips them then (``server/middleware.py``).
    Found once per app: no request function can be added once the app has served a request."""
    found: frozenset[Callable[..., Any]] | None = current_app.extensions.get(LIMITER_HOOKS_KEY)
    if found is None:
        found = current_app.extensions[LIMITER_HOOKS_KEY] = _find_limiter_hooks()
    return found


def _find_limiter_hooks() -> frozenset[Callable[..., Any]]:
    limiter = current_limiter()
    hooks: list[Callable[..., Any]] = [
        current_app.extensions.get(LIMITER_CHECK_KEY, limiter._check_request_limit)
    ]
    hooks += [  # Flask-Limiter registers its header injector as a partial of its private method
        hook
        for hook in current_app.after_request_funcs.get(None, ())
        if isinstance(original := inspect.unwrap(hook), partial) and original.args[:1] == (limiter,)
    ]
    return frozenset(hooks)


def limits_may_apply() -> bool:
    """Whether a rate limit may apply to the current request: the limiter is on and has application,
    default, blueprint or in-memory fallback limits, or the endpoint's view is decorated with one (checked
    in the view itself) or hinted."""
    limiter = current_limiter()
    if not limiter.enabled:
        return False
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    known: dict[tuple[str, int], bool] = current_app.extensions.setdefault(DECLARED_LIMITS_KEY, {})
    key = (endpoint, id(view))  # a view wrapped by a limit later is another key
    if key not in known:
        known[key] = _declared_limits(limiter, view)
    return known[key] or limiter.limit_manager.has_hints(endpoint) or bool(limiter._in_memory_fallback)


def _declared_limits(limiter: Limiter, view: Callable[..., Any] | None) -> bool:
    """Whether limits are declared for the app, by default, on the request's blueprints or on ``view``
    (all fixed once the app is built; computed once per endpoint and process)."""
    manager = limiter.limit_manager
    return bool(
        manager.application_limits
        or manager.default_limits
        or (view is not None and manager.decorated_limits(get_qualified_name(view)))
        or any(manager.blueprint_limits(current_app, name) for name in request.blueprints)
    )


__all__ = [
    "csrf",
    "current_limiter",
    "exempt_cross_site_posts",
    "init_limiter",
    "limiter_hooks",
    "limits_may_apply",
    "login_manager",
    "runtime",
]
