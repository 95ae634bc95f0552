"""Whether a request is an anonymous visitor's, told from its cookies without loading a user."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from werkzeug.datastructures import EnvironHeaders
from werkzeug.sansio.http import parse_cookie


def visitor_is_anonymous() -> bool:
    """Whether no user can be logged in for this request: no remember-me cookie, and no session cookie or
    a session that holds no user (loading it is what the request does anyway once the cookie is sent).

    Users are loaded only from the session or the remember-me cookie (there is no request loader), so
    a True answer spares Flask-Login's user loading (``current_user``) on public pages and redirects."""
    config = current_app.config
    if config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    if config["SESSION_COOKIE_NAME"] not in request.cookies:
        return True
    return session.get("_user_id") is None


def session_user_id() -> int | None:
    """The user id the request's session names, read without loading the user (nor asking the session
    registry whether that session is still valid): for a choice that may be wrong about a revoked session
    but must not need the database."""
    raw = session.get("_user_id")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def sends_no_login_cookie(environ: dict[str, Any], config: Any) -> bool:
    """Whether the raw request ``environ`` carries neither a session cookie nor a remember-me cookie (read
    before any request context exists, for a fast path): such a visitor is anonymous."""
    if not environ.get("HTTP_COOKIE"):
        return True
    # Read as Werkzeug's request reads them: bytes that are not UTF-8 replaced, never an error (a visitor
    # may carry a Latin-1 cookie another site of the domain set).
    names = parse_cookie(";".join(EnvironHeaders(environ).getlist("Cookie"))).keys()
    return config["SESSION_COOKIE_NAME"] not in names and (
        config.get("REMEMBER_COOKIE_NAME", "remember_token") not in names
    )
