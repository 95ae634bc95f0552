"""SQLite tables whose ids are never reused keep AUTOINCREMENT through the migrations (revisions 0022,
0024). Marked ``database_matrix``: 0024 must change nothing on PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import Column, Integer, MetaData, Table, column, create_engine, select, table, text

from conexoos.framework import db
from tests.conftest import TEST_DATABASE
from tests.fixtures.empty_database import database_url, migrate
from tests.fixtures.schema_snapshot import describe_schema

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]
sqlite_only = pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="AUTOINCREMENT and its loss are SQLite's")

NOW = datetime(2026, 12, 3, 6, 0)
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email": "ana@example.com", "username": "ana"},
}
LINK_ROW = {"owner_id": 1, "url": "https://ana.example.com/", "order_index": 0, "enabled": True}
PRODUCT_ROW = {
    **{"owner_id": 1, "title": "E-book", "description": "", "price": 1990, "currency": "BRL"},
    **{"image": "", "buy_url": "https://pay.example.com/", "enabled": True, "order_index": 0},
    **{"created_at": NOW, "updated_at": NOW},
}
BLOCK_ROW = {"owner_id": 1, "position": 0, "enabled": True, "data": "{}", "created_at": NOW}
KEPT = {
    "user": ("id", "username"),
    "user_link": ("id", "title", "owner_id"),
    "product": ("id", "title", "owner_id"),
    "page_block": ("id", "kind", "link_id", "product_id"),
    "capture_entry": ("id", "block_id", "email"),
}


def execute(app: Flask, statement: Any, values: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement in the app's session (foreign keys on, as the site runs) and commit."""
    with app.app_context():
        result = db.session.execute(statement, values or {})
        found = [tuple(row) for row in result] if result.returns_rows else []
        db.session.commit()
    return found


def insert(app: Flask, name: str, row: dict[str, Any]) -> int:
    """Insert ``row`` into ``name``; its new id."""
    with app.app_context():
        target = Table(
            name, MetaData(), Column("id", Integer, primary_key=True), *(Column(key) for key in row)
        )
        statement = target.insert().values(**row)
        new_id = db.session.execute(statement).inserted_primary_key[0]
        db.session.commit()
    return int(new_id)


def rows(app: Flask, name: str) -> list[tuple[Any, ...]]:
    return execute(app, select(*(column(key) for key in KEPT[name])).select_from(table(name)).order_by("id"))


def sqlite_ddl(app: Flask, kind: str = "table") -> dict[str, str]:
    """Every table's (or index's) ``CREATE`` statement, by name."""
    query = text("SELECT name, sql FROM sqlite_master WHERE type = :kind AND sql IS NOT NULL")
    return dict(execute(app, query, {"kind": kind}))


