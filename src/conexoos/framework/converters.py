"""URL converters every project gets: ``<id:name>`` and ``<bigid:name>`` for database row ids."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

LARGEST_ID = 2**31 - 1
"""The largest value of SQLAlchemy's ``Integer``: a 32-bit INTEGER on PostgreSQL and MariaDB."""
LARGEST_BIG_ID = 2**63 - 1
"""The largest value of ``BigInteger`` (BIGINT; SQLite's INTEGER)."""


class IdConverter(IntegerConverter):
    """A positive integer an ``Integer`` id column can hold; anything else does not match: a 404.

    Werkzeug's ``int`` matches any number of digits, and a value the column cannot hold reaches the
    database, which raises (PostgreSQL: integer out of range; SQLite: ``OverflowError``) instead of
    finding no row. Leading zeros do not match either, so an item has one URL.
    """

    regex = r"[1-9][0-9]{0,18}"
    largest = LARGEST_ID

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=self.largest)


class BigIdConverter(IdConverter):
    """The same for ``BigInteger`` id columns."""

    largest = LARGEST_BIG_ID


def register_converters(app: Flask) -> None:
    """Add ``id`` and ``bigid`` to the app's URL converters (a project may still replace them)."""
    app.url_map.converters.setdefault("id", IdConverter)
    app.url_map.converters.setdefault("bigid", BigIdConverter)
