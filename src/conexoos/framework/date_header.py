"""One ``Date`` header per response under ``conexoos run``: the server's.

Werkzeug's development server writes a ``Date`` of its own before the app's headers, and Werkzeug's
``make_conditional`` (the public page's ETag, every static file) adds another: answers went out with two,
which HTTP forbids (RFC 9110 6.6.1: a sender must not send more than one). ``run`` has the app's dropped.
Gunicorn (``conexoos serve``) sends one already; under another WSGI server, which may write none, the
app's stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def leave_date_to_the_server(app: Flask) -> None:
    """Drop the ``Date`` headers ``app`` sets: the server that runs it writes its own."""
    inner: WSGIApplication = app.wsgi_app

    def dated_by_the_server(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "date"]
            return start_response(status, kept, exc_info)

        return inner(environ, start)

    app.wsgi_app = dated_by_the_server  # type: ignore[method-assign]
