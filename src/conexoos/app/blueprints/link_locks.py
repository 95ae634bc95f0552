"""The lock of a locked link: ``GET /go/<id>`` shows it (from :mod:`public`), ``POST /go/<id>`` answers it.

Thin: the rules are in :mod:`conexoos.app.controllers.link_locks`. No JavaScript and no session needed;
the form's own signed token replaces the session-bound CSRF token (see that module's docstring).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from conexoos.app.controllers import analytics, profiles
from conexoos.app.controllers.link_locks import (
    PASSWORD_MAX,
    SENSITIVE_NOTICE,
    LockAnswer,
    LockRefused,
    LockThrottled,
    check_not_throttled,
    form_token,
    open_lock,
)
from conexoos.app.extensions import csrf
from conexoos.app.models.persistent import User, UserLink
from conexoos.app.models.persistent.event import LOCK_VIEW, UNLOCK
from conexoos.framework import db
from conexoos.framework.sessions import session_optional

link_locks = Blueprint("link_locks", __name__)
NO_LOCK = "This link has no lock to answer: open the link itself."


def show_lock(link: UserLink) -> Response:
    """The lock page of ``link`` (200), counted as a view of the lock; 429 saying how long to wait while
    this visitor's network (or everyone) is locked out of its password."""
    try:
        check_not_throttled(link, request.remote_addr or "")
    except LockThrottled as throttled:
        return throttled_page(link, throttled)
    response = lock_page(link)
    analytics.record_click(link.owner_id, link.id, kind=LOCK_VIEW)
    return response


def throttled_page(link: UserLink, throttled: LockThrottled, *, confirmed: bool = False) -> Response:
    """The lock page of ``link`` saying how long to wait (429 with ``Retry-After``)."""
    response = lock_page(link, throttled.message, throttled.status, confirmed=confirmed)
    response.headers["Retry-After"] = str(throttled.retry_after)
    return response


@link_locks.route("/go/<id:link_id>", methods=["POST"])
@csrf.exempt
@session_optional
def answer(link_id: int) -> Response:
    """Check the lock form's answer; when it opens the lock, a page that moves on to the link's URL by itself
    (``<meta http-equiv="refresh">`` and a link: Chromium applies the CSP's ``form-action 'self'`` to every
    redirect after a form is sent, so a 303 to a URL that redirects to another origin would stop); else the
    form again
    with why (400 stale form or no confirmation, 403 wrong password, 429 too many wrong passwords);
    404 unless the link is live; 400 when the link has no lock (nothing to answer, no unlock to count)."""
    shown = profiles.live_link(link_id)
    if not shown.is_locked:
        raise BadRequest(NO_LOCK)
    link = profiles.lockable_link(shown)
    owner_id = link.owner_id  # read before the click's commit expires the row
    answer = LockAnswer(
        token=request.form.get("token", ""),
        confirmed=request.form.get("confirm") == "yes",
        password=request.form.get("password", ""),
    )
    try:
        open_lock(link, answer, request.remote_addr or "")
    except LockThrottled as throttled:
        return throttled_page(link, throttled, confirmed=answer.confirmed)
    except LockRefused as refused:
        return lock_page(link, refused.message, refused.status, confirmed=answer.confirmed)
    html = render_template(
        "public/link_opening.html", link=link, look=profiles.owner_look(owner_id), urls=profiles.page_urls()
    )
    analytics.record_click(owner_id, link_id, kind=UNLOCK)  # a token only exists for a locked link
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def lock_page(link: UserLink, error: str = "", status: int = 200, *, confirmed: bool = False) -> Response:
    """The lock form of ``link`` with ``error`` shown (and the confirmation kept when the visitor gave
    it), never cached."""
    owner = db.session.get(User, link.owner_id)  # loaded with the link: no query
    html = render_template(
        "public/link_lock.html",
        link=link,
        owner=owner,
        token=form_token(link),
        error=error,
        confirmed=confirmed,
        notice=SENSITIVE_NOTICE,
        password_max=PASSWORD_MAX,
        look=profiles.owner_look(link.owner_id),
        urls=profiles.page_urls(),
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
