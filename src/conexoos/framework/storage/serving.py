"""Answer a GET for a stored file: its bytes with a strong ETag and cache headers, or 304, or 404."""

from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import NotFound

from .base import FileMissing, InvalidName, Storage

ONE_YEAR = 365 * 24 * 3600
NOT_STORED = "There is no such file."


def send_stored(storage: Storage, name: str, max_age: int = ONE_YEAR, *, immutable: bool = True) -> Response:
    """The stored file ``name`` cached publicly for ``max_age`` seconds (``immutable``: its name never
    changes; False where a file may be taken down, which a cache must then ask about again); 304 when the
    client's ``If-None-Match`` names its ETag (the body is then never read); 404 for a name not stored or
    not valid."""
    try:
        stored = storage.stat(name)
    except InvalidName:
        raise NotFound(NOT_STORED) from None
    if stored is None:
        raise NotFound(NOT_STORED)
    if request.if_none_match.contains_weak(stored.etag):  # weakly, as If-None-Match is (RFC 9110 13.1.2)
        response = Response(status=304)
    else:
        try:
            body = storage.read(name)
        except FileMissing:  # deleted between the two calls
            raise NotFound(NOT_STORED) from None
        response = Response(body, mimetype=stored.content_type)
    response.set_etag(stored.etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}{', immutable' if immutable else ''}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
