"""``/api/openapi.json``: the OpenAPI 3.1 description of every JSON endpoint."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from conexoos import __version__
from conexoos.app.dto.openapi import api
from conexoos.framework.lazy_blueprints import load_all_blueprints

openapi = Blueprint("openapi", __name__)


@openapi.route("/api/openapi.json", methods=["GET"])
def document() -> Response:
    """The OpenAPI document, generated from the DTOs."""
    load_all_blueprints(current_app)  # the API's modules declare their operations when imported
    return jsonify(api.openapi(f"{current_app.config['APP_NAME']} API", __version__))
