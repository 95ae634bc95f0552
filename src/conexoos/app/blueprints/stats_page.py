"""The statistics page of the dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

stats_page = Blueprint("stats_page", __name__)


@stats_page.route("/dashboard/stats", methods=["GET"])
@login_required
def index() -> str:
    """Charts and tables, filled from ``/api/stats``; counters update live over Socket.IO."""
    return render_template("dashboard/stats.html")