def sequence(app: Flask, name: str) -> int | None:
    found = execute(app, text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": name})
    return found[0][0] if found else None


def fill(app: Flask, links: int) -> None:
    """An account with ``links`` links, a product, a block for each, and a capture entry."""
    insert(app, "user", USER_ROW)
    for number in range(1, links + 1):
        link = {**LINK_ROW, "title": f"Link {number}", "created_at": NOW, "updated_at": NOW}
        insert(app, "page_block", {**BLOCK_ROW, "kind": "link", "link_id": insert(app, "user_link", link)})
    product = insert(app, "product", PRODUCT_ROW)
    block = insert(app, "page_block", {**BLOCK_ROW, "kind": "product", "product_id": product})
    entry = {"owner_id": 1, "block_id": block, "name": "Vic", "email": "vic@example.com", "created_at": NOW}
    insert(app, "capture_entry", entry)


def rebuild_as_before_the_fix(app: Flask, *names: str) -> None:
    """Rebuild tables from reflection as the unfixed 0022 did (no table_kwargs): AUTOINCREMENT is lost."""
    engine = create_engine(database_url(app))  # without the app's pragmas: foreign keys off
    try:
        with engine.begin() as connection:
            operations = Operations(MigrationContext.configure(connection))
            for name in names:
                with operations.batch_alter_table(name, recreate="always"):
                    pass
    finally:
        engine.dispose()


@sqlite_only
def test_0024_rebuilds_the_tables_an_earlier_upgrade_left_without_autoincrement(app: Flask) -> None:
    migrate(app, "up", "0023")
    fill(app, links=3)
    lost = ("user", "user_link", "product")
    rebuild_as_before_the_fix(app, *lost)
    before, indexes = sqlite_ddl(app), sqlite_ddl(app, "index")
    assert [name for name in lost if "AUTOINCREMENT" in before[name]] == []
    assert sequence(app, "user_link") is None
    kept = {name: rows(app, name) for name in KEPT}

    migrate(app, "up", "0024")
    after = sqlite_ddl(app)
    assert [name for name in lost if "AUTOINCREMENT" not in after[name]] == []
    assert {name: rows(app, name) for name in KEPT} == kept  # every row, id and reference
    assert sqlite_ddl(app, "index") == indexes
    for name in set(before) - set(lost):
        assert after[name] == before[name], name
    assert sequence(app, "user_link") == 3
    assert execute(app, text("PRAGMA foreign_key_check")) == []

    assert execute(app, text("PRAGMA foreign_keys")) == [(1,)]  # back on for the site
    execute(app, text("DELETE FROM user_link WHERE id = 3"))
    assert [row[2] for row in rows(app, "page_block")] == [1, 2, None]  # its block went with it
    assert insert(app, "user_link", {**LINK_ROW, "title": "New", "created_at": NOW, "updated_at": NOW}) == 4


@sqlite_only
def test_0024_goes_through_after_an_earlier_try_left_its_copy_of_a_table(app: Flask) -> None:
    """A refused or interrupted 0024 rolls back, but SQLite had already committed the batch's
    ``CREATE TABLE _alembic_tmp_<name>`` (pysqlite opens no transaction for DDL): the next upgrade drops
    that copy and goes through instead of failing on "table already exists"."""
    migrate(app, "up", "0023")
    fill(app, links=2)
    rebuild_as_before_the_fix(app, "user_link")
    execute(app, text("CREATE TABLE _alembic_tmp_user_link (id INTEGER PRIMARY KEY, title VARCHAR)"))
    kept = {name: rows(app, name) for name in KEPT}
    migrate(app, "up", "0024")
    assert "AUTOINCREMENT" in sqlite_ddl(app)["user_link"]
    assert "_alembic_tmp_user_link" not in sqlite_ddl(app)
    assert {name: rows(app, name) for name in KEPT} == kept


@sqlite_only
def test_0022_keeps_every_link_block_and_the_highest_link_id_ever_given(app: Flask) -> None:
    migrate(app, "up", "0021")
    insert(app, "user", USER_ROW)
    for number in (1, 2):
        link = {**LINK_ROW, "title": f"Link {number}", "created_at": NOW, "updated_at": NOW}
        insert(app, "page_block", {**BLOCK_ROW, "kind": "link", "link_id": insert(app, "user_link", link)})
    execute(app, text("DELETE FROM user_link WHERE id = 2"))  # the highest id given is 2, the highest row 1

    migrate(app, "up", "0022")
    assert execute(app, text("SELECT id, link_id FROM page_block")) == [(1, 1)]
    assert "AUTOINCREMENT" in sqlite_ddl(app)["user_link"]
    assert sequence(app, "user_link") == 2
    assert execute(app, text("PRAGMA foreign_keys")) == [(1,)]
    new = {**LINK_ROW, "title": "New", "created_at": NOW, "updated_at": NOW, "sensitive": False}
    assert insert(app, "user_link", new) == 3

    migrate(app, "down", "0021")
    assert execute(app, text("SELECT id, link_id FROM page_block")) == [(1, 1)]
    assert "AUTOINCREMENT" in sqlite_ddl(app)["user_link"]
    assert sequence(app, "user_link") == 3


def test_0024_changes_nothing_where_ids_are_never_reused_already(app: Flask) -> None:
    """PostgreSQL and MariaDB (sequences, AUTO_INCREMENT), and SQLite tables that have AUTOINCREMENT."""
    migrate(app, "up", "0023")
    fill(app, links=2)
    engine = create_engine(database_url(app))
    try:
        schema = describe_schema(engine)
        kept = {name: rows(app, name) for name in KEPT}
        migrate(app, "up", "0024")
        assert describe_schema(engine) == schema
        assert {name: rows(app, name) for name in KEPT} == kept
    finally:
        engine.dispose()
    execute(app, text("DELETE FROM user_link WHERE id = 2"))
    assert insert(app, "user_link", {**LINK_ROW, "title": "New", "created_at": NOW, "updated_at": NOW}) == 3


def test_0025_gives_links_and_products_that_lost_their_block_one_at_the_end_of_the_page(app: Flask) -> None:
    """What the unfixed 0022 left on SQLite (every link's block deleted by the cascade): each link gets its
    block again, after the owner's other blocks, in the links' order; blocks that are there stay as they
    are, and a second upgrade path that lost nothing adds nothing (checked on every database)."""
    migrate(app, "up", "0024")
    fill(app, links=3)  # blocks 1-3 for links 1-3, block 4 for the product
    header = {**BLOCK_ROW, "kind": "header", "position": 7, "data": '{"text": "Hi"}'}
    insert(app, "page_block", header)
    execute(app, text("UPDATE user_link SET order_index = 3 - id"))  # the page shows 3, 2, 1
    execute(app, text("DELETE FROM page_block WHERE link_id IN (1, 3)"))  # as the cascade did
    before = execute(app, text("SELECT id, kind, position, link_id, product_id FROM page_block ORDER BY id"))

    migrate(app, "up", "0025")
    after = execute(app, text("SELECT id, kind, position, link_id, product_id FROM page_block ORDER BY id"))
    assert after[: len(before)] == before  # nothing there moved
    added = [
        (kind, position, link_id, product_id)
        for _, kind, position, link_id, product_id in after[len(before) :]
    ]
    assert added == [("link", 8, 3, None), ("link", 9, 1, None)]  # after the header at 7, in page order
    assert execute(app, text("SELECT COUNT(*) FROM page_block WHERE enabled = :on"), {"on": True}) == [(5,)]

    migrate(app, "down", "0024")
    migrate(app, "up", "0025")  # nothing lacks a block now: nothing added
    assert len(execute(app, text("SELECT id FROM page_block"))) == len(after)
