"""Two request headers Werkzeug reads against RFC 9110, put right before any view or fast path sees them:

- a ``Range`` in a unit other than bytes is ignored, as a server must (14.2): the whole representation is
  sent. Werkzeug answered it with a 416 (Range Not Satisfiable), which told a client that sent
  ``Range: items=0-9`` that the file could not be had at all;
- ``If-Match: *`` on a GET or HEAD is true of anything that exists (13.1.1), so it is dropped: Werkzeug
  compared ``*`` as if it were an entity tag, found no match and answered 412 (Precondition Failed) for
  every page and file. A resource that does not exist is still a 404 (preconditions are not evaluated
  for it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

UNDERSTOOD_UNIT = "bytes"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def install_conditional_requests(app: Flask) -> None:
    """Drop a ``Range`` whose unit is not ``bytes`` (in any case), and ``If-Match: *`` on GET and HEAD."""
    inner: WSGIApplication = app.wsgi_app

    def as_rfc_9110_reads(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        asked = environ.get("HTTP_RANGE")
        if asked is not None and asked.partition("=")[0].strip().lower() != UNDERSTOOD_UNIT:
            del environ["HTTP_RANGE"]
        if_match = environ.get("HTTP_IF_MATCH")
        if if_match is not None and if_match.strip() == "*" and environ.get("REQUEST_METHOD") in SAFE_METHODS:
            del environ["HTTP_IF_MATCH"]
        return inner(environ, start_response)

    app.wsgi_app = as_rfc_9110_reads  # type: ignore[method-assign]
