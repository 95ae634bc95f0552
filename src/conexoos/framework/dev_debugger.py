"""Werkzeug's debugger under ``conexoos run`` (DEV), around every request but a WebSocket's.

Under Werkzeug's development server a WebSocket (simple-websocket, Socket.IO's threading mode) takes the
TCP connection over; when it closes, Engine.IO raises ``ConnectionError`` on purpose: the server's own
handler reads that as "the client went away" and ends the request quietly. Werkzeug's debugger wraps the
whole app, takes that ``ConnectionError`` for the app's error, and wrote a traceback and a 500 for every
closed socket (Flask-SocketIO puts the debugger inside its middleware only in its other async modes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.debug import DebuggedApplication

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def debug_all_but_websockets(app: Flask, evalex: bool) -> None:
    """Put Werkzeug's debugger (``evalex``: its console) around ``app``'s requests, a WebSocket upgrade's
    excepted; the development server must then be started without its own (``use_debugger=False``)."""
    inner: WSGIApplication = app.wsgi_app
    debugged = DebuggedApplication(inner, evalex=evalex)

    def debugged_unless_websocket(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return inner(environ, start_response)  # its end (ConnectionError) is the server's to read
        return debugged(environ, start_response)

    app.wsgi_app = debugged_unless_websocket  # type: ignore[method-assign]
