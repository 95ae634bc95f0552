"""Extensions and cross-cutting request handling: login, CSRF, rate limits, maintenance mode, security
headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from flask import Flask, Response, current_app, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound, Unauthorized
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.blueprints import public
from conexoos.app.blueprints.api_support import LOGGED_OUT, require_login
from conexoos.app.blueprints.public import cached_go
from conexoos.app.blueprints.setup import refuse_spent_setup
from conexoos.app.controllers import page_cache
from conexoos.app.controllers.anonymous import sends_no_login_cookie
from conexoos.app.controllers.maintenance import refuse_private_request
from conexoos.app.controllers.page_cache import cached_page_answer
from conexoos.app.controllers.roles import refuse_without_role
from conexoos.app.controllers.user_sessions import load_session_user
from conexoos.app.extensions import (
    csrf,
    exempt_cross_site_posts,
    init_limiter,
    limiter_hooks,
    limits_may_apply,
    login_manager,
)
from conexoos.app.models.persistent import User
from conexoos.app.settings import load_product_settings
from conexoos.app.utils.csp import content_security_policy
from conexoos.app.utils.redirects import referring_page
from conexoos.app.utils.text import has_control_characters
from conexoos.framework import wants_json
from conexoos.framework.compression import compress_response
from conexoos.framework.fast_path import FastPath, add_fast_path
from conexoos.framework.http_errors import DATABASE_UNREACHABLE, database_failed, note_database_failed
from conexoos.framework.mail import init_mail
from conexoos.framework.replay import Replayable

STRICT_TRANSPORT_SECURITY = "max-age=31536000"
"""One year of HTTPS only, under UAT and PROD (never DEV, served over plain HTTP). Subdomains are left
out: the operator's other hosts are not ours to decide."""
CACHEABLE_ENDPOINTS = frozenset(
    {"static", "media.serve", "public.robots", "public.favicon", "public.security_txt"}
)
"""Files that are the same for everyone; every other answer to a logged-in user is ``no-store``."""


class Load:
    """Called by the framework with the Flask app before any route is registered."""

    def __init__(self, server: Flask) -> None:
        load_product_settings(server)
        server.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
        # Flask-Login's "basic" protection only marks a session not fresh (nothing here reads freshness: an
        # account's own checks use the login's age), and it does so in every anonymous visitor's cookie at
        # the first request that reads current_user; that write, landing after a login's answer, would log
        # the visitor out again.
        server.config.setdefault("SESSION_PROTECTION", None)
        # The subscriptions page's script calls checkout and portal; /subscriptions/cancel is a page.
        server.config.setdefault(
            "JSON_PATH_PREFIXES", ("/api/", "/subscriptions/checkout", "/subscriptions/portal", "/stripe/")
        )
        server.before_request(_refuse_control_characters_in_path)
        server.before_request(_login_before_csrf)  # registered before CSRF, so it runs before the check
        server.before_request(refuse_without_role)  # staff URLs are a 404 without the role, even a POST
        server.before_request(exempt_cross_site_posts)  # likewise: before the CSRF check
        server.before_request(refuse_private_request)  # maintenance mode: the message, not private pages
        server.before_request(refuse_spent_setup)  # a 404, not the CSRF check's 400
        csrf.init_app(server)
        init_limiter(server)
        init_mail(server)
        page_cache.init_app(server)
        login_manager.init_app(server, add_context_processor=False)
        server.context_processor(_lazy_current_user)
        login_manager.user_loader(_load_user)
        login_manager.unauthorized_handler(_unauthorized)
        server.after_request(_security_headers)
        if not server.extensions["conexoos"].settings.is_development:
            server.after_request(_strict_transport_security)
        if _page_cache_enabled(server):
            page = _before_flask(server, "public.profile", public.profile, cached_page_answer, segments=1)
            add_fast_path(server, page)
            add_fast_path(server, _before_flask(server, "public.go", public.go, cached_go, segments=2))


def _page_cache_enabled(server: Flask) -> bool:
    """Whether ``APP.PAGE_CACHE.ENABLED`` (fixed for the process): without the cache the fast paths never
    answer, and trying them would push every page's and ``/go``'s context and run its before-request
    functions twice (once for them, once for Flask)."""
    return bool(server.extensions[page_cache.EXTENSION].settings.enabled)


