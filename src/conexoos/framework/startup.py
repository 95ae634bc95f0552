"""Waiting for the databases at start-up: ``conexoos run`` and ``serve`` begin only once each answers.

A database server that starts with the app (a container, a host booting) is waited for with back-off, up to
``SERVER_ENV.STARTUP_WAIT`` seconds (by default 30 under UAT and PROD, 5 under DEV), with one log line per
retry. What waiting cannot mend (a wrong password, a database that does not exist) ends start-up at once.
Either way the command ends with one ``database error:`` line naming the connection and the cause
(exit status 2).

SQLite is never waited for: it is a file, there is no server to come up. Redis and memcached are not
waited for either: without them the app still serves its public pages (see ``sessions.py``).
"""

from __future__ import annotations

import logging
import math
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .config import DatabaseSettings, Settings
from .database import connect_timeout_args
from .database_errors import connection_label, database_cause, describe_connection_error
from .errors import ConexoosError

DEFAULT_WAIT = {"DEV": 5, "UAT": 30, "PROD": 30}
"""Seconds waited for a database when ``SERVER_ENV.STARTUP_WAIT`` is null."""
FIRST_DELAYS = (0.5, 1.0, 2.0)
"""Seconds before the second, third and fourth attempts (as the README says); then LONGEST_DELAY."""
LONGEST_DELAY = 5.0
CONNECT_TIMEOUT = 5
"""Seconds one attempt may take (a frozen server or a dropped packet must not stall the wait)."""
log = logging.getLogger("conexoos.startup")


class DatabaseUnavailable(ConexoosError):
    """A database did not accept a connection at start-up; the message is the one line to show."""


def startup_wait(settings: Settings) -> int:
    """Seconds to wait for each database: ``SERVER_ENV.STARTUP_WAIT``, or the default of the ENV."""
    configured = settings.server.get("STARTUP_WAIT")
    return DEFAULT_WAIT.get(settings.env, 30) if configured is None else int(configured)


def wait_for_databases(settings: Settings) -> None:
    """Return once every configured database server accepts a connection, and every existing SQLite file is
    a database this process can write (unless readonly); else raise :class:`DatabaseUnavailable` (at once
    for a lasting cause, after ``startup_wait`` seconds otherwise)."""
    deadline = time.monotonic() + startup_wait(settings)
    for database in settings.databases.values():
        if database.url.get_backend_name() != "sqlite":
            _wait_for(database, deadline)
            continue
        from .sqlite_files import sqlite_file_problem  # here: sqlite3 (1 MiB) is no PostgreSQL worker's

        problem = sqlite_file_problem(database)  # a lasting cause: no wait mends it
        if problem:
            raise DatabaseUnavailable(f"{connection_label(database.url, database.name)}: {problem}")


def _wait_for(database: DatabaseSettings, deadline: float) -> None:
    attempt = 0
    waited_from = time.monotonic()
    while True:
        error = try_connection(database.url, _attempt_timeout(deadline))
        if error is None:
            if attempt:
                log.info("database %r answers after %.0f s", database.name, time.monotonic() - waited_from)
            return
        line = describe_connection_error(error, database.url, database.name)
        left = deadline - time.monotonic()
        if database_cause(error).lasting:
            raise DatabaseUnavailable(line) from error
        if left <= 0:
            waited = time.monotonic() - waited_from
            raise DatabaseUnavailable(f"{line}; gave up after waiting {waited:.0f} s") from error
        attempt += 1
        delay = min(retry_delay(attempt), left)
        log.warning(
            "waiting for the database: %s; attempt %d failed, next in %.1f s (%.0f s left of "
            "SERVER_ENV.STARTUP_WAIT)",
            line,
            attempt,
            delay,
            left,
        )
        time.sleep(delay)


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (from 1): 0.5, 1, 2, then 5 each time."""
    return FIRST_DELAYS[attempt - 1] if attempt <= len(FIRST_DELAYS) else LONGEST_DELAY


def try_connection(url: URL, timeout: int = CONNECT_TIMEOUT) -> DBAPIError | None:
    """Connect to ``url`` once and run ``SELECT 1``; None when that worked, else the driver's error."""
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_timeout_args(url, timeout))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        return error
    finally:
        engine.dispose()
    return None


def _attempt_timeout(deadline: float) -> int:
    # libpq refuses a connect_timeout under 2 s.
    return max(2, min(CONNECT_TIMEOUT, math.ceil(deadline - time.monotonic())))
