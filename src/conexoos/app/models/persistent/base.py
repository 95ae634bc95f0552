"""CRUD shared by every entity: each write in its own transaction, rolled back on failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from conexoos.framework import db

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
"""Table options: SQLite, like PostgreSQL and MariaDB, never gives a deleted row's id to a new row, so an
old ``/go/<id>`` URL or statistics kept by id can never point at someone else's item."""


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


@contextmanager
def transaction() -> Iterator[None]:
    """Commit what the block did, or roll all of it back and re-raise."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


class CrudMixin:
    """``save()`` and ``delete()`` as the seed's models have them, but errors are raised, not hidden."""

    def save(self) -> None:
        """Insert or update this row; on failure the session is rolled back and the error re-raised."""
        with transaction():
            db.session.add(self)

    def delete(self) -> None:
        """Delete this row; on failure the session is rolled back and the error re-raised."""
        with transaction():
            db.session.delete(self)
