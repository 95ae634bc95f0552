"""A ``Range`` in a unit other than bytes is ignored, as RFC 9110 (14.2) asks of a server: the whole
representation is sent. Werkzeug answered it with a 416 (Range Not Satisfiable), which told a client that
sent ``Range: items=0-9`` that the file could not be had at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

UNDERSTOOD_UNIT = "bytes"


def install_range_units(app: Flask) -> None:
    """Drop, before Flask reads it, a ``Range`` header whose unit is not ``bytes`` (in any case)."""
    inner: WSGIApplication = app.wsgi_app

    def bytes_ranges_only(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        asked = environ.get("HTTP_RANGE")
        if asked is not None and asked.partition("=")[0].strip().lower() != UNDERSTOOD_UNIT:
            del environ["HTTP_RANGE"]
        return inner(environ, start_response)

    app.wsgi_app = bytes_ranges_only  # type: ignore[method-assign]
