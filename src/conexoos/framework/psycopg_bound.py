"""A psycopg connection whose waits for the server are bounded in web requests (see database_timeouts.py).

Its own module, imported only when a PostgreSQL engine is created: psycopg is not loaded otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import has_request_context

from .database_timeouts import CANCEL_TIMEOUT

log = logging.getLogger("conexoos.database")


class RequestBoundConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits for the server are bounded while a web request is served.

    psycopg runs every exchange with the server through :meth:`wait` (with an optional ``timeout`` since
    psycopg 3.2); this supplies one inside a request. On expiry the connection's protocol state is unknown:
    it is closed, as psycopg itself does when a cancellation is not answered, and the error is an
    ``OperationalError`` on a closed connection, which SQLAlchemy treats as a disconnect (the pooled
    connection is replaced) and the app answers with a 503."""

    request_timeout: float = 0.0

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        bound = self.request_timeout if timeout is None and has_request_context() else 0.0
        if not bound:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, bound)
        except psycopg.errors._WaitTimeout:
            self._give_up()
            raise psycopg.OperationalError(
                f"the database server did not answer within {bound:g} s (request_timeout); "
                "the connection was closed"
            ) from None

    def _give_up(self) -> None:
        try:  # a runaway statement should not go on in the server; a frozen server will not hear this
            self.cancel_safe(timeout=CANCEL_TIMEOUT)
        except Exception as error:  # noqa: BLE001 (best effort: the connection is closed either way)
            log.info(
                "request_timeout: the statement could not be cancelled (%s)", " ".join(str(error).split())
            )
        self.pgconn.finish()
