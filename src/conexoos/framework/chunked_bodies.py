"""Request bodies sent without a length (``Transfer-Encoding: chunked``) are held to ``MAX_CONTENT_LENGTH``.

Werkzeug refuses a body whose ``Content-Length`` is over the limit, but reads a chunked one only up to the
limit and stops there without a word: a 30 MB chunked form arrived as its first 16 MB, handled as if whole.
Here such a body is read before the app sees it, up to one byte past the limit, into a temporary file
(in memory while small): over the limit, the request is answered by Flask's 413 ("larger than ..., the most
this site accepts in one request"); within it, the app reads it as a body of that length. A chunked body
the server cannot read (Werkzeug's development server raises OSError on a bad chunk size or a chunk
extension it does not parse) is a 400 saying so, not a 500.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, BinaryIO

from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

TOO_LARGE = "conexoos.body_too_large"
"""The environ key saying the chunked body went over the limit (the app answers 413)."""
UNREADABLE = "conexoos.body_unreadable"
"""The environ key holding why the chunked body could not be read (the app answers 400)."""
IN_MEMORY = 1024 * 1024
"""Bytes of a held body kept in memory before it spills to a temporary file."""
READ_SIZE = 64 * 1024


def install_chunked_limit(app: Flask) -> None:
    """Hold chunked bodies to the app's ``MAX_CONTENT_LENGTH`` (read when the request comes)."""
    inner: WSGIApplication = app.wsgi_app

    def held(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and _unmeasured_body(environ):
            _hold(environ, int(limit))
        return inner(environ, start_response)

    app.wsgi_app = held  # type: ignore[method-assign]
    app.before_request(_refuse_too_large)


def _unmeasured_body(environ: WSGIEnvironment) -> bool:
    """Whether the request's body comes chunked, without a ``Content-Length`` (the server ends it)."""
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get(
        "CONTENT_LENGTH"
    )


def _hold(environ: WSGIEnvironment, limit: int) -> None:
    """Read the body up to ``limit`` + 1 bytes; give the app it as a body of that length, or mark it too
    large or unreadable (with an empty body)."""
    kept = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 (the request's input now)
    try:
        size = _copy(environ["wsgi.input"], kept, limit + 1)
    except OSError as error:  # the server's reading of the chunks failed
        environ[UNREADABLE] = str(error)
        size = 0
    if size > limit:  # the length said is over the limit (Werkzeug's 413 says which)
        environ[TOO_LARGE] = True
    if size > limit or UNREADABLE in environ:  # nothing of it kept
        kept.close()
        kept = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
    kept.seek(0)
    environ["wsgi.input"] = kept
    environ["CONTENT_LENGTH"] = str(size)
    environ.pop("HTTP_TRANSFER_ENCODING", None)


def _copy(source: BinaryIO, kept: IO[bytes], most: int) -> int:
    """Copy at most ``most`` bytes of ``source`` into ``kept``; how many were copied."""
    size = 0
    while size < most:
        chunk = source.read(min(READ_SIZE, most - size))
        if not chunk:
            break
        kept.write(chunk)
        size += len(chunk)
    return size


def _refuse_too_large() -> None:
    if UNREADABLE in request.environ:
        raise BadRequest(
            f"The request body's chunked encoding could not be read ({request.environ[UNREADABLE]}): send "
            "it with a Content-Length, or as plain chunks without extensions or trailers."
        )
    if request.environ.get(TOO_LARGE):
        raise RequestEntityTooLarge()


__all__ = ["install_chunked_limit"]
