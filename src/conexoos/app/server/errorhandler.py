"""Errors specific to the product: CSRF failures, invalid API input, and maintenance mode's page."""

from __future__ import annotations

from flask import Flask, Response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.controllers.maintenance import MaintenanceMode
from conexoos.app.dto.errors import InputError
from conexoos.app.utils.redirects import referring_page
from conexoos.framework import error_response, wants_json
from conexoos.framework.csrf import is_referrer_refusal, refusal_message


class Route:
    """Registers the product's error handlers (the framework's own handle every other status)."""

    def __init__(self, server: Flask) -> None:
        server.register_error_handler(CSRFError, csrf_failed)
        server.register_error_handler(InputError, _invalid_input)
        server.register_error_handler(MaintenanceMode, _maintenance)


SIGNED_IN_TOKEN = (
    "This form's security token is missing or no longer valid (the page was open a long time, or you logged "
    "in again in another tab): reload the page and send the form again."
)
SIGNED_OUT_TOKEN = (
    "This form's security token is missing or no longer valid, and you are not logged in (the page was "
    "open a long time, or you logged out in another tab or window): reload the page, log in first if the "
    "form is one of your account's, and send the form again."
)


def csrf_failed(error: CSRFError) -> BaseResponse | tuple[str, int]:
    """A 400 that says what to do: reload the page, or, once logged out elsewhere, log in again (with a
    link back to the form's page); a Log out pressed after that just leads home. Flask-WTF's own reason is
    not shown: it speaks of sessions and tokens, not of what happened. A request refused for its Referer
    (over HTTPS: missing, of another site, unreadable) is told that, in the framework's words: its token
    was never the matter, and logging in would not help. (The profile and appearance forms answer a stale
    token of their own, ``utils/expired_form.py``, and leave every other refusal to this.)"""
    if is_referrer_refusal(error.description):
        return _bad_request(refusal_message(error.description), "csrf_failed", None)
    signed_in = current_user.is_authenticated
    if not signed_in and request.endpoint == "accounts.logout":
        return redirect(url_for("public.home"))  # already done
    message = SIGNED_IN_TOKEN if signed_in else SIGNED_OUT_TOKEN
    next_step = (
        None if signed_in else {"url": url_for("accounts.login", next=referring_page()), "label": "Log in"}
    )
    return _bad_request(message, "csrf_failed", next_step)


def _bad_request(message: str, code: str, next_step: dict[str, str] | None) -> BaseResponse | tuple[str, int]:
    """A 400 as JSON for the API, else the error page with ``next_step`` (a link) under the message."""
    if wants_json():
        return error_response(400, message, code=code)
    page = render_template(
        "errors/error.html", status=400, title="Bad Request", message=message, next_step=next_step
    )
    return page, 400


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
