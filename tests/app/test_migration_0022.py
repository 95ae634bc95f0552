"""Revision 0022: ``user_link.sensitive``, ``password_hash`` and ``icon`` come (every existing link
unlocked, no icon) and go, links kept. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, select, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 6, 0)
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email": "ana@example.com", "username": "ana"},
}
LINK_ROWS = [
    {"title": "Shop", "url": "https://shop.example", "owner_id": 1, "order_index": 0, "enabled": False},
    {"title": "Blog", "url": "https://blog.example", "owner_id": 1, "order_index": 1, "enabled": True},
]
NEW_COLUMNS = ("sensitive", "password_hash", "icon")


def links(app: Flask, *columns: str) -> list[tuple[object, ...]]:
    with app.app_context():
        found = db.session.execute(
            select(*(column(name) for name in ("url", "enabled", *columns)))
            .select_from(table("user_link"))
            .order_by(column("url"))
        ).all()
        db.session.rollback()
    return [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in found]


def link_columns(app: Flask) -> set[str]:
    with app.app_context():
        return {c["name"] for c in db.inspect(db.engine).get_columns("user_link")}


def test_0022_keeps_every_link_unlocked_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0021")
    with app.app_context():
        db.session.execute(table("user", *(column(name) for name in USER_ROW)).insert().values(**USER_ROW))
        link = table("user_link", *(column(name) for name in (*LINK_ROWS[0], "created_at", "updated_at")))
        for row in LINK_ROWS:
            db.session.execute(link.insert().values(**row, created_at=NOW, updated_at=NOW))
        db.session.commit()

    migrate(app, "up", "0022")
    unlocked = [("https://blog.example", 1, 0, "", ""), ("https://shop.example", 0, 0, "", "")]
    assert links(app, *NEW_COLUMNS) == unlocked
    migrate(app, "down", "0021")
    assert links(app) == [("https://blog.example", 1), ("https://shop.example", 0)]
    assert not set(NEW_COLUMNS) & link_columns(app)
    migrate(app, "up", "0022")
    assert links(app, *NEW_COLUMNS) == unlocked
