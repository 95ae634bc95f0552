"""A TLS handshake that fails under gevent workers is one log line, not a traceback, and one that does not
end is given up at the request head's deadline.

With ``SERVER_ENV.SSL``, gunicorn's gevent worker has gevent's ``StreamServer`` wrap each connection
before gunicorn sees it. A client that speaks plain HTTP to the port, rejects the certificate, or connects
and leaves raises in that wrap, and gevent prints the whole traceback and a "Greenlet ... failed" line:
every scanner on the internet filled the journal, 17 lines at a time. Here the failure is logged once,
at INFO, with the client's address and the reason, and the connection is closed.
"""

from __future__ import annotations

import logging
import socket
import ssl
from contextlib import closing
from typing import Any

from gevent.server import StreamServer

log = logging.getLogger("conexoos.serve")


class QuietHandshakeServer(StreamServer):
    """gevent's ``StreamServer``, but a failed TLS handshake is a line in the log, and a handshake must end
    within :attr:`handshake_timeout` seconds (a client that sends nothing held its connection forever)."""

    handshake_timeout = 10.0

    def wrap_socket_and_handle(self, client_socket: socket.socket, address: Any) -> Any:
        client_socket.settimeout(self.handshake_timeout)
        try:
            secured = self.wrap_socket(client_socket, **self.ssl_args)
        except (ssl.SSLError, OSError) as error:  # a timeout is an OSError too
            log.info("TLS handshake with %s failed: %s", _client(address), _reason(error))
            client_socket.close()
            return None
        secured.settimeout(None)  # from here on, gunicorn's own deadlines apply
        with closing(secured):
            return self.handle(secured, address)


def use_quiet_handshakes(worker: Any) -> None:
    """Make the gevent worker ``worker`` (in its own process, before it serves) build its servers with
    :class:`QuietHandshakeServer`, the handshake held to the request head's deadline
    (``SERVER_ENV.HEADER_TIMEOUT``, gunicorn's ``keepalive``); other workers are left as they are."""
    from gunicorn.workers import ggevent

    if isinstance(worker, ggevent.GeventWorker):
        QuietHandshakeServer.handshake_timeout = float(worker.cfg.keepalive)
        ggevent.StreamServer = QuietHandshakeServer


def _client(address: Any) -> str:
    return str(address[0]) if isinstance(address, tuple) and address else str(address)


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
    return str(reason or type(error).__name__)
