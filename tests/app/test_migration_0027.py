"""Revision 0027: ``hidden_address`` comes, filled from the links, social icons and embeds staff hid
before it, with ``product.hidden_by_staff`` (false), and both go without touching the rest.
Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import column, inspect, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 5, 6, 0)
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": ""},
}
LINK = {"order_index": 0, "enabled": False, "blocked": False, "sensitive": False, "password_hash": ""}


def insert(name: str, **values: object) -> None:
    if name == "page_block":
        values = {"enabled": True, "created_at": NOW, **values}
    db.session.execute(table(name, *(column(key) for key in values)).insert().values(**values))


def block(block_id: int, owner_id: int, kind: str, fields: dict[str, Any]) -> None:
    insert(
        "page_block", id=block_id, owner_id=owner_id, kind=kind, position=block_id, data=json.dumps(fields)
    )


def seed(app: Flask) -> None:
    """Ana: a link hidden by staff and one not; a row with an icon hidden (and a profile kept hidden),
    an embed hidden, one not, and a block whose data is no JSON. Bo: nothing hidden."""
    with app.app_context():
        insert("user", id=1, username="ana", email="ana@example.com", **USER)
        insert("user", id=2, username="bo", email="bo@example.com", **USER)
        for link_id, owner_id, url, hidden in (
            (1, 1, "https://phish.example/", True),
            (2, 1, "https://shop.example/", False),
            (3, 2, "https://phish.example/", False),
        ):
            fields = {
                "title": "T",
                "url": url,
                "hidden_by_staff": hidden,
                "created_at": NOW,
                "updated_at": NOW,
            }
            insert("user_link", id=link_id, owner_id=owner_id, **LINK, **fields)
        items = [
            {"network": "mastodon", "url": "https://phish.example/@a", "hidden_by_staff": True},
            {"network": "github", "url": "https://github.com/ana"},
        ]
        block(10, 1, "social", {"items": items, "hidden_addresses": ["phish.example/@a", "x.com/scam"]})
        block(11, 1, "embed", {"url": "https://youtu.be/dQw4w9WgXcQ", "hidden_by_staff": True})
        block(12, 1, "embed", {"url": "https://youtu.be/9bZkp7q19f0"})
        block(13, 2, "social", {"items": [{"network": "github", "url": "https://github.com/bo"}]})
        insert("page_block", id=14, owner_id=2, kind="social", position=14, data="not json")
        product = {"title": "P", "price": 100, "currency": "EUR", "buy_url": "https://shop.example/"}
        stamps = {"created_at": NOW, "updated_at": NOW, "image": "default.jpg", "description": ""}
        insert("product", id=5, owner_id=1, order_index=0, enabled=True, blocked=False, **product, **stamps)
        db.session.commit()


def test_0027_keeps_what_staff_hid_for_its_account_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0026")
    seed(app)

    migrate(app, "up", "0027")
    kept = table_rows(app, "hidden_address", "user_id", "kind", "address", "report_id")
    assert sorted(kept) == [
        (1, "embed", "https://youtu.be/dQw4w9WgXcQ", None),
        (1, "link", "https://phish.example/", None),
        (1, "social", "https://phish.example/@a", None),
        (1, "social", "https://x.com/scam", None),
    ]
    assert len(table_rows(app, "page_block", "id")) == 5 and len(table_rows(app, "user_link", "id")) == 3
    assert table_rows(app, "product", "id", "hidden_by_staff") == [(5, False)]

    migrate(app, "down", "0026")
    with app.app_context():
        assert "hidden_address" not in inspect(db.engine).get_table_names()
    assert table_rows(app, "user_link", "id", "hidden_by_staff") == [(1, True), (2, False), (3, False)]
    assert len(table_rows(app, "page_block", "id")) == 5
    with app.app_context():
        assert "hidden_by_staff" not in {found["name"] for found in inspect(db.engine).get_columns("product")}
    assert table_rows(app, "product", "id", "enabled") == [(5, True)]
