"""What a 413 says: which limit the request went over, in plain words, read from the configuration.

Werkzeug refuses a body over ``MAX_CONTENT_LENGTH`` (a whole request) and a form over
``MAX_FORM_MEMORY_SIZE`` (one field that is not a file) or ``MAX_FORM_PARTS`` with the same
:class:`~werkzeug.exceptions.RequestEntityTooLarge` and a generic sentence; this says the limit instead,
in words for the person who sent it (a creator has no use for a setting's name: the operator's log names
it).
"""

from __future__ import annotations

import logging

from flask import request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .wording import human_size

log = logging.getLogger("conexoos.http_errors")


def file_input_limit() -> dict[str, str]:
    """The attributes telling a file input how large a request may be (``data-max-bytes`` and, in words,
    ``data-max-size``), for ``static/js/file_size.js`` to refuse a larger file before the form is sent and
    what was typed on it is lost to a 413 page; none when requests are unlimited."""
    limit = request.max_content_length
    if limit is None:
        return {}
    return {"data-max-bytes": str(limit), "data-max-size": human_size(limit)}


def is_generic_too_large(error: HTTPException) -> bool:
    """Whether ``error`` is Werkzeug's own 413, not one raised with a message of its own."""
    return isinstance(error, RequestEntityTooLarge) and error.description == RequestEntityTooLarge.description


def over_request_limit() -> bool:
    """Whether the current request is over ``MAX_CONTENT_LENGTH`` (a chunked one, without a length, only
    reaches a 413 that way), rather than over the form's field or part limits."""
    limit = request.max_content_length
    length = request.content_length
    return limit is not None and (length is None or length > limit)


def log_over_request_limit() -> None:
    """Tell the operator which setting refused the current request (the page does not name it)."""
    length = request.content_length
    log.info(
        "413: %s %s sent %s bytes, over MAX_CONTENT_LENGTH (%d bytes)",
        request.method,
        request.path,
        "an unmeasured number of" if length is None else length,
        request.max_content_length,
    )


def too_large_message() -> str:
    """The sentence for the current request's 413: the request limit, or the form's field and part limits."""
    limit = request.max_content_length
    if limit is not None and over_request_limit():
        log_over_request_limit()
        return (
            f"The request is larger than {human_size(limit)}, the most this site accepts in one request. "
            "Send a smaller file."
        )
    field_limit, part_limit = request.max_form_memory_size, request.max_form_parts
    field = f"larger than {human_size(field_limit)}" if field_limit is not None else "too large"
    parts = f"more than {part_limit:,} parts" if part_limit is not None else "too many parts"
    return (
        f"A field of this form is {field}, or the form has {parts}: more than this site accepts in one "
        "form. Shorten the text or send fewer fields."
    )
