"""Errors specific to the product: CSRF failures, invalid API input, and maintenance mode's page."""

from __future__ import annotations

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError

from conexoos.app.controllers.maintenance import MaintenanceMode
from conexoos.app.dto.errors import InputError
from conexoos.framework import error_response, wants_json


class Route:
    """Registers the product's error handlers (the framework's own handle every other status)."""

    def __init__(self, server: Flask) -> None:
        server.register_error_handler(CSRFError, _csrf_failed)
        server.register_error_handler(InputError, _invalid_input)
        server.register_error_handler(MaintenanceMode, _maintenance)


def _csrf_failed(error: CSRFError) -> Response | tuple[str, int]:
    message = (
        f"The security token is missing or invalid ({error.description}). Reload the page and try again."
    )
    if wants_json():
        return error_response(400, message, code="csrf_failed")
    return render_template("errors/error.html", status=400, title="Bad Request", message=message), 400


def _invalid_input(error: InputError) -> Response:
    return error_response(error.status, error.message, code=error.code, field=error.field)


def _maintenance(error: MaintenanceMode) -> Response | tuple[str, int, dict[str, str]]:
    """The maintenance page (the site's layout and the operator's message), or the API's JSON error."""
    headers = {"Retry-After": str(error.retry_after)}
    if wants_json():
        response = error_response(503, error.description or "", code=error.error_code)
        response.headers.update(headers)
        return response
    return render_template("maintenance.html", message=error.description), 503, headers
