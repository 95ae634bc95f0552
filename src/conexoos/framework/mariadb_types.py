"""Column types whose MariaDB (and MySQL) form differs from the generic one, written without SQLAlchemy's
MySQL dialect: importing it (13 modules, about 1.2 MiB and 10 ms) is left to a process that connects to
MariaDB.

Each type is the generic one everywhere; on ``mysql`` and ``mariadb`` its DDL names the wider or exact type
(what ``String().with_variant(mysql.VARCHAR(...), "mysql", "mariadb")`` wrote). Values are bound and read
as the generic type's, which is what the MySQL drivers do with those types too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.ext.compiler import compiles

MARIADB_DIALECTS = ("mysql", "mariadb")


class MediumText(Text):
    """TEXT on SQLite and PostgreSQL; MEDIUMTEXT (16 MiB) on MariaDB, whose TEXT stops at 64 KiB."""

    cache_ok = True


class LongBlob(LargeBinary):
    """BYTEA on PostgreSQL, BLOB on SQLite; LONGBLOB on MariaDB, whose BLOB stops at 64 KiB."""

    cache_ok = True


class CollatedString(String):
    """A VARCHAR; on MariaDB with its own character set and collation (``String(collation=...)`` would
    name the collation on every backend)."""

    cache_ok = True

    def __init__(self, length: int, mariadb_charset: str, mariadb_collation: str) -> None:
        super().__init__(length)  # SQLAlchemy copies a type by its arguments named as its attributes
        self.mariadb_charset = mariadb_charset
        self.mariadb_collation = mariadb_collation


@compiles(MediumText, *MARIADB_DIALECTS)
def _medium_text(_type: MediumText, _compiler: Any, **_kw: Any) -> str:
    return "MEDIUMTEXT"


@compiles(LongBlob, *MARIADB_DIALECTS)
def _long_blob(_type: LongBlob, _compiler: Any, **_kw: Any) -> str:
    return "LONGBLOB"


@compiles(CollatedString, *MARIADB_DIALECTS)
def _collated_string(type_: CollatedString, _compiler: Any, **_kw: Any) -> str:
    return f"VARCHAR({type_.length}) CHARACTER SET {type_.mariadb_charset} COLLATE {type_.mariadb_collation}"
