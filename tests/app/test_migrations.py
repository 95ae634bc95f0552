"""The product's migration history: revision 0001 is release 0.1.0, and head is the models.

Marked ``database_matrix``: the fast suite runs them on SQLite, CI again on PostgreSQL and MariaDB.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import MetaData, Table, create_engine, text

from conexoos.app.models.persistent.base import NEVER_REUSE_IDS_INFO
from conexoos.framework import db, migrations
from tests.conftest import TEST_DATABASE, AppFactory
from tests.fixtures.empty_database import database_url, empty_product_app
from tests.fixtures.schema_snapshot import describe_schema

pytestmark = pytest.mark.database_matrix

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fixtures" / "schema_0_1_0"


@pytest.fixture
def empty_app(make_app: AppFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with empty_product_app(make_app, tmp_path_factory) as app:
        yield app


PRODUCT_MODULES = ("conexoos.app.", "conexoos.framework.mail.", "conexoos.framework.plugins.")
"""The product's models, and the framework's tables it ships: the mail outbox (0003), plugin_state (0016)."""


def product_metadata() -> MetaData:
    """The product's tables only: test modules declare models of their own on the same shared ``db``."""
    metadata = MetaData()
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table
        if mapper.class_.__module__.startswith(PRODUCT_MODULES) and isinstance(table, Table):
            table.to_metadata(metadata)
    return metadata


def test_the_product_ships_its_history_for_the_default_connection_whatever_its_name(empty_app: Flask) -> None:
    app = empty_app
    with migrations.migration_target(app) as target:
        assert target.name == "main"
        assert target.versions.parts[-3:] == ("migrations", "default", "versions")
        assert (target.versions / "0001_release_0_1_0.py").is_file()
        assert target.has_scripts()


def test_revision_0001_creates_exactly_the_schema_of_release_0_1_0(empty_app: Flask) -> None:
    """Same tables, columns, types, keys, indexes, and the same DDL as 0.1.0's create_all made.

    The reference is what ``tests/fixtures/make_schema_0_1_0.py`` recorded from the 0.1.0 source itself.
    """
    app = empty_app
    with migrations.migration_target(app) as target:
        migrations.upgrade(target, "0001")
    engine = create_engine(database_url(app))
    try:
        made = json.loads(json.dumps(describe_schema(engine)))
    finally:
        engine.dispose()
    recorded = json.loads((SNAPSHOTS / f"{TEST_DATABASE}.json").read_text())
    assert sorted(made["tables"]) == sorted(recorded["tables"])
    for table, description in recorded["tables"].items():
        assert made["tables"][table] == description, table
    assert made["ddl"] == recorded["ddl"]
    assert made.get("sequences") == recorded.get("sequences")


def differences_from_the_models(target: migrations.MigrationTarget) -> list[object]:
    """What Alembic's comparison finds between the database and the product's models."""
    with target.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": migrations.include_object}
        )
        return list(compare_metadata(context, product_metadata()))


def test_head_matches_the_models(empty_app: Flask) -> None:
    """A model changed without a revision (or a revision that differs from its model) fails here."""
    app = empty_app
    with migrations.migration_target(app) as target:
        migrations.upgrade(target)
        assert set(migrations.current_revisions(target)) == set(migrations.head_revisions(target))
        differences = differences_from_the_models(target)
    assert differences == []


def test_the_comparison_with_the_models_still_sees_a_table_no_model_names(empty_app: Flask) -> None:
    """``db migrate`` never scripts a DROP of a table no model names; the comparison above must still find
    one (a revision that creates a table whose model was removed, or never drops it)."""
    app = empty_app
    with migrations.migration_target(app) as target:
        migrations.upgrade(target)
        with target.engine.begin() as connection:
            connection.execute(text("CREATE TABLE stray_table (id INTEGER PRIMARY KEY)"))
        differences = differences_from_the_models(target)
    assert [(kind, table.name) for kind, table in differences] == [("remove_table", "stray_table")]


def never_reuse_ids_tables() -> list[str]:
    """The product's tables whose models ask SQLite for ``AUTOINCREMENT`` (NEVER_REUSE_IDS)."""
    tables = product_metadata().tables.values()
    return sorted(table.name for table in tables if table.info.get(NEVER_REUSE_IDS_INFO))


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="AUTOINCREMENT is SQLite's; sequences never reuse ids")
def test_head_keeps_autoincrement_on_every_table_whose_model_asks_for_it(empty_app: Flask) -> None:
    """Alembic's comparison ignores ``sqlite_autoincrement``: a batch operation that recreates such a table
    without it (SQLite would then give a deleted row's id to the next row) fails here."""
    app = empty_app
    marked = never_reuse_ids_tables()
    assert {"user", "user_link", "product", "page_block"} <= set(marked)
    with migrations.migration_target(app) as target:
        migrations.upgrade(target)
        with target.engine.connect() as connection:
            query = text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            ddl = dict(connection.execute(query).all())
    assert [name for name in marked if "AUTOINCREMENT" not in ddl[name].upper()] == []


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="AUTOINCREMENT is SQLite's; sequences never reuse ids")
def test_create_all_asks_for_autoincrement_where_the_model_does(tmp_path: Path) -> None:
    """The models say NEVER_REUSE_IDS in the tables' ``info``: ``create_all`` on SQLite (the test fixtures',
    ``create_schema``'s) turns it into ``AUTOINCREMENT``, and nothing else gets it."""
    engine = create_engine(f"sqlite:///{tmp_path / 'all.db'}")
    product_metadata().create_all(bind=engine)
    with engine.connect() as connection:
        query = text("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'")
        ddl = dict(connection.execute(query).all())
    engine.dispose()
    assert (
        sorted(name for name, sql in ddl.items() if "AUTOINCREMENT" in sql.upper())
        == never_reuse_ids_tables()
    )


def test_the_test_fixtures_create_all_agrees_with_the_migrations(empty_app: Flask) -> None:
    """The fixtures build tables with create_all for speed: that schema must be the migrations' head."""
    app = empty_app
    metadata = product_metadata()
    with migrations.migration_target(app) as target:
        metadata.create_all(bind=target.engine)
        note = migrations.adopt_unversioned(replace(target, metadata=metadata))
        assert "recorded as revision" in note
        assert set(migrations.current_revisions(target)) == set(migrations.head_revisions(target))


def test_every_revision_file_ships_in_the_package() -> None:
    """pyproject's package-data for conexoos.app must match each version file (they are not a package)."""
    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data["conexoos.app"]
    app = root / "src" / "conexoos" / "app"
    scripts = [path.relative_to(app).as_posix() for path in (app / "migrations").rglob("*.py")]
    assert "migrations/default/versions/0001_release_0_1_0.py" in scripts
    for script in scripts:
        assert any(fnmatch.fnmatch(script, pattern) for pattern in patterns), script
