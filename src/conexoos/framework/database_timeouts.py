"""Bounded waits on a database server: opening a connection, getting one from the pool, a lock, and each
statement of a web request.

Without them one stuck server stops everything: a frozen PostgreSQL (SIGSTOP, a VM paused, a lost route)
still accepts TCP (the kernel answers for it), so a statement waits forever, each request holds its pooled
connection, and the pool runs dry for every other request and task. A row lock held by a forgotten
``psql`` session does the same to whatever needs that row.

- ``connect_timeout``: opening a connection (psycopg, PyMySQL).
- ``pool_timeout``: waiting for a free pooled connection (SQLAlchemy's default is 30 s).
- ``lock_timeout``: waiting for a lock, set on the server session of every connection (PostgreSQL
  ``lock_timeout``, MariaDB ``innodb_lock_wait_timeout``), for requests, tasks and commands alike: a lock
  wait that ends in an error is retried (a task) or answered 503 (a request) instead of piling up.
- ``request_timeout``: each statement run *for a web request* is bounded on the client side, so that a
  server that does not answer at all is noticed too (a server-side ``statement_timeout`` is never enforced
  by a frozen server). The connection is then dropped (its state is unknown) and the request answers 503.
  Scheduled tasks and commands are not bound by it: a roll-up of a long backlog or ``media migrate`` may
  legitimately run long, and they are bounded by ``lock_timeout`` and by the scheduler instead.

TCP keepalives and ``tcp_user_timeout`` (psycopg) make a connection whose peer vanished (a host gone, a
route dropped) fail within about half a minute instead of the kernel's 15 minutes.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from .config import DatabaseTimeouts
from .pool_liveness import checked_without_round_trip

KEEPALIVE_ARGS = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
TCP_USER_TIMEOUT_MS = 30_000
"""psycopg (libpq) only: probes after 30 s idle, then 3 every 10 s; unacknowledged data fails after 30 s."""
CANCEL_TIMEOUT = 1.0
"""Seconds spent asking the server to cancel a statement that overran ``request_timeout``."""


def engine_options(url: URL, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """SQLAlchemy ``create_engine`` options for a PostgreSQL or MySQL/MariaDB connection."""
    options: dict[str, Any] = {
        "pool_pre_ping": not checked_without_round_trip(url),  # else pool_liveness.py checks, for free
        "pool_recycle": 1800,
        "pool_timeout": timeouts.pool,
    }
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = timeouts.connect
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        connect_args.update({key: value for key, value in KEEPALIVE_ARGS.items() if key not in url.query})
        if "tcp_user_timeout" not in url.query:
            connect_args["tcp_user_timeout"] = TCP_USER_TIMEOUT_MS
    if connect_args:
        options["connect_args"] = connect_args
    return options


def lock_timeout_statement(dialect: str, seconds: int) -> str | None:
    """The statement that bounds lock waits on a new connection's server session, if the dialect has one."""
    if seconds <= 0:
        return None
    if dialect == "postgresql":
        return f"SET lock_timeout = '{int(seconds)}s'"
    if dialect in ("mysql", "mariadb"):
        return f"SET SESSION innodb_lock_wait_timeout = {int(seconds)}"
    return None


def bound_request_statements(engine: Engine, seconds: int) -> None:
    """Bound each statement run for a web request on ``engine`` to ``seconds`` (client side)."""
    if seconds <= 0:
        return
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "do_connect", _psycopg_connector(float(seconds)))
    elif engine.dialect.driver == "pymysql":
        event.listen(engine, "before_cursor_execute", _pymysql_bound(float(seconds)))
        # The pool's pre-ping (COM_PING) runs before any statement: a pooled connection keeps the bound
        # between uses, so that a ping to a frozen server is bounded too (a slow ping is a failed one).
        for name in ("connect", "checkin"):
            event.listen(engine, name, _pymysql_rest_bound(float(seconds)))


def _psycopg_connector(seconds: float) -> Any:
    # Imported here: an app on SQLite or MariaDB never loads psycopg (9 MiB per worker).
    from .psycopg_bound import RequestBoundConnection

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        connection = RequestBoundConnection.connect(*cargs, **cparams)
        connection.request_timeout = seconds
        return connection

    return connect


def _pymysql_bound(seconds: float) -> Any:
    """PyMySQL reads the server through a blocking socket with its own ``_read_timeout`` (it re-applies it
    before each packet): set before each statement, to ``seconds`` in a request and back to none elsewhere.
    On expiry PyMySQL raises "Lost connection" and closes the connection."""

    def before_execute(connection: Any, *_args: Any) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None:
            dbapi_connection._read_timeout = seconds if has_request_context() else None

    return before_execute


def _pymysql_rest_bound(seconds: float) -> Any:
    def bound(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection._read_timeout = seconds

    return bound
