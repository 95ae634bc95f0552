"""Reuse test databases on PostgreSQL and MariaDB instead of creating and dropping one per test.

Creating a database, creating the product's tables in it and dropping it again took about a second per
test on PostgreSQL; emptying the tables of a database that already has them takes a few milliseconds.
A database goes back to the pool only when its tables are exactly the models' tables (so the next
``create_all`` finds them all) and no migration was recorded in it; anything else is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from .services import fresh_database

MIGRATION_TABLE = "alembic_version"


class DatabasePool:
    """Throw-away databases of one kind, emptied between tests."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._free: list[str] = []
        self._dropping = ExitStack()
        self._owners: dict[str, ExitStack] = {}

    def acquire(self) -> str:
        """The URL of an empty database (reused when one is free, created otherwise)."""
        if self._free:
            return self._free.pop()
        owner = ExitStack()
        url = owner.enter_context(fresh_database(self.kind))
        self._owners[url] = owner
        return url

    def release(self, url: str, model_tables: Iterable[str]) -> None:
        """Empty the database and keep it, or drop it when its tables are not exactly ``model_tables``."""
        engine = create_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
            reusable = tables == set(model_tables) and MIGRATION_TABLE not in tables
            if tables and reusable and not _has_extra_objects(engine):
                _empty(engine, sorted(tables))
                self._free.append(url)
                return
        finally:
            engine.dispose()
        if not tables:
            self._free.append(url)
            return
        self._owners.pop(url).close()

    def close(self) -> None:
        """Drop every database of the pool."""
        for owner in self._owners.values():
            owner.close()
        self._owners.clear()
        self._free.clear()


EXTRA_OBJECTS = {
    "postgresql": (
        "SELECT (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)"
        " + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        "    WHERE n.nspname = 'public')"
        " + (SELECT count(*) FROM pg_views WHERE schemaname = 'public')"
    ),
    "mysql": (
        "SELECT (SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE())"
        " + (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE())"
        " + (SELECT count(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE())"
    ),
}
EXTRA_OBJECTS["mariadb"] = EXTRA_OBJECTS["mysql"]
"""Per dialect, a count of what a test may have added besides rows (triggers, functions, views)."""


def _has_extra_objects(engine: Engine) -> bool:
    """Whether a test left triggers, functions or views behind: such a database is dropped, not reused."""
    with engine.connect() as connection:
        return bool(connection.execute(text(EXTRA_OBJECTS[engine.dialect.name])).scalar())


def _empty(engine: Engine, tables: list[str]) -> None:
    """Delete every row and restart the id counters, as in a new database.

    DELETE rather than TRUNCATE: on tables of a few rows it is ten times faster (TRUNCATE makes new files).
    """
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # no FK triggers
            for table in tables:
                connection.execute(text(f"DELETE FROM {quote(table)}"))
            sequences = connection.execute(text("SELECT sequencename FROM pg_sequences")).scalars()
            for sequence in list(sequences):
                connection.execute(text(f"ALTER SEQUENCE {quote(sequence)} RESTART"))
            return
        # MariaDB restarts a counter only by TRUNCATE or ALTER TABLE (both slow): do it where one moved.
        moved = set(
            connection.execute(
                text(
                    "SELECT TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT > 1"
                )
            ).scalars()
        )
        connection.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in tables:
            verb = "TRUNCATE TABLE" if table in moved else "DELETE FROM"
            connection.execute(text(f"{verb} {quote(table)}"))
        connection.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
