"""Visitors report a public page: ``/<username>/report``, a form and a thank-you page.

Usernames are one path segment, so ``/<username>/report`` never shadows another route; a reserved name
(``admin``, ``go``...) has no page and answers 404 like any unknown one.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from conexoos.app.controllers import reports
from conexoos.app.models.forms.report import ReportForm
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import count, seconds_until_allowed, too_many_requests
from conexoos.app.utils.wording import waiting
from conexoos.framework.sessions import session_optional

page_reports = Blueprint("reports", __name__)
QUOTAS = (("5/hour", "report-network"), ("20/day", "report-network-day"))


@page_reports.route("/<username>/report", methods=["GET", "POST"])
@session_optional
def report(username: str) -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The report form of a public page; 404 for a page that is not public; over the network's quota,
    the form again (what was typed kept) saying how long to wait (429 with ``Retry-After``)."""
    page = reports.reported_page(username)
    form = ReportForm()
    network = network_of(request.remote_addr or "")
    try:
        if request.method == "POST":  # refused over the quota; only accepted reports use it up
            _refuse_over_quota(network)
        if form.validate_on_submit():
            for limit, scope in QUOTAS:
                if not count(limit, scope, network):  # another report took the last one meanwhile
                    raise _too_many(max(1, seconds_until_allowed(limit, scope, network)))
            reports.file_report(
                page,
                form.reason.data or "",
                form.details.data or "",
                form.email.data or None,
                request.remote_addr or "",
            )
            return redirect(url_for("reports.thanks", username=page.user.username))
    except TooManyRequests as refused:
        html = render_template("public/report.html", form=form, user=page.user, refused=refused.description)
        return html, 429, {"Retry-After": str(refused.retry_after)}
    status = 422 if request.method == "POST" else 200
    return render_template("public/report.html", form=form, user=page.user), status


@page_reports.route("/<username>/report/thanks", methods=["GET"])
@session_optional
def thanks(username: str) -> str:
    """Thank the visitor; 404 like the form for a page that is not public."""
    page = reports.reported_page(username)
    return render_template("public/report_thanks.html", username=page.user.username)


def _refuse_over_quota(network: str) -> None:
    for limit, scope in QUOTAS:
        wait = seconds_until_allowed(limit, scope, network)
        if wait > 0:
            raise _too_many(wait)


def _too_many(wait: int) -> TooManyRequests:
    """The 429 of a network over its quota, saying the wait its ``Retry-After`` gives, in words."""
    return too_many_requests(wait, f"Too many reports from your network. Wait {waiting(wait)} and try again.")
