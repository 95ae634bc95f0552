"""``/p/<slug>``: the site's own pages (About, Terms, Privacy...) as visitors see them.

A published page (or a scheduled one whose time has come) is shown to everyone; a draft, or a page
scheduled for later, only to staff, under a banner saying so, and never cached. Anyone else gets the
same 404 as for an address that names no page.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from conexoos.app.controllers import site_pages
from conexoos.app.controllers.roles import STAFF, has_role
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.markdown import render
from conexoos.framework.http_errors import NOT_FOUND_MESSAGE
from conexoos.framework.sessions import session_optional
from conexoos.framework.urls import external_url

site_pages_blueprint = Blueprint("site_pages", __name__)
PUBLIC_MAX_AGE = 60
"""Seconds a published page may be kept by browsers and caches (an edit shows within a minute)."""


@site_pages_blueprint.route("/p/<slug>", methods=["GET"])
@session_optional
def show(slug: str) -> Response:
    """The page at ``slug``; 404 unless it is public or the visitor is staff."""
    page = site_pages.page_by_slug(slug)
    if page is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    public, staff = page.is_public(utcnow()), has_role(*STAFF)
    if not public and not staff:
        raise NotFound(NOT_FOUND_MESSAGE)
    html = render_template(
        "public/site_page.html",
        page=page,
        body=render(page.body),
        public=public,
        staff=staff,
        canonical=external_url("site_pages.show", slug=page.slug),
        image=site_pages.absolute_image_url(page),
    )
    response = make_response(html)
    if public:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        response.headers["Vary"] = "Cookie"
    else:
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response
