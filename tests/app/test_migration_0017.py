"""Revision 0017: ``user_link.hidden_by_staff`` comes (false for every existing link) and goes, links kept.
Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

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
LINK_ROW = {"title": "Shop", "url": "https://shop.example", "owner_id": 1, "order_index": 0, "enabled": False}


def links(app: Flask, *columns: str) -> list[tuple[object, ...]]:
    with app.app_context():
        found = db.session.execute(
            select(*(column(name) for name in ("url", "enabled", *columns))).select_from(table("user_link"))
        ).all()
        db.session.rollback()
    return [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in found]


def test_0017_marks_no_existing_link_as_hidden_by_staff_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0016")
    with app.app_context():
        db.session.execute(table("user", *(column(name) for name in USER_ROW)).insert().values(**USER_ROW))
        link = table("user_link", *(column(name) for name in (*LINK_ROW, "created_at", "updated_at")))
        db.session.execute(link.insert().values(**LINK_ROW, created_at=NOW, updated_at=NOW))
        db.session.commit()

    migrate(app, "up", "0017")
    assert links(app, "hidden_by_staff") == [("https://shop.example", 0, 0)]
    migrate(app, "down", "0016")
    assert links(app) == [("https://shop.example", 0)]
    with app.app_context():
        assert "hidden_by_staff" not in {c["name"] for c in db.inspect(db.engine).get_columns("user_link")}
    migrate(app, "up", "0017")
    assert links(app, "hidden_by_staff") == [("https://shop.example", 0, 0)]
