"""MariaDB's column types without SQLAlchemy's MySQL dialect (framework/mariadb_types.py): the DDL each
backend gets, and copies of the types (SQLAlchemy adapts and copies them per dialect)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import TypeEngine

from conexoos.framework.mariadb_types import CollatedString, LongBlob, MediumText

TYPES: dict[str, TypeEngine[object]] = {
    "note": MediumText(),
    "data": LongBlob(),
    "code": CollatedString(40, mariadb_charset="utf8mb4", mariadb_collation="utf8mb4_nopad_bin"),
}
EXPECTED = {
    "mysql": ("MEDIUMTEXT", "LONGBLOB", "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"),
    "mariadb": ("MEDIUMTEXT", "LONGBLOB", "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"),
    "postgresql": ("TEXT", "BYTEA", "VARCHAR(40)"),
    "sqlite": ("TEXT", "BLOB", "VARCHAR(40)"),
}
DIALECTS: dict[str, Dialect] = {
    "mysql": mysql.dialect(),
    "mariadb": make_url("mariadb+pymysql://").get_dialect()(),
    "postgresql": postgresql.dialect(),
    "sqlite": sqlite.dialect(),
}


def _table(metadata: MetaData) -> Table:
    columns = [Column(name, type_, nullable=False) for name, type_ in TYPES.items()]
    return Table("typed", metadata, Column("id", Integer, primary_key=True), *columns)


@pytest.mark.parametrize("dialect", sorted(EXPECTED))
def test_each_backend_gets_its_own_column_types(dialect: str) -> None:
    assert DIALECTS[dialect].name == dialect
    ddl = str(CreateTable(_table(MetaData())).compile(dialect=DIALECTS[dialect]))

    for name, expected in zip(TYPES, EXPECTED[dialect], strict=True):
        assert f"\t{name} {expected} NOT NULL" in ddl


@pytest.mark.parametrize("dialect", sorted(EXPECTED))
def test_a_copied_or_adapted_type_keeps_its_mariadb_form(dialect: str) -> None:
    copied = _table(MetaData()).to_metadata(MetaData())
    compiler = DIALECTS[dialect].type_compiler_instance

    for name, expected in zip(TYPES, EXPECTED[dialect], strict=True):
        type_ = copied.c[name].type
        assert compiler.process(type_.copy()) == expected
        assert compiler.process(type_.adapt(type(type_))) == expected
        type_.dialect_impl(DIALECTS[dialect])  # what binding a value on that backend makes
