"""``/media/<path>``: uploaded images, served with long cache headers (their names never change)."""

from __future__ import annotations

from flask import Blueprint, send_from_directory
from werkzeug.wrappers import Response

from conexoos.app.controllers.profiles import io_utils

media = Blueprint("media", __name__)
ONE_YEAR = 365 * 24 * 3600


@media.route("/media/<path:filename>", methods=["GET"])
def serve(filename: str) -> Response:
    """Send a stored upload; 404 when it does not exist."""
    response = send_from_directory(io_utils().root, filename, max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
