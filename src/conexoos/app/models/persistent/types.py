"""Column types that behave the same on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, bindparam
from sqlalchemy.types import TypeDecorator

from conexoos.framework.mariadb_types import CollatedString

EXACT_COLLATION = "utf8mb4_nopad_bin"
"""MariaDB's collation that compares code points and keeps trailing spaces (``utf8mb4_bin`` pads them)."""


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC datetimes (SQLite and MariaDB keep no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def exact_string(length: int) -> CollatedString:
    """A VARCHAR whose comparisons, GROUP BY and unique keys tell ``Promo``, ``promo`` and ``Prómo`` apart.

    SQLite (BINARY) and PostgreSQL (deterministic collations) already compare exactly; MariaDB's default
    ``utf8mb4_general_ci`` would not, so there the column gets a binary, no-pad collation.
    """
    return CollatedString(length, mariadb_charset="utf8mb4", mariadb_collation=EXACT_COLLATION)


NOW = bindparam("now", type_=UTCDateTime())
"""The bound parameter ``:now`` (an aware datetime) of statements built once per process."""
