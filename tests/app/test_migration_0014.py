"""Revision 0014: site pages, their revisions and the menus come and go; deleting a page takes its
revisions and menu entries, and ids of deleted pages are not reused. Marked ``database_matrix``."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import text

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 6, 0)
TABLES = {"site_page", "site_page_revision", "menu_item"}


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.inspect(db.engine).get_table_names())


def add_page(slug: str) -> int:
    db.session.execute(
        text(
            "INSERT INTO site_page (slug, title, description, social_image, body, status, created_at, "
            "updated_at) VALUES (:slug, 'Terms', '', '', '# Terms', 'draft', :at, :at)"
        ),
        {"slug": slug, "at": NOW},
    )
    return int(db.session.execute(text("SELECT id FROM site_page WHERE slug = :s"), {"s": slug}).scalar_one())


def test_0014_adds_pages_and_menus_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0013")
    assert not tables(app) & TABLES
    migrate(app, "up", "0014")
    assert tables(app) >= TABLES
    with app.app_context():
        page_id = add_page("terms")
        db.session.execute(
            text(
                "INSERT INTO site_page_revision (page_id, number, slug, title, description, social_image, "
                "body, status, note, created_at) VALUES (:p, 1, 'terms', 'Terms', '', '', '# Terms', "
                "'draft', '', :at)"
            ),
            {"p": page_id, "at": NOW},
        )
        db.session.execute(
            text(
                "INSERT INTO menu_item (menu, position, label, page_id, created_at) "
                "VALUES ('footer', 0, 'Terms', :p, :at)"
            ),
            {"p": page_id, "at": NOW},
        )
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA foreign_keys=ON"))
        db.session.execute(text("DELETE FROM site_page WHERE id = :p"), {"p": page_id})
        left = [
            db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
            for name in ("site_page_revision", "menu_item")
        ]
        assert left == [0, 0]
        assert add_page("privacy") > page_id  # a deleted page's id is never given again
        db.session.commit()

    migrate(app, "down", "0013")
    assert not tables(app) & TABLES
    migrate(app, "up", "0014")
    assert tables(app) >= TABLES


def test_0014_holds_a_long_page_text_on_every_database(app: Flask) -> None:
    """A page's Markdown is a MEDIUMTEXT on MariaDB, whose TEXT stops at 64 KB."""
    migrate(app, "up", "0014")
    body = "Größe 😀 " * 12_000  # 108,000 characters, about 250 KB of UTF-8
    with app.app_context():
        page_id = add_page("long")
        db.session.execute(text("UPDATE site_page SET body = :b WHERE id = :p"), {"b": body, "p": page_id})
        db.session.commit()
        stored = db.session.execute(
            text("SELECT body FROM site_page WHERE id = :p"), {"p": page_id}
        ).scalar_one()
        assert stored == body
