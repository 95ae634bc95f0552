"""``/api/stats`` (the seed's usage statistics) and ``/api/stats.csv``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request

from conexoos.app.controllers import stats as controller
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
    """The owner's statistics for ``from``..``to`` in ``tz``, optionally for one ``link_id``."""
    return jsonify(controller.report(user(), parse_stats_query(request.args)))


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
    report = controller.report(user(), query)
    body = to_csv(("section", "name", "metric", "value"), _rows(report))
    filename = f"stats-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _rows(report: dict[str, Any]) -> Iterator[tuple[object, ...]]:
    for metric, value in report["totals"].items():
        yield ("totals", "", metric, value)
    for day in report["daily"]:
        for metric in ("views", "clicks", "unique_visitors", "product_clicks"):
            yield ("daily", day["date"], metric, day[metric])
    for section in ("links", "products"):
        for item in report[section]:
            yield (section, f"{item['id']} {item['title']}", "clicks", item["clicks"])
            yield (section, f"{item['id']} {item['title']}", "click_through_rate", item["click_through_rate"])
    for section, items in report["top"].items():
        for item in items:
            yield (section, item["value"], "count", item["count"])
