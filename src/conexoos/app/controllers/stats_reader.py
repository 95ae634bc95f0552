"""Where the statistics are read from: the ``readonly`` connection (a read replica) when one is configured.

``DATABASE.readonly`` is an ordinary named connection (give it ``readonly: true`` so that the framework
refuses writes and never migrates it). When it exists, ``/api/stats`` and ``/api/stats.csv`` read the
rollups and the pending events there, so that reports, the heaviest reads, stay off the primary; the
owner's links and products (a few rows, and current) still come from the default connection. Without it,
everything is read from the default connection, as before. Nothing is ever written through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from conexoos.framework import db
from conexoos.framework.app import runtime

READONLY_CONNECTION = "readonly"
"""The name of the connection that statistics read when it is configured."""


def has_readonly_connection() -> bool:
    """Whether ``DATABASE.readonly`` is configured (and is not the default connection)."""
    database = runtime().settings.databases.get(READONLY_CONNECTION)
    return database is not None and not database.is_default


@contextmanager
def stats_session() -> Iterator[Session]:
    """A session for reading statistics: one on the ``readonly`` connection (closed afterwards), or the
    request's own session on the default connection."""
    if not has_readonly_connection():
        yield db.session()
        return
    session = Session(db.engines[READONLY_CONNECTION])
    try:
        yield session
    finally:
        session.close()