PAGE_VARIES_ON = ("REQUEST_METHOD", "HTTP_ACCEPT_ENCODING", "HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH")
"""What a cached page's finished answer depends on besides the entry: HEAD, the encoding, the
conditional headers ``make_conditional`` reads for it. The page has no ``Last-Modified`` and takes no
ranges, so ``If-Modified-Since``, ``If-Unmodified-Since``, ``If-Range`` and ``Range`` change nothing
(``tests/app/test_page_fast_path.py`` sends them); keying on them would only let made-up values multiply
the kept answers."""


@cache
def _replayable_hooks() -> frozenset[Callable[..., object]]:
    """The after-request functions whose effect on a cached page, for an anonymous visitor with an empty
    session, depends only on the page and on ``PAGE_VARIES_ON``: the compression, the security headers,
    HSTS and the remember-me cookie's refresh (nothing without a login). The same for every app (module
    functions and the one login manager's method)."""
    return frozenset(
        {
            compress_response,
            _security_headers,
            _strict_transport_security,
            login_manager._update_remember_cookie,
        }
    )


def _before_flask(
    server: Flask,
    endpoint: str,
    view: Callable[..., BaseResponse],
    answer: Callable[[], BaseResponse | Replayable | None],
    segments: int,
) -> FastPath:
    """``endpoint`` (the public page, ``/go/<id>``; its view ``view``) answered from the page cache before
    Flask's dispatch, for a visitor without a session or remember-me cookie, while no rate limit applies
    to it: every hook runs but the limiter's, which would do nothing (README, "The cached page before
    Flask"); a cached page's finished answer is kept per variant (``framework/replay.py``)."""

    def accepts(environ: dict[str, object]) -> bool:
        # The route's number of path segments (other paths never push a context for it), no login cookie.
        path = str(environ.get("PATH_INFO", ""))
        return path.count("/") == segments and sends_no_login_cookie(environ, server.config)

    return FastPath(
        endpoint=endpoint,
        view=view,
        answer=answer,
        accepts=accepts,
        applies=lambda: not limits_may_apply(),
        skipped_hooks=limiter_hooks,
        varies_on=PAGE_VARIES_ON,
        replayable_hooks=_replayable_hooks,
    )


def _load_user(user_id: str) -> User | None:
    """The session's user while the session registry holds it (see controllers/user_sessions.py).

    Once the database has failed in this request, nobody, without asking it again: the 503 page and the
    after-request functions then finish the answer as for an anonymous visitor (a second failure while
    handling the first would turn the 503 into a 500).
    """
    if not user_id.isdigit() or database_failed():
        return None
    try:
        return load_session_user(int(user_id))
    except DATABASE_UNREACHABLE:
        note_database_failed()
        raise


def _lazy_current_user() -> dict[str, object]:
    """``current_user`` for templates, loaded when a template reads it, not before every render
    (Flask-Login's own context processor loads it first: an error page would then query the database)."""
    return {"current_user": current_user}


def _login_before_csrf() -> BaseResponse | None:
    """A request without a login to a view that requires one is told so, rather than that its CSRF token
    is missing (400): an API call with a 401, a page's form (``page_login_required``) as Flask-Login
    tells it (the login page; a 401 for JSON)."""
    view = current_app.view_functions.get(request.endpoint or "")
    required = getattr(view, "requires_login", False)
    if required == "page" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    if required:
        require_login()
    return None


def _unauthorized() -> BaseResponse:
    if wants_json():
        raise Unauthorized(LOGGED_OUT)
    return redirect(url_for("accounts.login", next=_return_path()))


def _return_path() -> str | None:
    """Where logging in leads back: this page for a GET. A form sent once the session had ended is a POST
    to an address that answers only POSTs (a GET of it after logging in would be a 405): back to the page
    the form was on, when the browser names it (its Referer) and it is a page of this site; else nowhere
    in particular (the dashboard)."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    return referring_page()


def _refuse_control_characters_in_path() -> None:
    """A NUL, CR, LF or other control character in the path names no page: a 404 saying so, before any
    view passes it to a database (PostgreSQL refuses NUL) or into a header."""
    if has_control_characters(request.path):
        raise NotFound("No page has an address holding control characters (a NUL byte or a line break).")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    if request.endpoint not in CACHEABLE_ENDPOINTS and _signed_in():
        # A page or API answer for a logged-in user holds their data and CSRF token: no cache keeps it.
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in() -> bool:
    """Whether the request is a signed-in user's, read from the session (never loading the user: this runs
    on error answers too, the database's 503 included)."""
    return session.get("_user_id") is not None


def _strict_transport_security(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response
