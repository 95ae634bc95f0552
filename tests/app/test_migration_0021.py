"""Revision 0021: ``page_appearance`` appears beside existing accounts (none loses a row), holds one row per
account, goes with its account, and a downgrade drops it without touching the accounts. Marked
``database_matrix``."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

from .test_migration_0002 import ALICE_0_1_0

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 18, 0)
INSERT = text(
    "INSERT INTO page_appearance (user_id, theme, background, background_color, button_style, "
    "corner_radius, font, avatar_shape, updated_at) "
    "VALUES (1, 'ocean', 'solid', '#fdf6e3', 'outline', 8, 'serif', 'square', :at)"
)


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.inspect(db.engine).get_table_names())


def count(app: Flask, table: str) -> int:
    with app.app_context():
        quoted = db.engine.dialect.identifier_preparer.quote(table)
        value = db.session.execute(text(f"SELECT COUNT(*) FROM {quoted}")).scalar_one()
        db.session.rollback()
    return int(value)


def test_0021_adds_page_appearance_beside_existing_accounts_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0001")
    with app.app_context():
        db.session.execute(ALICE_0_1_0)
        db.session.commit()
    migrate(app, "up", "0020")
    assert "page_appearance" not in tables(app)
    migrate(app, "up", "0021")
    assert "page_appearance" in tables(app) and count(app, "user") == 1
    with app.app_context():
        db.session.execute(INSERT, {"at": NOW})
        db.session.commit()
        row = db.session.execute(text("SELECT theme, corner_radius, font FROM page_appearance")).one()
        assert tuple(row) == ("ocean", 8, "serif")
        with pytest.raises(IntegrityError):  # one row per account
            db.session.execute(INSERT, {"at": NOW})
            db.session.commit()
        db.session.rollback()
    migrate(app, "down", "0020")
    assert "page_appearance" not in tables(app)
    assert count(app, "user") == 1  # the account stays
    migrate(app, "up", "0021")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA foreign_keys=ON"))
        db.session.execute(INSERT, {"at": NOW})
        db.session.commit()
        db.session.execute(
            text(f"DELETE FROM {db.engine.dialect.identifier_preparer.quote('user')} WHERE id = 1")
        )
        db.session.commit()
    assert count(app, "page_appearance") == 0  # ON DELETE CASCADE
