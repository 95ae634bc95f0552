"""Revision 0023: ``capture_entry`` comes (no existing row changes, capture blocks need no schema change)
and goes. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, table
from sqlalchemy.exc import IntegrityError

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 3, 6, 0)
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email": "ana@example.com", "username": "ana"},
}
BLOCK_ROW = {
    "owner_id": 1,
    "kind": "capture",
    "position": 0,
    "enabled": True,
    "data": '{"title": "News"}',
    "created_at": NOW,
}
ENTRY_ROW = {"owner_id": 1, "block_id": 1, "name": "Vic", "email": "vic@example.com", "created_at": NOW}


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.inspect(db.engine).get_table_names())


def insert(app: Flask, name: str, row: dict[str, object]) -> None:
    with app.app_context():
        db.session.execute(table(name, *(column(c) for c in row)).insert().values(**row))
        db.session.commit()


def test_0023_adds_the_entries_table_keeping_every_row_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0022")
    insert(app, "user", USER_ROW)
    insert(app, "page_block", BLOCK_ROW)
    assert "capture_entry" not in tables(app)

    migrate(app, "up", "0023")
    assert table_rows(app, "page_block", "kind", "data") == [("capture", '{"title": "News"}')]
    insert(app, "capture_entry", ENTRY_ROW)
    assert table_rows(app, "capture_entry", "name", "email", "confirmed_at", "token_hash") == [
        ("Vic", "vic@example.com", None, None)
    ]
    with pytest.raises(IntegrityError):  # one entry per (owner, address)
        insert(app, "capture_entry", {**ENTRY_ROW, "name": "Again"})

    migrate(app, "down", "0022")
    assert "capture_entry" not in tables(app)
    assert table_rows(app, "user", "username") == [("ana",)]
    assert table_rows(app, "page_block", "kind") == [("capture",)]
    migrate(app, "up", "0023")
    assert table_rows(app, "capture_entry", "email") == []
