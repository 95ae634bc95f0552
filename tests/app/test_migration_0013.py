"""Revision 0013: reports, the domain blocklist and ``user_link.blocked`` come and go, links kept both ways.
Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, select, table, text

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 6, 0)
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email": "ana@example.com", "username": "ana"},
}
LINK_ROW = {"title": "Shop", "url": "https://shop.example", "owner_id": 1, "order_index": 0, "enabled": True}


def link_rows(app: Flask, *columns: str) -> list[tuple[object, ...]]:
    with app.app_context():
        found = db.session.execute(
            select(*(column(name) for name in ("url", *columns))).select_from(table("user_link"))
        ).all()
        db.session.rollback()
    return [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in found]


def test_0013_adds_moderation_and_goes_back_without_losing_a_link(app: Flask) -> None:
    migrate(app, "up", "0012")
    with app.app_context():
        db.session.execute(table("user", *(column(name) for name in USER_ROW)).insert().values(**USER_ROW))
        link = table("user_link", *(column(name) for name in (*LINK_ROW, "created_at", "updated_at")))
        db.session.execute(link.insert().values(**LINK_ROW, created_at=NOW, updated_at=NOW))
        db.session.commit()

    migrate(app, "up", "0013")
    assert link_rows(app, "blocked") == [("https://shop.example", 0)]
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO report (user_id, reason, details, reporter_network, snapshot, status, "
                "created_at, action) VALUES (1, 'spam', '', '203.0.113.0/24', '[]', 'open', :at, '')"
            ),
            {"at": NOW},
        )
        db.session.execute(
            text("INSERT INTO blocked_domain (domain, created_at) VALUES ('bad.example', :at)"), {"at": NOW}
        )
        db.session.commit()

    migrate(app, "down", "0012")
    assert link_rows(app) == [("https://shop.example",)]
    with app.app_context():
        tables = set(db.inspect(db.engine).get_table_names())
        link_columns = {c["name"] for c in db.inspect(db.engine).get_columns("user_link")}
        product_columns = {c["name"] for c in db.inspect(db.engine).get_columns("product")}
    assert not tables & {"report", "blocked_domain"}
    assert "blocked" not in link_columns and "blocked" not in product_columns

    migrate(app, "up", "0013")
    assert link_rows(app, "blocked") == [("https://shop.example", 0)]
