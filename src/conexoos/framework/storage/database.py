"""``database``: files as rows of a ``media_file`` table on the default database connection.

Every host that shares the database sees every file, with no other server to run. A project opts in by
declaring the table with the columns of :class:`MediaFileColumns` (the product does, in
``models/persistent/media_file.py``, with its migration), so it is part of the project's schema history.

Each write runs in its own short transaction on its own connection, committed before the caller stores the
name anywhere: a row that names a file is only ever written after the file exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, String, Table, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db
from ..mariadb_types import CollatedString, LongBlob
from .base import FileMissing, Storage, StorageError, StorageFull, StoredFile, check_name, describe

MEDIA_TABLE = "media_file"
BLOB = LongBlob()
"""BYTEA on PostgreSQL, BLOB on SQLite, LONGBLOB on MariaDB (whose plain BLOB stops at 64 KB)."""
NAME = CollatedString(255, mariadb_charset="ascii", mariadb_collation="ascii_bin")
"""Names are ASCII (see ``check_name``) and compared exactly: MariaDB's default collation would make
``a.webp`` and ``A.webp`` one row."""
_FULL_MESSAGES = re.compile(
    r"database or disk is full|disk is full|no space left on device|could not extend file|table .* is full",
    re.IGNORECASE,
)
_FULL_SQLSTATES = frozenset({"53100"})  # PostgreSQL disk_full
_FULL_MYSQL_CODES = frozenset({1021, 1114})  # ER_DISK_FULL, ER_RECORD_FILE_FULL


class MediaFileColumns:
    """The ``media_file`` table's columns; declare ``class MediaFile(MediaFileColumns, db.Model)``."""

    __tablename__ = MEDIA_TABLE

    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    data: Mapped[bytes] = mapped_column(BLOB, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    """Naive UTC."""


def is_database_full(error: BaseException) -> bool:
    """Whether a database error says the database (or its disk) is full, on SQLite, PostgreSQL or MariaDB."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if getattr(original, "sqlstate", None) in _FULL_SQLSTATES:
        return True
    arguments = getattr(original, "args", ())
    if arguments and isinstance(arguments[0], int) and arguments[0] in _FULL_MYSQL_CODES:
        return True
    return bool(_FULL_MESSAGES.search(str(original)))


class DatabaseStorage(Storage):
    """Files as rows of ``media_file`` on the default connection (needs an app context)."""

    backend = "database"

    def save(self, name: str, data: bytes, content_type: str | None = None) -> StoredFile:
        """Replace the row of ``name`` in one transaction: the old file or the new one, never a part."""
        stored = describe(check_name(name), data, content_type)
        table = self._table()
        row = {
            "name": name,
            "content_type": stored.content_type,
            "data": data,
            "size": stored.size,
            "sha256": stored.sha256,
            "created_at": datetime.now(UTC).replace(tzinfo=None),
        }
        try:
            with self._engine().begin() as connection:
                connection.execute(delete(table).where(table.c.name == name))
                connection.execute(insert(table).values(**row))
        except DBAPIError as error:
            if is_database_full(error):
                raise StorageFull(f"database: {error.orig}") from error
            raise
        return stored

    def stat(self, name: str) -> StoredFile | None:
        """Size, hash and type from the row, without its bytes."""
        table = self._table()
        query = select(table.c.size, table.c.sha256, table.c.content_type).where(
            table.c.name == check_name(name)
        )
        with self._engine().connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else StoredFile(name, int(row.size), row.sha256, row.content_type)

    def read(self, name: str) -> bytes:
        """The row's bytes; FileMissing when there is no row."""
        table = self._table()
        with self._engine().connect() as connection:
            data = connection.scalar(select(table.c.data).where(table.c.name == check_name(name)))
        if data is None:
            raise FileMissing(name)
        return bytes(data)

    def delete(self, name: str) -> None:
        """Delete the row if there is one."""
        table = self._table()
        with self._engine().begin() as connection:
            connection.execute(delete(table).where(table.c.name == check_name(name)))

    def names(self) -> Iterator[str]:
        """Every stored name, in name order (read in one query: names are short)."""
        table = self._table()
        with self._engine().connect() as connection:
            found = list(connection.scalars(select(table.c.name).order_by(table.c.name)))
        yield from found

    def describe(self) -> str:
        """The table and the default connection."""
        return f"database table {MEDIA_TABLE} on the default connection"

    def _engine(self) -> Engine:
        return db.engine

    def _table(self) -> Table:
        table = db.metadatas.get(None) and db.metadatas[None].tables.get(MEDIA_TABLE)
        if not isinstance(table, Table):
            raise StorageError(
                f"SERVER_ENV.MEDIA.BACKEND: database needs a {MEDIA_TABLE} table on the default connection; "
                "declare `class MediaFile(MediaFileColumns, db.Model)` (conexoos.framework.storage) in the "
                "project's models, or choose another backend"
            )
        return table
