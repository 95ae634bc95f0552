"""Maintenance mode: public pages stay up, logins and sign-ups pause (except for administrators), and the
other people already logged in get the maintenance message instead of their private pages.

The switch is the site setting ``maintenance_mode`` (with ``maintenance_message``). Logins and sign-ups
read it from the database each time (:func:`refuse_login`, :func:`refuse_signup`), so every worker pauses
them at once; the per-request gate (:func:`refuse_private_request`) reads the per-process cache of
``site_settings.cached``, so every worker sees the switch within ``site_settings.CACHE_SECONDS`` (30 s).
"""

from __future__ import annotations

from flask import request
from flask_login import current_user
from werkzeug.exceptions import ServiceUnavailable

from conexoos.app.controllers import site_settings
from conexoos.app.controllers.roles import ADMIN
from conexoos.app.models.persistent import User
from conexoos.framework import db

RETRY_AFTER_SECONDS = 600
"""What ``Retry-After`` tells clients while the site is in maintenance (ten minutes)."""
PUBLIC_BLUEPRINTS = frozenset({"public", "reports"})
"""Pages for visitors (the home page, ``/<username>``, ``/go/...``, reporting a page): never paused."""
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "media.serve",
        "conexoos_healthz",
        "conexoos_readyz",
        "accounts.login",
        "accounts.logout",
        "accounts.logout_by_get",
        "accounts.leaving",
        "subscriptions.webhook",
    }
)
"""Also never paused: files, health probes, the login page (it says logins are paused), logging out, and
Stripe's webhook (billing events must not be lost)."""
PUBLIC_PATH_PREFIXES = ("/p/",)
"""The site's own pages (``/p/<slug>``)."""


class MaintenanceMode(ServiceUnavailable):
    """503 with the operator's message and ``Retry-After``; JSON ``{"error": {"code": "maintenance"}}``."""

    error_code = "maintenance"

    def __init__(self, message: str) -> None:
        super().__init__(description=message, retry_after=RETRY_AFTER_SECONDS)


def is_on() -> bool:
    """Whether maintenance mode is on, as this process last read it (at most 30 s old)."""
    return bool(site_settings.cached()["maintenance_mode"])


def message() -> str:
    """The message people are shown during maintenance (as this process last read it)."""
    return str(site_settings.cached()["maintenance_message"])


def _on_now() -> bool:
    """Whether maintenance mode is on, read from the database (one query): for logins and sign-ups."""
    return bool(site_settings.value("maintenance_mode"))


def _is_admin(user: User) -> bool:
    return user.role == ADMIN and not user.is_suspended


def refuse_login(user: User) -> None:
    """Raise :class:`MaintenanceMode` when the site is in maintenance and ``user`` is not an active
    administrator. What the login was about to commit (an account made just in time for a sign-in through
    a provider, its linked identity) is rolled back first: sign-ups are paused too."""
    if _is_admin(user) or not _on_now():
        return
    db.session.rollback()
    raise MaintenanceMode(str(site_settings.value("maintenance_message")))


def refuse_signup() -> None:
    """Raise :class:`MaintenanceMode` when the site is in maintenance: nobody signs up meanwhile."""
    if _on_now():
        raise MaintenanceMode(str(site_settings.value("maintenance_message")))


def is_public_request() -> bool:
    """Whether the request is for a page visitors may see during maintenance (no query)."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS:
        return True
    return request.path.startswith(PUBLIC_PATH_PREFIXES)


def refuse_private_request() -> None:
    """Middleware: during maintenance a logged-in person who is not an administrator gets the message
    (503, ``Retry-After``; JSON for the API) on every page that is not public. Anonymous visitors pass:
    private pages send them to the login page, which says logins are paused."""
    if request.endpoint is None or is_public_request():
        return  # unknown URLs keep their 404; public pages cost no query
    if not current_user.is_authenticated or _is_admin(current_user):
        return
    if is_on():
        raise MaintenanceMode(message())
