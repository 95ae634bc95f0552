"""The 413 of a settings form whose image made it larger than the request limit (``MAX_CONTENT_LENGTH``).

With JavaScript, ``static/js/file_size.js`` stops such a file before the form is sent. Without it, the
browser sends it and the site refuses the body unread: the framework's page said only "The request is larger
than 16 MB" and offered the home page. For the profile and appearance forms the page says which image it
was, how large the form came to and how large an image may be, in megabytes, and links back to the same
settings page, where everything saved is still there. What was typed on the form cannot be shown again:
the body holding it was never read (reading it would defeat the limit), so the page says it was lost.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from conexoos.app.utils.io import MAX_UPLOAD_BYTES
from conexoos.framework import wants_json
from conexoos.framework.http_errors import http_error_answer
from conexoos.framework.request_size import is_generic_too_large, log_over_request_limit, over_request_limit
from conexoos.framework.wording import MEGABYTE, human_size


def too_large_form(error: RequestEntityTooLarge, *, form: str, field: str, page: str, label: str) -> Any:
    """The 413 page of the form posted to the endpoint ``form``, over the request limit: ``field`` the
    image's name in words ("background image"), ``page`` the settings page's endpoint and ``label`` its
    name ("Appearance"). Any other 413 (another endpoint, JSON, a form's field or part limits, one raised
    with its own words, nobody logged in) is the framework's."""
    limit = request.max_content_length
    applies = request.endpoint == form and current_user.is_authenticated and not wants_json()
    if limit is None or not applies or not is_generic_too_large(error) or not over_request_limit():
        return http_error_answer(error)
    log_over_request_limit()
    message = (
        f"The {field} you chose is too large to send: this site takes at most {human_size(limit)} in one "
        f"form{_sent_size(limit)}. An image may be at most {human_size(MAX_UPLOAD_BYTES)}. Nothing was "
        f"saved: your {label.lower()} settings are as they were, and the changes you made on the form were "
        "lost. Choose a smaller image, make your changes again and save."
    )
    next_step = {"url": url_for(page), "label": f"Back to your {label.lower()} settings"}
    page_html = render_template(
        "errors/error.html", status=413, title=error.name, message=message, next_step=next_step
    )
    return page_html, 413


def _sent_size(limit: int) -> str:
    """``, and with it this one came to about 23 MB`` when the size sent, in whole megabytes, is over the
    limit said (a chunked body's is not known, a size just over it would read as the limit itself)."""
    length = request.content_length
    if length is None or round(length / MEGABYTE) * MEGABYTE <= limit:
        return ""
    return f", and with it this one came to about {round(length / MEGABYTE)} MB"
