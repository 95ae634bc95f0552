"""Email sign-up forms of public pages: ``POST /capture/<block id>`` takes a sign-up, and the link mailed
for the double opt-in confirms it.

Thin: the rules are in :mod:`conexoos.app.controllers.capture_entries`. The form sits on a public page
that is cached for every anonymous visitor, so it carries no session-bound CSRF token: the post is
checked against the browser's ``Sec-Fetch-Site`` and ``Origin`` headers instead
(:mod:`conexoos.app.utils.same_origin`). No JavaScript and no session are needed to sign up.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from conexoos.app.controllers import capture_entries, profiles
from conexoos.app.controllers.blocks.capture import CAPTURE
from conexoos.app.controllers.capture_entries import CaptureClosed, CaptureRefused
from conexoos.app.controllers.tokens import TokenError
from conexoos.app.extensions import csrf
from conexoos.app.models.forms.email import ConfirmForm
from conexoos.app.utils.private_pages import secret_url
from conexoos.app.utils.rate_limit import enforce
from conexoos.app.utils.same_origin import CROSS_SITE, is_same_origin_post
from conexoos.framework.sessions import session_optional
from conexoos.framework.urls import public_url

capture = Blueprint("capture", __name__)


@capture.route("/capture/<id:block_id>", methods=["POST"])
@csrf.exempt
@session_optional
def sign_up(block_id: int) -> Response:
    """Take a sign-up from the form of block ``block_id``: 200 with the thanks; the form again with why
    for a bad name or address (422); 403 for a post from another site, or for every post (a bad or a
    bot's too) when the page's plan holds no more sign-ups; 404 for a missing block, a block of another
    kind or a hidden page; 429 past the rate limit. A filled honeypot gets what a real post would (the
    thanks, or closed) and stores nothing."""
    values = {"name": request.form.get("name", ""), "email": request.form.get("email", "")}
    if not is_same_origin_post(request.headers, public_url()):
        return _page(status=403, message=CROSS_SITE)
    try:
        block, owner = capture_entries.capture_block(block_id)
    except CaptureRefused as refused:
        return _page(status=refused.status, message=refused.message)
    context: dict[str, Any] = {"owner": owner, "form": CAPTURE.shown(block, None, None), "values": values}
    try:
        capture_entries.throttle(request.remote_addr or "")
        answer = capture_entries.take(block, owner, request.form)
    except CaptureRefused as refused:
        closed = isinstance(refused, CaptureClosed)  # shown closed, as the page shows it now
        response = _page(
            status=refused.status, message=refused.message, field=refused.field, closed=closed, **context
        )
        if refused.status == 429:
            response.headers["Retry-After"] = "600"
        return response
    return _page(status=200, thanks=answer.message, owner=owner)


@capture.route("/capture/<id:block_id>", methods=["GET"])
@session_optional
def form_page(block_id: int) -> Response:
    """The form's address opened directly (the thanks page reloaded, or bookmarked): 303 to the page that
    shows the form; 404 with a sentence for a missing form, a block of another kind or a hidden page."""
    try:
        _block, owner = capture_entries.capture_block(block_id)
    except CaptureRefused as refused:
        return _page(status=refused.status, message=refused.message)
    return redirect(profiles.page_url(owner), code=303)


def _page(status: int, **context: Any) -> Response:
    """The answer page (the thanks, the form again with the problem, or the form closed), never cached
    or indexed; in the look of the owner's page (the site's default theme when there is no owner to
    name)."""
    context.setdefault("owner", None)
    context.setdefault("form", None)
    context.setdefault("values", {})
    context.setdefault("field", "")
    context.setdefault("closed", False)
    owner = context["owner"]
    look = profiles.owner_look(owner.id if owner is not None else None)
    html = render_template("public/capture.html", look=look, urls=profiles.page_urls(), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@capture.route("/capture/confirm/<token>", methods=["GET", "POST"])
@secret_url
def confirm(token: str) -> ResponseReturnValue:
    """The link mailed for a double opt-in: a button confirms the sign-up (a link scanner's GET confirms
    nothing); 410 for a link used or expired, with a page saying so."""
    if request.method == "POST":
        enforce("10/minute", "capture-confirm-ip", request.remote_addr or "")
    try:
        entry, owner = capture_entries.waiting_entry(token)
        form = ConfirmForm()
        if form.validate_on_submit():
            capture_entries.confirm(token)
            return render_template("public/capture_confirmed.html", owner=owner)
    except TokenError as error:
        return render_template("accounts/link_problem.html", message=str(error), retry=None), 410
    return render_template("public/capture_confirm.html", form=form, entry=entry, owner=owner)
