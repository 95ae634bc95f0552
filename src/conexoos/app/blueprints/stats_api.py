"""``/api/stats`` (the seed's usage statistics) and ``/api/stats.csv``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from conexoos.app.controllers import stats as controller
from conexoos.app.controllers.stats_reader import stats_session
from conexoos.app.dto.openapi import Operation, api
from conexoos.app.dto.stats import STATS_PARAMETERS, STATS_REPORT, parse_stats_query
from conexoos.app.utils.csv_export import to_csv

from .api_support import api_login_required, user

stats_api = Blueprint("stats_api", __name__)


@stats_api.route("/api/stats", methods=["GET"])
@api.document(
    Operation(
        "/api/stats",
        "GET",
        "Usage statistics of your page",
        response=STATS_REPORT,
        errors=(400, 401, 404),
        parameters=STATS_PARAMETERS,
    )
)
@api_login_required
def get_stats() -> Response:
    """The owner's statistics for ``from``..``to`` in ``tz``, optionally for one ``link_id`` (read from
    ``DATABASE.readonly`` when configured)."""
    query = parse_stats_query(request.args)
    with stats_session() as reader:
        return jsonify(controller.report(user(), query, reader))


@stats_api.route("/api/stats.csv", methods=["GET"])
@api.document(
    Operation(
        "/api/stats.csv",
        "GET",
        "The same statistics as CSV (section,name,metric,value)",
        errors=(400, 401, 404),
        parameters=STATS_PARAMETERS,
        media_type="text/csv",
    )
)
@api_login_required
def get_stats_csv() -> Response:
    """The same report as ``/api/stats``, one value per row."""
    query = parse_stats_query(request.args)
    with stats_session() as reader:
        report = controller.report(user(), query, reader)
    body = to_csv(controller.CSV_HEADER, controller.report_rows(report))
    filename = f"stats-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
