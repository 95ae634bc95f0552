"""Reuse test databases on PostgreSQL and MariaDB instead of creating and dropping one per test.

Creating a database, creating the product's tables in it and dropping it again took about a second per
test on PostgreSQL; emptying the tables of a database that already has them takes tens of milliseconds
(more on MariaDB, which truncates each table whose id counter moved; see ``DatabasePool`` for how the
session's pool keeps that off the tests' time).
A database goes back to the pool only when its tables are exactly the models' tables (so the next
``create_all`` finds them all) and no migration was recorded in it, or when it has no table at all;
anything else is dropped.

The two kinds are handed out separately: a test that builds the schema itself (the migration tests, with
``make_app(schema=False)``) must get a database without any table. Given one holding the models' emptied
tables, ``upgrade(target, "0001")`` would find tables but no ``alembic_version``, adopt them as head (see
``framework.migrations.adopt_unversioned``) and migrate nothing: 0.1.0 rows would then be written into
the head schema, and the test would check the head schema against itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from .services import fresh_database

MIGRATION_TABLE = "alembic_version"


class DatabasePool:
    """Throw-away databases of one kind, emptied between tests.

    With ``spare=1`` (the session's pool) a released database is emptied in a thread of the pool's own
    while the next test runs on another one: the emptying waits on the server's disk (MariaDB makes a
    new file for each table it truncates), not on this process's processor, so the two overlap. The pool
    then holds one database more than the tests use at a time. With ``spare=0`` (the default) a test
    that finds no free database waits for the one being emptied, as if the emptying were synchronous.
    An error of the emptying is raised by the next ``acquire`` or by ``close``.
    """

    def __init__(self, kind: str, spare: int = 0) -> None:
        self.kind = kind
        self.spare = spare
        self._free: list[str] = []
        """Databases holding the models' tables, emptied."""
        self._blank: list[str] = []
        """Databases holding no table."""
        self._owners: dict[str, ExitStack] = {}
        self._engines: dict[str, Engine] = {}
        """One engine per database, kept: a new connection per release cost more than the emptying."""
        self._holding: dict[str, frozenset[str]] = {}
        """The tables each free database holds."""
        self._lock = threading.Lock()
        self._emptier = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{kind}-pool-emptier")
        self._emptying: list[Future[None]] = []

    def acquire(self, tables: bool = True) -> str:
        """The URL of a database without rows (reused when one is free, created otherwise).

        With ``tables`` it may hold the models' tables (emptied), for a test that runs ``create_all``;
        without, it holds no table at all, for a test that builds the schema by migrating.
        """
        while True:
            self._raise_errors()
            url = self._take(tables)
            if url is not None:
                return url
            waiting = [job for job in self._emptying if not job.done()]
            if len(waiting) <= self.spare:  # none, or fewer than the spares: make one
                break
            wait(waiting, return_when=FIRST_COMPLETED)
        owner = ExitStack()
        url = owner.enter_context(fresh_database(self.kind))
        with self._lock:
            self._owners[url] = owner
        return url

    def tables_in(self, url: str) -> frozenset[str]:
        """The tables a database held when it was handed out (none for a new one)."""
        with self._lock:
            return self._holding.get(url, frozenset())

    def release(self, url: str, model_tables: Iterable[str]) -> None:
        """Empty the database and keep it, or drop it when its tables are not exactly ``model_tables``
        (in the pool's thread: see the class)."""
        with self._lock:
            self._holding.pop(url, None)
        self._emptying.append(self._emptier.submit(self._empty_or_drop, url, frozenset(model_tables)))

    def close(self) -> None:
        """Drop every database of the pool."""
        self._emptier.shutdown(wait=True)
        self._raise_errors()
        for url in list(self._owners):
            self._drop(url)
        self._free.clear()
        self._blank.clear()
        self._holding.clear()

    def _take(self, tables: bool) -> str | None:
        with self._lock:
            if self._blank and not tables:
                return self._blank.pop()
            if tables and (self._free or self._blank):
                return (self._free or self._blank).pop()
            return None

    def _raise_errors(self) -> None:
        """Raise the error of an emptying that failed; forget the emptyings that are over."""
        finished = [job for job in self._emptying if job.done()]
        self._emptying = [job for job in self._emptying if not job.done()]
        for job in finished:
            job.result()

    def _empty_or_drop(self, url: str, model_tables: frozenset[str]) -> None:
        engine = self._engine(url)
        if _is_blank(engine):
            with self._lock:
                self._blank.append(url)
            return
        tables = frozenset(inspect(engine).get_table_names())
        reusable = tables == model_tables and MIGRATION_TABLE not in tables
        if reusable and not _has_extra_objects(engine):
            _empty(engine, sorted(tables))
            with self._lock:
                self._holding[url] = tables
                self._free.append(url)
            return
        self._drop(url)

    def _engine(self, url: str) -> Engine:
        if url not in self._engines:
            self._engines[url] = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)
        return self._engines[url]

    def _drop(self, url: str) -> None:
        engine = self._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        with self._lock:
            owner = self._owners.pop(url)
        owner.close()


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


BLANK = {
    "postgresql": (
        "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace)"
        " + (SELECT count(*) FROM pg_type WHERE typnamespace = current_schema()::regnamespace)"
        " + (SELECT count(*) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace)"
    ),
    "mysql": (
        "SELECT (SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE())"
        " + (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE())"
    ),
}
BLANK["mariadb"] = BLANK["mysql"]
"""Per dialect, a count of everything a schema holds (tables, views, sequences, types, functions)."""


def _is_blank(engine: Engine) -> bool:
    """Whether the database holds nothing at all: such a database goes to a test that migrates."""
    with engine.connect() as connection:
        return not connection.execute(text(BLANK[engine.dialect.name])).scalar()


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
            # One round trip. No FK triggers (replica role); only the counters that moved are reset, with
            # setval (ALTER SEQUENCE ... RESTART makes a new file for each, like TRUNCATE).
            deletes = "".join(f"DELETE FROM {quote(table)};" for table in tables)
            connection.exec_driver_sql(
                "SET LOCAL session_replication_role = replica;"
                + deletes
                + "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value,"
                " false) FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            )
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
