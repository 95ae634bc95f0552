"""Serving refuses a database at head that lacks a table or a column of the models: a table a model puts in
an explicit schema is looked for in that schema, and column names are compared as the database compares
them (exactly on PostgreSQL, in any case on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, make_url, text
from sqlalchemy.engine import Engine

from conexoos.framework.config import DatabaseSettings
from conexoos.framework.migrations import (
    MigrationTarget,
    SchemaNotReady,
    _require_model_columns,
    _require_model_tables,
)
from tests.support.services import fresh_database

MODELS = frozenset({"note", "plain"})


def models() -> MetaData:
    """A model in the schema ``shelf`` with a mixed-case column, and one in the default schema."""
    metadata = MetaData()
    Table(
        "note", metadata, Column("id", Integer, primary_key=True), Column("userName", String), schema="shelf"
    )
    Table("plain", metadata, Column("id", Integer, primary_key=True), Column("Title", String))
    return metadata


def target(engine: Engine, tmp_path: Path) -> MigrationTarget:
    settings = DatabaseSettings("main", engine.url, readonly=False, models="", is_default=True)
    return MigrationTarget(settings, engine, models(), tmp_path)


@pytest.fixture
def postgresql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_database("postgresql", tmp_path_factory) as url:
        engine = create_engine(make_url(url))
        try:
            yield engine
        finally:
            engine.dispose()


def run(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@pytest.mark.services
def test_a_table_in_an_explicit_schema_is_checked_there(postgresql: Engine, tmp_path: Path) -> None:
    """The checks looked in the default schema only: a same-named table there (another app's) passed for
    the model's, whose own table lacked a column; one missing altogether was named without its schema."""
    run(
        postgresql,
        "CREATE SCHEMA shelf",
        'CREATE TABLE public.note (id integer PRIMARY KEY, "userName" text)',  # not the model's table
        "CREATE TABLE shelf.note (id integer PRIMARY KEY)",
        'CREATE TABLE plain (id integer PRIMARY KEY, "Title" text)',
    )
    checked = target(postgresql, tmp_path)
    _require_model_tables(checked, MODELS)
    with pytest.raises(SchemaNotReady) as lacking:
        _require_model_columns(checked, MODELS)
    assert "lacks columns of the models (shelf.note.userName)" in str(lacking.value)
    run(postgresql, "DROP TABLE shelf.note")
    with pytest.raises(SchemaNotReady) as missing:
        _require_model_tables(checked, MODELS)
    assert "lacks tables of the models (shelf.note)" in str(missing.value)


@pytest.mark.services
def test_postgresql_column_names_are_compared_exactly(postgresql: Engine, tmp_path: Path) -> None:
    """SQLAlchemy quotes a mixed-case name: "userName" is not the column username, and every query naming
    the model's column failed on a database the check had passed."""
    run(
        postgresql,
        "CREATE SCHEMA shelf",
        'CREATE TABLE shelf.note (id integer PRIMARY KEY, "userName" text)',
        "CREATE TABLE plain (id integer PRIMARY KEY, title text)",
    )
    with pytest.raises(SchemaNotReady) as lacking:
        _require_model_columns(target(postgresql, tmp_path), MODELS)
    assert "lacks columns of the models (plain.Title)" in str(lacking.value)


def test_sqlite_column_names_are_compared_in_any_case(tmp_path: Path) -> None:
    """SQLite compares column names ignoring case: ``title`` is the model's ``Title``."""
    engine = create_engine(f"sqlite:///{tmp_path / 'site.db'}")
    run(engine, "CREATE TABLE plain (id integer PRIMARY KEY, title text)")
    try:
        _require_model_columns(target(engine, tmp_path), frozenset({"plain"}))
        run(engine, "ALTER TABLE plain RENAME COLUMN title TO heading")
        with pytest.raises(SchemaNotReady) as lacking:
            _require_model_columns(target(engine, tmp_path), frozenset({"plain"}))
    finally:
        engine.dispose()
    assert "lacks columns of the models (plain.Title)" in str(lacking.value)
