"""A request body that stops arriving is given up: a 408, and the connection closed.

Under gunicorn's gevent workers a request head must arrive within ``SERVER_ENV.HEADER_TIMEOUT`` (gunicorn's
``keepalive``), but the body was read with no deadline at all: a client that announced a length and sent
part of it held its connection and greenlet for as long as it liked, and ``WORKER_CONNECTIONS`` of them
stopped the worker. Here every piece of a body, up to :data:`PIECE` bytes as it is read, must arrive
within ``SERVER_ENV.BODY_TIMEOUT`` seconds: a body slower than about ``PIECE / BODY_TIMEOUT`` bytes a
second (1 KiB/s by default) is given up, however long it is, and an upload at any usable speed goes on.

The deadline is gevent's (a patched worker's reads wait in gevent's hub), so it is installed in gevent
workers only (``serve.post_worker_init``); ``conexoos run`` and the threaded workers read as before.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, BinaryIO

import gevent
from flask import Flask
from werkzeug.exceptions import RequestTimeout
from werkzeug.wsgi import ClosingIterator

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PIECE = 64 * 1024
"""The most bytes of a body one deadline covers (Werkzeug's form parser reads in pieces of this size)."""


class BodyTimeout(RequestTimeout):
    """A piece of the request body did not arrive in time."""


class TimedInput:
    """``wsgi.input`` whose every read gets :data:`PIECE` bytes (or the end) within ``seconds``, or raises
    :class:`BodyTimeout`."""

    def __init__(self, stream: BinaryIO, seconds: float) -> None:
        self._stream = stream
        self._seconds = seconds
        self.timed_out = False

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None else size
        pieces: list[bytes] = []
        while wanted < 0 or wanted > 0:
            piece = self._timed(self._stream.read, PIECE if wanted < 0 else min(wanted, PIECE))
            if not piece:
                break
            pieces.append(piece)
            wanted -= len(piece) if wanted > 0 else 0
        return b"".join(pieces)

    def readline(self, size: int | None = -1) -> bytes:
        limit = PIECE if size is None or size < 0 else min(size, PIECE)
        line: bytes = self._timed(self._stream.readline, limit)
        return line

    def __iter__(self) -> TimedInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _timed(self, read: Callable[[int], bytes], size: int) -> bytes:
        deadline = gevent.Timeout(self._seconds)
        deadline.start()
        try:
            return read(size)
        except gevent.Timeout as fired:
            if fired is not deadline:
                raise
            self.timed_out = True
            raise BodyTimeout(
                f"The request's body stopped arriving: no {PIECE // 1024} KiB of it came within "
                f"{self._seconds:g} seconds. Send it again."
            ) from None
        finally:
            deadline.close()


def time_request_bodies(app: Flask, seconds: float) -> None:
    """Hold every request body of ``app`` to the deadline, outermost (Socket.IO's long-polling POSTs too)."""
    inner: WSGIApplication = app.wsgi_app

    def timed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not _has_body(environ):
            return inner(environ, start_response)
        body = TimedInput(environ["wsgi.input"], seconds)
        environ["wsgi.input"] = body

        def starting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if body.timed_out:
                _announce_close(start_response)
            return start_response(status, headers, exc_info)

        try:
            answer = inner(environ, starting)
        except BodyTimeout as error:  # read before Flask (Engine.IO): answered here
            body.timed_out = True
            answer = error(environ, starting)
        if body.timed_out:  # the rest of the body will not come: the connection ends with the 408
            return ClosingIterator(answer, lambda: _end_connection(environ))
        return answer

    app.wsgi_app = timed  # type: ignore[method-assign]


def _has_body(environ: WSGIEnvironment) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or (length.isdigit() and int(length) > 0)


def _announce_close(start_response: StartResponse) -> None:
    """Have gunicorn say ``Connection: close`` on the 408, as the connection ends after it: it drops a
    ``Connection`` header the app sets, and its ``start_response`` is its answer's method, whose
    ``force_close`` makes it write that header (another server's ``start_response`` has none)."""
    answer = getattr(start_response, "__self__", None)
    force_close = getattr(answer, "force_close", None)
    if callable(force_close):
        force_close()


def _end_connection(environ: WSGIEnvironment) -> None:
    """End the connection once the 408 is written (gunicorn closes the answer's iterable after its last
    byte): gunicorn, which would read the rest of the body before the next request (up to its keepalive),
    finds the connection ended and closes it.

    The plain socket's ``shutdown``, also under TLS (``SERVER_ENV.SSL``): :class:`ssl.SSLSocket`'s own
    drops the TLS layer first, and when it was called before the 408, the 408 with the session's cookie
    went out in clear text.
    """
    connection: Any = environ.get("gunicorn.socket")
    if not isinstance(connection, socket.socket):
        return
    try:
        socket.socket.shutdown(connection, socket.SHUT_RDWR)
    except OSError:  # the client is gone already: nothing left to end
        return
