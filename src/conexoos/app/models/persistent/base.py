"""CRUD shared by every entity: each write in its own transaction, rolled back on failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Table, event
from sqlalchemy.engine import Connection

from conexoos.framework import db

NEVER_REUSE_IDS_INFO = "never_reuse_ids"
NEVER_REUSE_IDS = {"info": {NEVER_REUSE_IDS_INFO: True}}
"""Table options: SQLite, like PostgreSQL and MariaDB, never gives a deleted row's id to a new row, so an
old ``/go/<id>`` URL or statistics kept by id can never point at someone else's item.

Said in the table's ``info`` and turned into SQLite's ``AUTOINCREMENT`` when the table is created there
(:func:`_autoincrement_on_sqlite`): the ``sqlite_autoincrement`` option itself would make every process
import SQLAlchemy's SQLite dialect (0.4 MiB) to check it, a server on PostgreSQL or MariaDB included.
The migrations, which create the tables of a real database, say ``sqlite_autoincrement`` themselves."""


@event.listens_for(Table, "before_create")
def _autoincrement_on_sqlite(table: Table, connection: Connection, **_: object) -> None:
    """Ask SQLite for ``AUTOINCREMENT`` on a table created from the models (``create_all``) whose options
    are :data:`NEVER_REUSE_IDS`."""
    if connection.dialect.name == "sqlite" and table.info.get(NEVER_REUSE_IDS_INFO):
        table.dialect_options["sqlite"]["autoincrement"] = True


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
