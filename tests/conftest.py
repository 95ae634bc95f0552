"""Fixtures shared by every test: an app built by the real factory from a temporary configuration."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from conexoos.framework import create_app
from conexoos.framework.config import deep_merge
from conexoos.framework.database import create_schema, db
from tests.support.database_pool import DatabasePool
from tests.support.sqlite_templates import SchemaTemplates
from tests.support.url_builders import compile_url_builders_once

TEST_DATABASE = os.environ.get("CONEXOOS_TEST_DATABASE", "sqlite")
"""Which server the product tests marked ``database_matrix`` run on: sqlite, postgresql or mariadb."""

AppFactory = Callable[..., Flask]

compile_url_builders_once()  # three quarters of building an app, done once a run (see the module)


def base_overrides(tmp_path: Path, database_url: str | None = None) -> dict[str, Any]:
    """A configuration for tests: its own instance folder, and a fresh SQLite file unless told otherwise."""
    url = database_url or f"sqlite:///{tmp_path / 'test.db'}"
    return {
        "SERVER_ENV": {
            "ENV": "DEV",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "APP_KEY": "test-key-" + "x" * 40,
            "PUBLIC_URL": "http://localhost",  # Flask's test client's host, so absolute URLs read naturally
        },
        "DATABASE": {"default": "main", "main": {"url": url}},
        "FLASK": {"CONFIG": {"TESTING": True, "DEBUG": False}},
    }


def _no_fsync(connection: Any, record: Any) -> None:
    # A test database is thrown away: waiting for the disk on every commit only makes the run slow.
    connection.execute("PRAGMA synchronous = OFF")


def _holds_schema(app: Flask, ready: frozenset[str]) -> bool:
    """Whether the app's only connection is a pooled database already holding exactly its models' tables.

    ``create_all`` would then only ask the server about each table in turn (a tenth of a second on
    MariaDB), and create nothing.
    """
    with app.app_context():
        if list(db.metadatas) != [None] or len(app.extensions["conexoos"].settings.databases) != 1:
            return False
        return bool(ready) and ready == set(db.metadatas[None].tables)


@pytest.fixture(scope="session")
def database_pool() -> Iterator[DatabasePool | None]:
    """Reused databases on the server named by ``CONEXOOS_TEST_DATABASE`` (None for SQLite)."""
    if TEST_DATABASE == "sqlite":
        yield None
        return
    pool = DatabasePool(TEST_DATABASE, spare=1)  # a released database is emptied during the next test
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def schema_templates(tmp_path_factory: pytest.TempPathFactory) -> SchemaTemplates:
    """SQLite files holding the models' empty tables, copied into each test's new file (this process's)."""
    return SchemaTemplates(tmp_path_factory.mktemp("schema-templates"))


@pytest.fixture
def make_app(
    tmp_path: Path, database_pool: DatabasePool | None, schema_templates: SchemaTemplates
) -> Iterator[AppFactory]:
    """Build apps with the real factory; their tables are created and engines disposed after.

    Without ``database_url`` (and without ``config``), the default connection is a fresh SQLite file, or a
    database without rows from the pool of the server named by ``CONEXOOS_TEST_DATABASE`` (postgresql,
    mariadb). ``schema=False`` leaves the tables to the test (migrations): its database then has none.
    A SQLite file made here does not wait for the disk on commits (it is thrown away), and gets its
    tables as a copy of a file made once by ``create_all`` (``tests/support/sqlite_templates.py``).
    """
    built: list[Flask] = []
    pooled: dict[int, str] = {}

    def factory(
        project: Any = None,
        overrides: dict[str, Any] | None = None,
        config: Any = None,
        database_url: str | None = None,
        schema: bool = True,
    ) -> Flask:
        pooled_url = None
        throw_away_sqlite = database_url is None and config is None and database_pool is None
        new_file = throw_away_sqlite and not (tmp_path / "test.db").exists()  # no earlier app's rows
        if database_url is None and config is None and database_pool is not None:
            database_url = pooled_url = database_pool.acquire(tables=schema)
        merged = deep_merge(base_overrides(tmp_path, database_url), overrides or {})
        app = create_app(project, config, overrides=merged if config is None else overrides)
        if throw_away_sqlite:
            with app.app_context():
                event.listen(db.engine, "connect", _no_fsync)
        ready = database_pool.tables_in(pooled_url) if database_pool and pooled_url else frozenset()
        if schema and new_file:
            schema_templates.create_schema(app, tmp_path / "test.db")
        elif schema and not _holds_schema(app, ready):
            create_schema(app, app.extensions["conexoos"].settings)
        built.append(app)
        if pooled_url is not None:
            pooled[id(app)] = pooled_url
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
            model_tables = list(db.metadatas[None].tables) if None in db.metadatas else []
        if database_pool is not None and id(app) in pooled:
            database_pool.release(pooled[id(app)], model_tables)
