"""``/<username>/contact``: a visitor writes to a page's owner; ``/dashboard/contact``: the owner reads.

The form is rate-limited per network like the report form, and answers 404 for a page that is not public.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from conexoos.app.controllers import profiles
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import enforce, seconds_until_allowed, too_many_requests
from conexoos.framework.sessions import session_optional
from conexoos_contact.controllers import messages
from conexoos_contact.models import ContactForm

contact = Blueprint("contact", __name__)
TOO_MANY = "Too many messages from your network. Wait an hour and try again."
QUOTAS = (("5/hour", "contact-network"), ("20/day", "contact-network-day"))


@contact.route("/<username>/contact", methods=["GET", "POST"])
@session_optional
def form(username: str) -> str | Response | tuple[str, int]:
    """The contact form of a public page; 404 for a page that is not public, 422 for a form with mistakes."""
    page = profiles.public_page(username)
    form = ContactForm()
    network = network_of(request.remote_addr or "")
    if request.method == "POST":  # refused over the quota; only accepted messages use it up
        _refuse_over_quota(network)
    if form.validate_on_submit():
        for limit, scope in QUOTAS:
            enforce(limit, scope, network, TOO_MANY)
        incoming = messages.Incoming(
            form.name.data or "", form.email.data or "", form.message.data or "", network
        )
        messages.receive(page.user.id, incoming)
        return redirect(url_for("contact.sent", username=page.user.username))
    status = 422 if request.method == "POST" else 200
    return render_template("contact/form.html", form=form, user=page.user), status


@contact.route("/<username>/contact/sent", methods=["GET"])
@session_optional
def sent(username: str) -> str:
    """Tell the visitor the message went; 404 like the form for a page that is not public."""
    page = profiles.public_page(username)
    return render_template("contact/sent.html", user=page.user)


@contact.route("/dashboard/contact", methods=["GET"])
@login_required
def inbox() -> str:
    """The logged-in owner's messages (only their own)."""
    return render_template("contact/inbox.html", messages=messages.inbox(current_user.id))


def _refuse_over_quota(network: str) -> None:
    for limit, scope in QUOTAS:
        wait = seconds_until_allowed(limit, scope, network)
        if wait > 0:
            raise too_many_requests(wait, TOO_MANY)
