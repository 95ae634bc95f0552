"""Visitors report a public page: ``/<username>/report``, a form and a thank-you page.

Usernames are one path segment, so ``/<username>/report`` never shadows another route; a reserved name
(``admin``, ``go``...) has no page and answers 404 like any unknown one.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from conexoos.app.controllers import reports
from conexoos.app.models.forms.report import ReportForm
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import enforce
from conexoos.framework.sessions import session_optional

page_reports = Blueprint("reports", __name__)
TOO_MANY = "Too many reports from your network. Wait an hour and try again."


@page_reports.route("/<username>/report", methods=["GET", "POST"])
@session_optional
def report(username: str) -> str | Response | tuple[str, int]:
    """The report form of a public page; 404 for a page that is not public."""
    page = reports.reported_page(username)
    form = ReportForm()
    if request.method == "POST":
        network = network_of(request.remote_addr or "")
        enforce("5/hour", "report-network", network, TOO_MANY)
        enforce("20/day", "report-network-day", network, TOO_MANY)
    if form.validate_on_submit():
        reports.file_report(
            page,
            form.reason.data or "",
            form.details.data or "",
            form.email.data or None,
            request.remote_addr or "",
        )
        return redirect(url_for("reports.thanks", username=page.user.username))
    status = 422 if request.method == "POST" else 200
    return render_template("public/report.html", form=form, user=page.user), status


@page_reports.route("/<username>/report/thanks", methods=["GET"])
@session_optional
def thanks(username: str) -> str:
    """Thank the visitor; the same page whatever happens next."""
    return render_template("public/report_thanks.html", username=username)
