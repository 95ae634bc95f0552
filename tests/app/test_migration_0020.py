"""Revision 0020: ``page_block`` comes with one block per existing link and product (links first, then
products, each in their order; every id kept) and goes without touching them.
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
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": ""},
}
STAMPS = {"created_at": NOW, "updated_at": NOW}


def insert(name: str, **values: object) -> None:
    db.session.execute(table(name, *(column(key) for key in values)).insert().values(**values))


def seed(app: Flask) -> None:
    """Two owners; ana's links stored out of order (ids 7, 3, 9 with order 1, 0, 2) and two products."""
    with app.app_context():
        insert("user", id=1, username="ana", email="ana@example.com", **USER)
        insert("user", id=2, username="bo", email="bo@example.com", **USER)
        for link_id, owner_id, order_index in ((7, 1, 1), (3, 1, 0), (9, 1, 2), (4, 2, 0)):
            insert(
                "user_link",
                id=link_id,
                owner_id=owner_id,
                order_index=order_index,
                title=f"Link {link_id}",
                url=f"https://example.com/{link_id}",
                enabled=link_id != 9,
                **{"blocked": False, "hidden_by_staff": False},
                **STAMPS,
            )
        for product_id, order_index in ((5, 1), (2, 0)):
            insert(
                "product",
                id=product_id,
                owner_id=1,
                order_index=order_index,
                title=f"Product {product_id}",
                description="",
                price=100,
                currency="EUR",
                image="default_product.jpg",
                buy_url="https://shop.example",
                **{"enabled": True, "blocked": False},
                **STAMPS,
            )
        db.session.commit()


def blocks(app: Flask) -> list[tuple[object, ...]]:
    names = ("owner_id", "position", "kind", "link_id", "product_id", "enabled", "data")
    with app.app_context():
        found = db.session.execute(
            select(*(column(name) for name in names))
            .select_from(table("page_block"))
            .order_by(column("owner_id"), column("position"))
        ).all()
        db.session.rollback()
    return [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in found]


def items(app: Flask) -> list[tuple[object, ...]]:
    with app.app_context():
        found = [
            tuple(row)
            for name in ("user_link", "product")
            for row in db.session.execute(
                select(column("id"), column("owner_id"), column("order_index"), column("title"))
                .select_from(table(name))
                .order_by(column("id"))
            ).all()
        ]
        db.session.rollback()
    return found


EXPECTED = [
    (1, 0, "link", 3, None, 1, "{}"),
    (1, 1, "link", 7, None, 1, "{}"),
    (1, 2, "link", 9, None, 1, "{}"),  # a disabled link keeps its block: its own row says it is hidden
    (1, 3, "product", None, 2, 1, "{}"),
    (1, 4, "product", None, 5, 1, "{}"),
    (2, 0, "link", 4, None, 1, "{}"),
]


def test_0020_gives_every_link_and_product_a_block_in_page_order_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0019")
    seed(app)
    before = items(app)

    migrate(app, "up", "0020")
    assert blocks(app) == EXPECTED
    assert items(app) == before  # every link and product, with its id, owner, order and title
    migrate(app, "down", "0019")
    assert items(app) == before
    with app.app_context():
        assert "page_block" not in db.inspect(db.engine).get_table_names()
    migrate(app, "up", "0020")
    assert blocks(app) == EXPECTED


def test_0020_deleting_a_link_deletes_its_block(app: Flask) -> None:
    migrate(app, "up", "0019")
    seed(app)
    migrate(app, "up", "0020")
    with app.app_context():
        db.session.execute(table("user_link", column("id")).delete().where(column("id") == 7))
        db.session.commit()
    assert [row for row in blocks(app) if row[3] == 7] == []
    assert len(blocks(app)) == len(EXPECTED) - 1
