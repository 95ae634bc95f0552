"""Urlencoded form bodies must be UTF-8 text.

Werkzeug 3 decodes a percent-encoded byte that is no UTF-8 (``%FF``, or ``%ED%A0%80``, a lone surrogate)
back into its escape: a field sent as those bytes and one typed as the text ``%FF`` became the same
string, stored and shown as written. Here an urlencoded body holding such bytes is a 400 saying so,
before any view reads it. (A JSON body is the JSON reader's to refuse; Werkzeug decodes a multipart field
with replacement characters, which says nothing false. A query string is left to each view: most of it is
tracking data a page ignores when it is bad, and the views that read parameters name the one they refuse.)
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.exceptions import BadRequest

FORM = "application/x-www-form-urlencoded"
NOT_UTF8 = (
    "The form holds bytes that are not UTF-8 text (a percent-encoded byte such as %FF): send it again "
    "from the site's own page, or encode the text as UTF-8."
)


def install_utf8_input(app: Flask) -> None:
    """Refuse, before every view, an urlencoded form body that is not UTF-8."""
    app.before_request(refuse_undecodable_form)


def refuse_undecodable_form() -> None:
    """400 when the urlencoded body does not decode as UTF-8."""
    if request.mimetype == FORM and not _is_utf8(request.get_data(cache=True)):
        raise BadRequest(NOT_UTF8)


def _is_utf8(encoded: bytes) -> bool:
    """Whether ``encoded`` (``a=1&b=%C3%A9``) is UTF-8 text once percent-decoded."""
    if not encoded or (encoded.isascii() and b"%" not in encoded):
        return True  # the usual case, at C speed
    try:
        unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
