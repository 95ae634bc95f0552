"""Werkzeug's development server under ``conexoos run`` (DEV) and the end of a WebSocket.

Under Werkzeug's development server a WebSocket (simple-websocket, Socket.IO's threading mode) takes the
TCP connection over; when it closes, Engine.IO raises ``ConnectionError`` on purpose: the server's own
handler reads that as "the client went away" and ends the request quietly. Werkzeug's debugger wraps the
whole app, takes that ``ConnectionError`` for the app's error, and wrote a traceback and a 500 for every
closed socket (Flask-SocketIO puts the debugger inside its middleware only in its other async modes):
:func:`debug_all_but_websockets` leaves a WebSocket out of it.

The request ended so, Werkzeug's handler then waited on the same connection for another HTTP request, as
for any HTTP/1.1 one: the 101 was written by simple-websocket, not through Werkzeug, so nothing had told
it ``Connection: close``. The bytes the client still sent after the WebSocket's last frame read (its answer
to the server's close frame, a frame in flight, or the close frame itself when simple-websocket's reader
had stopped first) were parsed as a request line: "Bad request syntax" and a 400 written into the
WebSocket's stream, and the connection held open until the client gave up.
:class:`ClosingAfterWebSocket` closes it instead, as RFC 6455 has the server do (7.1.1).
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.debug import DebuggedApplication
from werkzeug.serving import WSGIRequestHandler

from .logs import log_redactor, logged_target

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

LEFTOVER_WAIT_SECONDS = 0.01
"""How long to wait for each further piece the client sends after its WebSocket, as Werkzeug waits after a
request's body."""
LEFTOVER_READS = 100
"""The most reads of such leftovers before the connection is closed anyway."""


def debug_all_but_websockets(app: Flask, evalex: bool) -> None:
    """Put Werkzeug's debugger (``evalex``: its console) around ``app``'s requests, a WebSocket upgrade's
    excepted; the development server must then be started without its own (``use_debugger=False``)."""
    inner: WSGIApplication = app.wsgi_app
    # The PIN guards only the console: without it (``evalex`` false) there is no PIN to print nor ask for.
    debugged = DebuggedApplication(inner, evalex=evalex, pin_security=evalex)

    def debugged_unless_websocket(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if is_websocket(environ):
            return inner(environ, start_response)  # its end (ConnectionError) is the server's to read
        return debugged(environ, start_response)

    app.wsgi_app = debugged_unless_websocket  # type: ignore[method-assign]


def is_websocket(environ: WSGIEnvironment) -> bool:
    """Whether the request asks to become a WebSocket (``Upgrade: websocket``)."""
    return str(environ.get("HTTP_UPGRADE", "")).lower() == "websocket"


class ClosingAfterWebSocket(WSGIRequestHandler):
    """Werkzeug's request handler, but a connection that was a WebSocket is closed when the WebSocket ends
    (what the client still sends is read and dropped first), never read for another HTTP request."""

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            if is_websocket(getattr(self, "environ", {})):
                self.close_connection = True
                self._drop_leftovers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Werkzeug's access line, with the path the app's access log writes (a one-time link's token left
        out) and the secrets of its query hidden as the app's log hides them."""
        target = logged_target(getattr(self, "environ", {}))
        if hasattr(self, "path"):  # not when the request line could not be read
            self.path = log_redactor().in_url(target if target is not None else self.path)
        super().log_request(code, size)

    def _drop_leftovers(self) -> None:
        """Read what the client sends within :data:`LEFTOVER_WAIT_SECONDS` of the last piece: closing with
        bytes unread would reset the connection (a TCP RST) instead of ending it. Never blocks: the
        WebSocket's own reader may still take a piece first."""
        dont_wait = getattr(socket, "MSG_DONTWAIT", 0)
        if not dont_wait:  # no such flag (Windows): a read could block, so none
            return
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            for _ in range(LEFTOVER_READS):
                if not selector.select(timeout=LEFTOVER_WAIT_SECONDS):
                    return
                try:
                    if not self.connection.recv(65536, dont_wait):
                        return  # the client closed its side
                except BlockingIOError:
                    continue  # the WebSocket's reader took it
                except (OSError, ValueError):  # already closed; or TLS, which takes no flags
                    return
