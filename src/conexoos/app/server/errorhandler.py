"""Errors specific to the product: CSRF failures and invalid API input."""

from __future__ import annotations

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError

from conexoos.app.dto.errors import InputError
from conexoos.framework import error_response, wants_json


class Route:
    """Registers the product's error handlers (the framework's own handle every other status)."""

    def __init__(self, server: Flask) -> None:
        server.register_error_handler(CSRFError, _csrf_failed)
        server.register_error_handler(InputError, _invalid_input)


def _csrf_failed(error: CSRFError) -> Response | tuple[str, int]:
    message = (
        f"The security token is missing or invalid ({error.description}). Reload the page and try again."
    )
    if wants_json():
        return error_response(400, message, code="csrf_failed")
    return render_template("errors/error.html", status=400, title="Bad Request", message=message), 400


def _invalid_input(error: InputError) -> Response:
    return error_response(error.status, error.message, code=error.code, field=error.field)
