"""A pooled PostgreSQL connection checked when it is taken from the pool, without a round trip.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` (after psycopg's implicit ``BEGIN``) every time a
connection leaves the pool: one round trip and the server's CPU for it on every request, a fifth of the
public page's exchanges with the server. What it guards against is a connection the server has ended
while it sat in the pool: a restart, a crash, ``pg_terminate_backend``. A server that ends a connection
says so (an error message, then it closes the socket), so a pooled connection, idle with nothing asked,
has something to read only when the server hung up, or in the rare case of an unprompted message (then it
is replaced as well, which costs a connect and nothing else). ``poll`` with no timeout sees that in one
system call, and the checkout listener replaces such a connection before anything uses it
(``DisconnectionError``: SQLAlchemy reconnects and retries the checkout), as the pre-ping did.

What neither sees is a server that vanished without a word (a host down, a route lost): the pre-ping's
``SELECT 1`` would have waited for it exactly as the first statement now does, bounded by
``request_timeout`` in a request and by TCP keepalives (``database_timeouts.py``).
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DisconnectionError

HUNG_UP = "the database server ended this pooled connection (a restart, or its backend was terminated)"


def checked_without_round_trip(url: URL) -> bool:
    """Whether connections of ``url`` are checked by :func:`check_on_checkout` instead of the pre-ping
    (psycopg: PostgreSQL's own driver here; MariaDB keeps the pre-ping, a ``COM_PING``)."""
    return url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"


def check_on_checkout(engine: Engine) -> None:
    """Replace a pooled connection the server has hung up on when ``engine``'s pool hands it out."""
    event.listen(engine, "checkout", _refuse_hung_up)


def _refuse_hung_up(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if dbapi_connection.closed or _has_input(dbapi_connection.fileno()):
        raise DisconnectionError(HUNG_UP)


def _has_input(descriptor: int) -> bool:
    """Whether the socket has bytes to read or was closed by its peer (POLLHUP, POLLERR come unasked)."""
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
