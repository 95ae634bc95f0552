"""The owner's email sign-ups: ``/dashboard/signups`` lists them, downloads them as CSV, deletes them.

Server-rendered forms with the session's CSRF token: this page works without JavaScript.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.controllers import capture_entries
from conexoos.app.controllers.capture_entries import CaptureRefused

capture_dashboard = Blueprint("capture_dashboard", __name__, url_prefix="/dashboard/signups")
SHOWN = 500
"""Entries the page lists (the newest); the CSV holds all of them."""


@capture_dashboard.route("", methods=["GET"])
@login_required
def index() -> str:
    """The counts against the plan's limit, the newest entries, the CSV download and delete buttons."""
    return render_template(
        "dashboard/signups.html",
        overview=capture_entries.overview(current_user),
        entries=capture_entries.entries_of(current_user, SHOWN),
        shown=SHOWN,
    )


@capture_dashboard.route("/signups.csv", methods=["GET"])
@login_required
def download() -> Response:
    """Every entry of the signed-in owner as a CSV download (formulas escaped)."""
    response = Response(capture_entries.entries_csv(current_user), mimetype="text/csv")
    name = f"{current_user.username}-signups-{date.today():%Y%m%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@capture_dashboard.route("/<id:entry_id>/delete", methods=["POST"])
@login_required
def delete(entry_id: int) -> BaseResponse:
    """Delete one of the owner's entries, then back to the list; 404 for someone else's or a missing one."""
    try:
        capture_entries.delete_entry(current_user, entry_id)
    except CaptureRefused as refused:
        raise NotFound(refused.message) from None
    flash("Sign-up deleted.")
    return redirect(url_for("capture_dashboard.index"))
