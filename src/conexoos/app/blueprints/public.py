"""What visitors see: the home page, public pages, and the click redirect.

Every view here is :func:`session_optional`: while the session store is down, a signed-in visitor is served
as an anonymous one rather than refused with a 503.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from conexoos.app.blueprints.link_locks import show_lock
from conexoos.app.controllers import analytics, appearance, capture_entries, page_cache, plans, profiles
from conexoos.app.controllers.anonymous import visitor_is_anonymous
from conexoos.app.models.persistent.event import BUY
from conexoos.app.plans_config import format_money
from conexoos.framework import runtime
from conexoos.framework.sessions import session_optional
from conexoos.framework.urls import external_url

public = Blueprint("public", __name__)
ONE_DAY = 24 * 3600
ROBOTS_TXT = """User-agent: *
Disallow: /dashboard
Disallow: /api/
Disallow: /go/
Disallow: /subscriptions
Disallow: /login
Disallow: /signup
"""
SECURITY_TXT_VALIDITY = timedelta(days=180)


@public.route("/", methods=["GET"])
@session_optional
def home() -> str:
    """The landing page."""
    return render_template("home.html")


@public.route("/robots.txt", methods=["GET"])
@session_optional
def robots() -> Response:
    """What crawlers may visit: public pages yes; the dashboard, the API and click redirects no."""
    return _site_file(ROBOTS_TXT)


@public.route("/favicon.ico", methods=["GET"])
@session_optional
def favicon() -> Response:
    """The site's icon, which every browser asks for."""
    response = send_from_directory(current_app.static_folder or "", "img/favicon.ico", max_age=ONE_DAY)
    response.headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
    return response


@public.route("/.well-known/security.txt", methods=["GET"])
@session_optional
def security_txt() -> Response:
    """Whom to tell about a vulnerability (RFC 9116): ``SERVER_ENV.SECURITY_CONTACT``, by default
    ``security@`` the host of ``SERVER_ENV.PUBLIC_URL`` (never the request's Host header)."""
    canonical = external_url("public.security_txt")
    contact = runtime().settings.server.get("SECURITY_CONTACT") or ""
    if not contact:
        contact = f"security@{urlsplit(canonical).hostname}"
    if ":" not in contact:
        contact = f"mailto:{contact}"
    expires = (datetime.now(UTC) + SECURITY_TXT_VALIDITY).replace(microsecond=0)
    return _site_file(
        f"Contact: {contact}\nExpires: {expires.isoformat().replace('+00:00', 'Z')}\n"
        f"Preferred-Languages: en\nCanonical: {canonical}\n"
    )


@public.route("/<username>", methods=["GET"])
@session_optional
def profile(username: str) -> Response:
    """A user's public page; 404 for an unknown user. Anonymous visitors are served from the page cache
    (``controllers/page_cache.py``), which records their view too."""
    return page_cache.serve_page(username, lambda: _render_profile(username))


@public.route("/<username>/", methods=["GET"])
@session_optional
def profile_with_slash(username: str) -> Response:
    """``/ana/`` is the public page ``/ana``: a permanent redirect (308) to it, keeping the query string."""
    target = url_for("public.profile", username=username)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=308)


def _render_profile(username: str) -> page_cache.RenderedPage:
    page = profiles.public_page(username)
    plan = plans.plan_for(page.user)
    html = render_template(
        "public/profile.html",
        page=page,
        page_url=profiles.page_url(page.user),
        urls=profiles.page_urls(),
        format_money=format_money,
        look=appearance.look(page.theme, page.appearance),
        default_share_image=profiles.DEFAULT_SHARE_IMAGE,
        show_branding=not plan.remove_branding,
        signups_closed=capture_entries.forms_closed(plan, page.capture_entries),
        # Told from the cookies first: loading the user (Flask-Login) for an anonymous visitor costs
        # more than the rest of the page's header.
        signed_in=not visitor_is_anonymous() and current_user.is_authenticated,
    )
    return page_cache.RenderedPage(page, html)


@public.route("/go/<id:link_id>", methods=["GET"])
@session_optional
def go(link_id: int) -> Response:
    """Record a click and redirect (302) to the link's URL; 404 unless the link is live; a locked link's
    lock page instead (200). With the database down, an unlocked link the page cache has seen still
    redirects."""
    followed = page_cache.follow_link(link_id, lambda: profiles.live_link(link_id))
    if isinstance(followed, str):
        return _redirect(followed)
    # A sensitive-content notice or a password first (blueprints/link_locks.py), from the link's row.
    return show_lock(profiles.lockable_link(followed))


def cached_go() -> Response | None:
    """The answer to ``/go/<link_id>`` before Flask's dispatch (``server/middleware.py``): the redirect
    :func:`go` gives, when the page cache holds the link fresh (the click recorded); else None."""
    target = page_cache.cached_link_target(int((request.view_args or {})["link_id"]))
    return None if target is None else _redirect(target)


@public.route("/go/product/<id:product_id>", methods=["GET"])
@session_optional
def buy(product_id: int) -> Response:
    """Record a product click and redirect (302) to its buy URL; 404 unless the product is shown."""
    product = profiles.live_product(product_id)
    target, owner_id = product.buy_url, product.owner_id  # read before the click's commit expires the row
    analytics.record_click(owner_id, product_id, kind=BUY)
    return _redirect(target)


def _redirect(url: str) -> Response:
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


def _site_file(text: str) -> Response:
    response = Response(text, mimetype="text/plain")
    response.headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
    return response
